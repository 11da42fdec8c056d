"""The workflow reader's pure parts (explorer.backends.cosmos.workflows): which documents summarize an instance,
and the summary made from them — over documents daprd 1.18.2 really wrote (tests/unit/recorded/),
handed in as dicts; no Cosmos here (the queries are tested against the real stack in
tests/integration/test_cli_workflows.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.core.envelope import KeyPrefix, parse_document_id
from explorer.core.workflows.decode import decode_metadata
from explorer.core.workflows.schema import RuntimeStatus
from explorer.core.workflows.summary import InstanceRef, filter_instances
from explorer.core.workflows.values import WorkflowMetadata
from explorer.backends.cosmos.workflows import _bytes_of, summarize, wanted_ids

RECORDED = json.loads((Path(__file__).parent / "recorded" / "dapr-1.18.2-workflows.json").read_text())


def _instances() -> dict[str, tuple[InstanceRef, dict[str, dict]]]:
    found: dict[str, tuple[InstanceRef, dict[str, dict]]] = {}
    for document in RECORDED["documents"]:
        key = parse_document_id(document["id"], KeyPrefix.from_metadata(None))
        ref = InstanceRef(key.app_id, key.actor_id, document["partitionKey"], key.actor_type)
        found.setdefault(key.actor_id, (ref, {}))[1][document["id"]] = document
    return found


INSTANCES = _instances()


def _summary(instance: str, only_wanted: bool = True):
    ref, documents = INSTANCES[instance]
    metadata_item = documents[f"{ref.id_prefix}metadata"]
    if only_wanted:  # only what the reader would fetch
        metadata = decode_metadata(_bytes_of(metadata_item))
        documents = {i: documents[i] for i in wanted_ids(ref, metadata) if i in documents}
    return summarize(ref, metadata_item, documents)


@pytest.mark.parametrize("instance,status", sorted(RECORDED["statuses"].items()))
def test_the_summary_from_the_few_documents_fetched_gives_the_status_dapr_reported(instance, status):
    summary = _summary(instance)
    assert summary.status is RuntimeStatus[status]
    assert summary.name and summary.created is not None and summary.instance_id == instance
    assert summary.history_length > 0


def test_a_failed_instance_says_why_from_its_tail():
    summary = _summary("rec-failed")
    assert summary.failure is not None and "card declined" in summary.failure.message
    assert summary.failure.stack_trace and "charge_card" in summary.failure.stack_trace


def test_the_custom_status_is_read_as_the_app_set_it():
    assert _summary("rec-completed").custom_status == "inventory reserved"


def test_wanted_ids_name_the_start_the_tail_and_the_custom_status_and_no_more():
    ref, _ = INSTANCES["rec-completed"]
    ids = wanted_ids(ref, WorkflowMetadata(0, 40, 1, 0, 0, 0, "WorkflowStateMetadata", ()))
    suffixes = [i[len(ref.id_prefix):] for i in ids]
    assert suffixes[:3] == ["customStatus", "history-000000", "history-000001"]
    assert suffixes[-1] == "history-000039" and len(set(ids)) == len(ids) <= 3 + 16
    pending = wanted_ids(ref, WorkflowMetadata(1, 0, 1, 0, 0, 0, "WorkflowStateMetadata", ()))
    assert [i[len(ref.id_prefix):] for i in pending] == ["customStatus", "inbox-000000"]


def test_filters_pick_by_status_any_case_and_by_name_substring():
    summaries = [_summary(i) for i in RECORDED["statuses"]]
    failed = filter_instances(summaries, ["failed"])
    assert [s.instance_id for s in failed] == ["rec-failed"]
    assert {s.status for s in filter_instances(summaries, ["Completed", "terminated"])} == {
        RuntimeStatus.COMPLETED, RuntimeStatus.TERMINATED}
    some = summaries[0].name[1:4].upper()
    assert all(some.casefold() in s.name.casefold() for s in filter_instances(summaries, name=some))
    assert filter_instances(summaries, app_id="nobody") == []


def test_each_instance_is_last_updated_when_its_own_metadata_was_saved_not_when_the_page_was():
    """`summarize` is handed the documents of a whole page of instances: another instance's newer
    documents must not make this one look updated."""
    ref, documents = INSTANCES["rec-completed"]
    metadata_item = dict(documents[f"{ref.id_prefix}metadata"], _ts=1_800_000_000)
    _, others = INSTANCES["rec-running"]
    newer = {i: dict(d, _ts=1_900_000_000) for i, d in others.items()}
    summary = summarize(ref, metadata_item, {**documents, **newer})
    assert summary.last_updated is not None and summary.last_updated.timestamp() == 1_800_000_000
