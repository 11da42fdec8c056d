"""Dapr workflow instances and their histories, read from a workflow store's Cosmos container.

What it is for: the workflows view and `dapr-explorer workflows` / `workflow`. Dapr cannot list
instances on Cosmos DB (its `ListInstanceIDs` needs a store that lists keys by prefix), so the
instances are found here by querying for their `metadata` documents, a page at a time; for each
page one more query fetches, per instance, its first history event (name, input, created), its
last `TAIL_LENGTH` events (runtime status, failure) and its custom status. A timeline is read a
page at a time in `history-NNNNNN` order. Decoding is `explorer.core.workflows`'.

What it must never do: write; read every item of a container (only the metadata documents and the
few documents a page names); hold more than the page it is asked for.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from explorer.core.envelope import KeyKind, KeyPrefix, StateKey, parse_document_id
from explorer.core.model import StoreLocation, partition_of, whole_number
from explorer.core.workflows.decode import decode_workflow_part
from explorer.core.workflows.summary import TAIL_LENGTH, InstanceRef, InstanceSummary, summarize_instance
from explorer.core.workflows.values import DecodedPart, WorkflowEvent, WorkflowMetadata
from explorer.backends.cosmos.lister import CosmosLister
from explorer.errors import NotFound, UsageError

#: A workflow's metadata document: `<app>||dapr.internal.<ns>.<app>.workflow||<instance>||metadata`.
#: (`value` is a keyword of Cosmos SQL, hence c["value"].)
METADATA_QUERY = ('SELECT c.id, c.partitionKey, c["value"], c.isBinary, c._ts FROM c '
                  'WHERE ENDSWITH(c.id, "||metadata") AND CONTAINS(c.id, ".workflow||")')
#: Ids per `IN (…)` query when a page's instances are filled in.
IDS_PER_QUERY = 100
INSTANCE_PAGE = 50
TIMELINE_PAGE = 100


@dataclass(frozen=True)
class InstancePage:
    """One page of instances (in the order Cosmos returns their metadata documents)."""

    instances: tuple[InstanceSummary, ...]
    continuation: str | None
    request_charge: float
    metadata_documents: int  # read for this page (instances plus any that were not workflow state)


@dataclass(frozen=True)
class TimelineEntry:
    """One history or inbox document of an instance, decoded, with what opens it as a raw key."""

    doc_id: str
    partition: str
    etag: str
    ts: int
    part: DecodedPart


@dataclass(frozen=True)
class TimelinePage:
    entries: tuple[TimelineEntry, ...]
    continuation: str | None
    request_charge: float


def _bytes_of(item: dict[str, Any]) -> bytes:
    """The protobuf bytes of a workflow document (Dapr stores them base64, isBinary true)."""
    value = item.get("value")
    if item.get("isBinary") is True and isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except ValueError:
            return value.encode("utf-8", "surrogatepass")
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    return b""


def _timestamp(ts: object) -> datetime | None:
    seconds = whole_number(ts)
    return datetime.fromtimestamp(seconds, timezone.utc) if seconds is not None else None


def _workflow_key(item: dict[str, Any]) -> StateKey | None:
    key = parse_document_id(str(item.get("id", "")), KeyPrefix.from_metadata(None))
    return key if key.kind is KeyKind.WORKFLOW else None


def _ref(key: StateKey, item: dict[str, Any]) -> InstanceRef:
    assert key.app_id is not None and key.actor_type is not None and key.actor_id is not None
    return InstanceRef(key.app_id, key.actor_id, partition_of(item), key.actor_type)


def _history_id(ref: InstanceRef, part: str, sequence: int) -> str:
    return f"{ref.id_prefix}{part}-{sequence:06d}"


def _tail_range(history: int) -> range:
    """The last TAIL_LENGTH history entries, never entries 0 and 1 (fetched as the start)."""
    return range(max(2, history - TAIL_LENGTH), history)


def wanted_ids(ref: InstanceRef, metadata: WorkflowMetadata | None) -> list[str]:
    """The documents that summarize an instance: its start (history-000000 and -000001: every turn
    opens with a WorkflowStarted, so ExecutionStarted is entry 1 in Dapr's histories; inbox-000000
    while nothing has run), its last TAIL_LENGTH history entries, and customStatus."""
    ids = [f"{ref.id_prefix}customStatus"]
    history = metadata.history_length if metadata else 0
    if history:
        ids.extend(_history_id(ref, "history", n) for n in range(min(history, 2)))
        ids.extend(_history_id(ref, "history", n) for n in _tail_range(history))
    else:
        ids.append(_history_id(ref, "inbox", 0))
    return ids


def _event(found: dict[str, dict[str, Any]], doc_id: str) -> WorkflowEvent | None:
    item = found.get(doc_id)
    if item is None:
        return None
    part = decode_workflow_part(doc_id.rsplit("||", 1)[1], _bytes_of(item))
    return part.value if isinstance(part.value, WorkflowEvent) else None


def summarize(ref: InstanceRef, metadata_item: dict[str, Any], found: dict[str, dict[str, Any]]) -> InstanceSummary:
    """An instance's summary from its metadata document and the documents `wanted_ids` named."""
    decoded = decode_workflow_part("metadata", _bytes_of(metadata_item))
    metadata = decoded.value if isinstance(decoded.value, WorkflowMetadata) else None
    history = metadata.history_length if metadata else 0
    start = [e for n in range(min(history, 2)) if (e := _event(found, _history_id(ref, "history", n))) is not None]
    if not history:
        start = [e for e in [_event(found, _history_id(ref, "inbox", 0))] if e is not None]
    first = next((e for e in start if e.type == "ExecutionStarted"), start[0] if start else None)
    tail = [e for e in start if e is not first]
    tail += [e for n in _tail_range(history) if (e := _event(found, _history_id(ref, "history", n))) is not None]
    status_item = found.get(f"{ref.id_prefix}customStatus")
    custom = None
    if status_item is not None:
        part = decode_workflow_part("customStatus", _bytes_of(status_item))
        custom = part.value if isinstance(part.value, str) else None
    # daprd rewrites `metadata` on every save of the instance: its _ts is when the instance last changed
    # (`found` holds the documents of a whole page of instances, so it is no measure of this one's)
    updated = whole_number(metadata_item.get("_ts")) or 0
    return summarize_instance(ref.app_id, ref.instance_id, ref.partition, metadata, first, tail, custom,
                              _timestamp(updated) if updated else None)


class WorkflowReader:
    """Read-only queries for one workflow store (one container), through a CosmosLister."""

    def __init__(self, lister: CosmosLister, location: StoreLocation):
        self._lister = lister
        self._location = location

    async def _query(self, sql: str, parameters: list[dict[str, Any]] | None = None, partition: str | None = None,
                     continuation: str | None = None, page_size: int = 100, operation: str = "query"):
        loc = self._location
        return await self._lister.query_page(loc.database, loc.container, sql, parameters, partition, continuation,
                                             page_size, operation)

    async def _by_ids(self, ids: Sequence[str]) -> tuple[dict[str, dict[str, Any]], float]:
        """The documents with these ids (any partition), by id; and the request charge."""
        found: dict[str, dict[str, Any]] = {}
        charge = 0.0
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ids[start:start + IDS_PER_QUERY]
            names = [f"@i{n}" for n in range(len(chunk))]
            sql = (f'SELECT c.id, c.partitionKey, c["value"], c.isBinary, c._ts FROM c '
                   f'WHERE c.id IN ({", ".join(names)})')
            token: str | None = None
            while True:
                page = await self._query(sql, [{"name": n, "value": i} for n, i in zip(names, chunk)],
                                         continuation=token, page_size=len(chunk), operation="read instances")
                charge += page.request_charge
                for item in page.items:
                    found[str(item["id"])] = item
                token = page.continuation
                if not token:
                    break
        return found, charge

    async def instances_page(self, continuation: str | None = None, page_size: int = INSTANCE_PAGE) -> InstancePage:
        """One page of the store's workflow instances, summarized."""
        page = await self._query(METADATA_QUERY, continuation=continuation, page_size=page_size,
                                 operation="list workflow instances")
        refs: list[tuple[InstanceRef, dict[str, Any]]] = []
        ids: list[str] = []
        for item in page.items:
            key = _workflow_key(item)
            if key is None or key.workflow_part != "metadata":
                continue
            ref = _ref(key, item)
            decoded = decode_workflow_part("metadata", _bytes_of(item))
            metadata = decoded.value if isinstance(decoded.value, WorkflowMetadata) else None
            refs.append((ref, item))
            ids.extend(wanted_ids(ref, metadata))
        found, charge = await self._by_ids(ids) if ids else ({}, 0.0)
        instances = tuple(summarize(ref, item, found) for ref, item in refs)
        return InstancePage(instances, page.continuation, page.request_charge + charge, len(page.items))

    async def find_instance(self, instance_id: str, app_id: str | None = None) -> InstanceRef:
        """The instance with this id (of `app_id`, when given); NotFound, or a UsageError naming the
        apps when several run an instance of that id."""
        if not instance_id or "||" in instance_id:
            raise UsageError(f"{instance_id!r} is not a workflow instance id")
        page = await self._query('SELECT c.id, c.partitionKey FROM c WHERE ENDSWITH(c.id, @suffix)',
                                 [{"name": "@suffix", "value": f"||{instance_id}||metadata"}], page_size=100,
                                 operation="find workflow instance")
        refs = []
        for item in page.items:
            key = _workflow_key(item)
            if key is not None and key.actor_id == instance_id and (app_id is None or key.app_id == app_id):
                refs.append(_ref(key, item))
        where = f" of app {app_id}" if app_id else ""
        if not refs:
            raise NotFound(f"no workflow instance {instance_id!r}{where} in {self._location.store} "
                           "(no metadata document; `dapr-explorer workflows STORE` lists them)")
        if len(refs) > 1:
            apps = ", ".join(sorted(r.app_id for r in refs))
            raise UsageError(f"instance {instance_id!r} exists for several apps ({apps}); pick one with --app-id")
        return refs[0]

    async def summary(self, ref: InstanceRef) -> InstanceSummary:
        """One instance's summary (as a row of the instances list shows it)."""
        metadata_id = f"{ref.id_prefix}metadata"
        head, charge = await self._by_ids([metadata_id])
        if metadata_id not in head:
            raise NotFound(f"workflow instance {ref.instance_id!r} has no metadata document (deleted meanwhile?)")
        decoded = decode_workflow_part("metadata", _bytes_of(head[metadata_id]))
        metadata = decoded.value if isinstance(decoded.value, WorkflowMetadata) else None
        found, _ = await self._by_ids(wanted_ids(ref, metadata))
        return summarize(ref, head[metadata_id], found)

    async def timeline_page(self, ref: InstanceRef, part: str = "history", continuation: str | None = None,
                            page_size: int = TIMELINE_PAGE) -> TimelinePage:
        """One page of an instance's `history-` (or `inbox-`) documents, in sequence order, decoded."""
        if part not in ("history", "inbox"):
            raise ValueError(part)
        page = await self._query(
            'SELECT * FROM c WHERE c.partitionKey = @pk AND STARTSWITH(c.id, @prefix) ORDER BY c.id',
            [{"name": "@pk", "value": ref.partition}, {"name": "@prefix", "value": f"{ref.id_prefix}{part}-"}],
            partition=ref.partition, continuation=continuation, page_size=page_size, operation=f"read {part}",
        )
        return TimelinePage(tuple(entry(item) for item in page.items), page.continuation, page.request_charge)

    async def tail(self, ref: InstanceRef, history_length: int, count: int = 50) -> list[TimelineEntry]:
        """The last `count` history entries of an instance whose history has `history_length` entries,
        in order (one IN query): what the timeline reads its open waits from (an activity not yet
        answered, a timer not fired, an event not raised), however long the history is."""
        ids = [_history_id(ref, "history", n) for n in range(max(0, history_length - count), history_length)]
        found, _ = await self._by_ids(ids) if ids else ({}, 0.0)
        return [entry(found[i]) for i in ids if i in found]

    async def labels(self, partition: str, doc_ids: Sequence[str]) -> dict[str, str]:
        """What each of these documents of one instance's partition says (`DecodedPart.label`, e.g.
        `history-000003 · TaskScheduled reserve_inventory`), by id: the key table's labels for the
        page of a workflow partition it shows. One query per IDS_PER_QUERY ids, in that partition;
        a document whose label cannot be made is left out (its row keeps the label of its id)."""
        labels: dict[str, str] = {}
        for start in range(0, len(doc_ids), IDS_PER_QUERY):
            chunk = list(doc_ids[start:start + IDS_PER_QUERY])
            names = [f"@i{n}" for n in range(len(chunk))]
            sql = f'SELECT c.id, c["value"], c.isBinary FROM c WHERE c.id IN ({", ".join(names)})'
            token: str | None = None
            while True:
                page = await self._query(sql, [{"name": n, "value": i} for n, i in zip(names, chunk)],
                                         partition=partition, continuation=token, page_size=len(chunk),
                                         operation="read workflow labels")
                for item in page.items:
                    doc_id = str(item["id"])
                    try:
                        labels[doc_id] = decode_workflow_part(doc_id.rsplit("||", 1)[-1], _bytes_of(item)).label
                    except Exception:  # noqa: BLE001 - a label is a nicety; the row keeps its id's
                        continue
                token = page.continuation
                if not token:
                    break
        return labels

    async def other_parts(self, ref: InstanceRef) -> list[TimelineEntry]:
        """The instance's documents that are neither history nor inbox (metadata, customStatus,
        signatures, …), decoded."""
        entries: list[TimelineEntry] = []
        token: str | None = None
        while True:
            page = await self._query(
                'SELECT * FROM c WHERE c.partitionKey = @pk AND NOT STARTSWITH(c.id, @history) '
                'AND NOT STARTSWITH(c.id, @inbox)',
                [{"name": "@pk", "value": ref.partition}, {"name": "@history", "value": f"{ref.id_prefix}history-"},
                 {"name": "@inbox", "value": f"{ref.id_prefix}inbox-"}],
                partition=ref.partition, continuation=token, page_size=100, operation="read instance state",
            )
            entries.extend(entry(item) for item in page.items)
            token = page.continuation
            if not token:
                return entries


def entry(item: dict[str, Any]) -> TimelineEntry:
    doc_id = str(item["id"])
    return TimelineEntry(doc_id, partition_of(item), str(item.get("_etag", "")), whole_number(item.get("_ts")) or 0,
                         decode_workflow_part(doc_id.rsplit("||", 1)[-1], _bytes_of(item)))

