"""What the seeded stack's apps left in Cosmos, read back as the explorer reads it: the session's stack
runs the workflow and actor apps (`LocalStack(apps=True)`), and every workflow and actor document
checked here was written by daprd. Each seeded workflow state (completed, failed after retries,
waiting for an event, on a durable timer, with a child, terminated) is decoded with
explorer.core.workflows and must say what a user looking at it would expect."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta

import pytest

from explorer.core.envelope import KeyKind, KeyPrefix, parse_document_id
from explorer.core.expiry import Expiry, ExpiryKind
from explorer.core.model import KeyValue, value_bytes_of
from explorer.core.workflows.decode import decode_workflow_part
from explorer.core.workflows.schema import RuntimeStatus
from explorer.core.workflows.summary import runtime_status, summarize_instance
from explorer.core.workflows.values import WorkflowEvent
from explorer.core.writes import why_not_writable
from explorer.localstack.apps.actor_app import SEEDED_CALLS
from explorer.localstack.apps.workflow_app import (
    DECLINED_CARD,
    DELIVERY_SLOT_WAIT,
    PAYMENT_APPROVED,
    SEEDED_INSTANCES,
    WAITING_FOR_DELIVERY_SLOT,
    WAITING_FOR_PAYMENT,
    child_instance_id,
)
from explorer.localstack.seed import ACTORS_APP, WORKFLOW_ACTOR_TYPE, WORKFLOWS_APP, seed

from .conftest import container

pytestmark = pytest.mark.integration

INSTANCES = {i.instance_id: i for i in SEEDED_INSTANCES}
CHILD = child_instance_id("order-1005")


def workflow_state(cosmos):
    return container(cosmos, "dapr-workflows", "workflow-state")


def documents(cosmos, partition: str) -> list[dict]:
    return list(workflow_state(cosmos).query_items(
        "SELECT * FROM c WHERE c.partitionKey = @pk", parameters=[{"name": "@pk", "value": partition}],
        partition_key=partition))


class Instance:
    """One instance's documents, decoded part by part."""

    def __init__(self, cosmos, instance_id: str):
        self.partition = f"{WORKFLOWS_APP}||{WORKFLOW_ACTOR_TYPE}||{instance_id}"
        self.documents = {doc["id"].rsplit("||", 1)[1]: doc for doc in documents(cosmos, self.partition)}
        self.parts = {}
        for actor_key, doc in self.documents.items():
            raw = base64.b64decode(doc["value"]) if doc["isBinary"] else str(doc["value"]).encode()
            self.parts[actor_key] = decode_workflow_part(actor_key, raw)
        self.history: list[WorkflowEvent] = [self.parts[k].value for k in sorted(self.parts) if k.startswith("history-")]

    def events(self, kind: str) -> list[WorkflowEvent]:
        return [e for e in self.history if e.type == kind]

    @property
    def custom_status(self) -> str:
        return self.parts["customStatus"].value

    def summary(self):
        return summarize_instance(WORKFLOWS_APP, self.partition.rsplit("||", 1)[1], self.partition,
                                  self.parts["metadata"].value, self.history[1], self.history, self.custom_status, None)


@pytest.fixture(scope="module")
def instances(cosmos):
    return {instance_id: Instance(cosmos, instance_id) for instance_id in [*INSTANCES, CHILD]}


def test_every_seeded_instance_is_there_in_its_state_with_all_its_parts_decoding(instances):
    wanted = {**{i.instance_id: i.state for i in SEEDED_INSTANCES}, CHILD: "COMPLETED"}
    for instance_id, instance in instances.items():
        assert {"metadata", "customStatus", "history-000000"} <= set(instance.documents), instance_id
        for actor_key, part in instance.parts.items():
            assert part.error is None, f"{instance_id} {actor_key}: {part.error}"
            # every field and event type daprd wrote is one the schema table knows
            assert not getattr(part.value, "unknown", ()), f"{instance_id} {actor_key}: {part.value.unknown}"
            assert not getattr(part.value, "type", "").startswith("Unknown"), f"{instance_id} {actor_key}"
        metadata = instance.parts["metadata"].value
        assert metadata.history_length == len(instance.history) and metadata.inbox_length == 0, instance_id
        assert [k for k in instance.documents if k.startswith("inbox-")] == [], "every event was taken in"
        assert runtime_status(instance.history) is RuntimeStatus(wanted[instance_id]), instance_id
        assert instance.summary().status is RuntimeStatus(wanted[instance_id])
        for doc in instance.documents.values():
            key = parse_document_id(doc["id"], KeyPrefix.from_metadata(None))
            assert key.kind is KeyKind.WORKFLOW and doc["partitionKey"] == instance.partition, doc["id"]
            assert f"{key.app_id}||{key.actor_type}||{key.actor_id}" == instance.partition


def test_completed_order_ran_both_activities_and_says_paid(instances):
    order = instances["order-1001"]
    assert [e.name for e in order.events("TaskScheduled")] == ["reserve_inventory", "charge_payment"]
    assert len(order.events("TaskCompleted")) == 2
    assert order.custom_status == "paid"
    [done] = order.events("ExecutionCompleted")
    assert done.status is RuntimeStatus.COMPLETED and '"charged": 37.5' in done.output


def test_failed_order_says_why_the_card_was_declined_three_times(instances):
    """The README's "find the failed one and read why it failed"."""
    order = instances["order-1002"]
    charges = [e for e in order.events("TaskScheduled") if e.name == "charge_payment"]
    failures = order.events("TaskFailed")
    assert len(charges) == 3 and len(failures) == 3, "three attempts (RetryPolicy max_number_of_attempts=3)"
    for failure in (f.failure for f in failures):
        assert failure.error_type == "PaymentDeclined"
        assert failure.message.startswith(f"card ending {DECLINED_CARD[-4:]} was declined by the issuer")
        assert "in charge_payment" in failure.stack_trace and "raise PaymentDeclined" in failure.stack_trace
    retries = [e for e in order.events("TimerCreated") if "activityRetry" in e.fields.get("timerCreated", {})]
    assert len(retries) == 2
    [done] = order.events("ExecutionCompleted")
    assert done.status is RuntimeStatus.FAILED and "declined by the issuer" in done.failure.message
    assert order.custom_status == "inventory reserved, charging the card", "where it stopped"
    summary = order.summary()
    assert summary.status is RuntimeStatus.FAILED and "declined" in summary.failure.message


def test_order_waiting_for_payment_approval_waits_for_the_event(instances):
    order = instances["order-1003"]
    assert order.custom_status == WAITING_FOR_PAYMENT
    last = order.history[-1]
    assert last.type == "TimerCreated" and last.fields["timerCreated"]["externalEvent"]["name"] == PAYMENT_APPROVED
    assert not order.events("ExecutionCompleted") and not order.events("EventRaised")


def test_order_waiting_for_its_delivery_slot_is_on_a_durable_timer_a_day_away(instances):
    order = instances["order-1004"]
    assert order.custom_status == WAITING_FOR_DELIVERY_SLOT
    [timer] = order.events("TimerCreated")
    assert "createTimer" in timer.fields["timerCreated"]
    assert timer.fire_at - timer.timestamp > DELIVERY_SLOT_WAIT - timedelta(minutes=1)
    assert not order.events("TimerFired") and not order.events("ExecutionCompleted")


def test_parent_and_child_workflow_both_completed_and_name_each_other(instances):
    parent, child = instances["order-1005"], instances[CHILD]
    [created] = parent.events("ChildWorkflowInstanceCreated")
    assert created.instance_id == CHILD and created.name == "ship_order"
    assert len(parent.events("ChildWorkflowInstanceCompleted")) == 1 and parent.custom_status == "shipped"
    started = child.events("ExecutionStarted")[0]
    assert started.name == "ship_order" and started.parent_instance_id == "order-1005"
    assert '"tracking": "JD0146001005"' in child.events("ExecutionCompleted")[0].output
    # A child that never set a custom status: daprd saved an empty customStatus, which the state
    # store component stored as a plain empty string, not as binary.
    assert child.documents["customStatus"]["isBinary"] is False and child.documents["customStatus"]["value"] == ""


def test_terminated_order_was_terminated_while_waiting(instances):
    order = instances["order-1006"]
    [terminated] = order.events("ExecutionTerminated")
    assert "cancelled by the customer" in terminated.input
    [done] = order.events("ExecutionCompleted")
    assert done.status is RuntimeStatus.TERMINATED
    assert order.custom_status == WAITING_FOR_PAYMENT, "it was waiting when it was terminated"


def test_workflow_documents_open_as_read_only_workflow_state(cosmos, instances):
    doc = instances["order-1002"].documents["metadata"]
    key = parse_document_id(doc["id"], KeyPrefix.from_metadata(None))
    assert key.kind is KeyKind.WORKFLOW and key.actor_id == "order-1002" and key.app_id == WORKFLOWS_APP
    opened = KeyValue(key, doc, value_bytes_of(doc), doc["_etag"], Expiry(ExpiryKind.NEVER, None, "no ttl"))
    assert "workflow state" in (why_not_writable(opened) or "")


def test_actor_state_is_what_the_actor_app_set_through_daprd(cosmos):
    keys = {(c.actor_type, c.actor_id, c.key) for c in SEEDED_CALLS}
    for actor_type, actor_id, state_key in keys:
        partition = f"{ACTORS_APP}||{actor_type}||{actor_id}"
        doc = workflow_state(cosmos).read_item(f"{partition}||{state_key}", partition_key=partition)
        assert doc["isBinary"] is False and doc["partitionKey"] == partition
        parsed = parse_document_id(doc["id"], KeyPrefix.from_metadata(None))
        assert parsed.kind is KeyKind.ACTOR and parsed.app_id == ACTORS_APP and parsed.actor_key == state_key
    cart = workflow_state(cosmos).read_item(f"{ACTORS_APP}||CartActor||cart-42||items",
                                            partition_key=f"{ACTORS_APP}||CartActor||cart-42")
    assert cart["value"] == [{"price": 12.5, "qty": 2, "sku": "A-1"}, {"price": 6.5, "qty": 1, "sku": "B-7"}]


def test_seeding_again_leaves_every_instance_as_it_was(stack, cosmos, instances):
    before = {i: {k: d["_etag"] for k, d in inst.documents.items()} for i, inst in instances.items()}
    summary = asyncio.run(seed(stack))
    assert dict(summary.workflow_states) == {**{i.instance_id: i.state for i in SEEDED_INSTANCES}, CHILD: "COMPLETED"}
    after = {i: {d["id"].rsplit("||", 1)[1]: d["_etag"] for d in documents(cosmos, inst.partition)}
             for i, inst in instances.items()}
    assert after == before, "no instance was started again"
