"""Decoding Dapr workflow state (explorer.core.workflows): what a user sees for each part.

Three sources of bytes:
- upstream's generated encoder as an oracle: dapr 1.19's vendored durabletask modules
  (`dapr.ext.workflow._durabletask.internal.*_pb2`, protoc output, independent of our decoder) build
  a HistoryEvent of every type in the pinned schema, and the other parts' messages;
- real documents daprd 1.18.2 wrote (tests/unit/recorded/, see its README);
- hand-made and random bytes for what upstream never writes: unknown fields and event types,
  invalid UTF-8, truncation, and a hypothesis fuzz that nothing raises out of decode_workflow_part.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from dapr.ext.workflow._durabletask.internal import attestation_pb2 as attestation
from dapr.ext.workflow._durabletask.internal import backend_service_pb2 as backend
from dapr.ext.workflow._durabletask.internal import history_events_pb2 as pb
from dapr.ext.workflow._durabletask.internal import orchestration_pb2 as orchestration
from google.protobuf import json_format, wrappers_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.workflows.protowire import WireError, iter_fields
from explorer.core.workflows.decode import (
    decode_custom_status,
    decode_history_event,
    decode_metadata,
    decode_workflow_part,
)
from explorer.core.workflows.schema import INVALID_UTF8, MESSAGES, RuntimeStatus, WorkflowDecodeError
from explorer.core.workflows.summary import TAIL_LENGTH, runtime_status, summarize_instance
from explorer.core.workflows.values import DecodedPart, Failure, WorkflowEvent, WorkflowMetadata

RECORDED = Path(__file__).parent / "recorded" / "dapr-1.18.2-workflows.json"
WHEN = datetime(2026, 11, 30, 11, 59, 30, 250000, tzinfo=timezone.utc)
FIRE_AT = datetime(2026, 11, 30, 12, 0, 0, tzinfo=timezone.utc)


def sv(text: str) -> wrappers_pb2.StringValue:
    return wrappers_pb2.StringValue(value=text)


def history_event(event_id: int = 7, **event) -> bytes:
    """A HistoryEvent serialized by upstream's generated code (the oracle)."""
    message = pb.HistoryEvent(eventId=event_id, **event)
    message.timestamp.FromDatetime(WHEN)
    return message.SerializeToString()


def failure_details() -> orchestration.TaskFailureDetails:
    return orchestration.TaskFailureDetails(
        errorType="ValueError", errorMessage="card declined", stackTrace=sv("  File \"app.py\", line 9"),
        innerFailure=orchestration.TaskFailureDetails(errorType="TimeoutError", errorMessage="gateway slow"),
        isNonRetriable=True,
    )


def timer_created(**origin) -> pb.TimerCreatedEvent:
    timer = pb.TimerCreatedEvent(**origin)
    timer.fireAt.FromDatetime(FIRE_AT)
    return timer


def timer_fired() -> pb.TimerFiredEvent:
    timer = pb.TimerFiredEvent(timerId=4)
    timer.fireAt.FromDatetime(FIRE_AT)
    return timer


# One case per HistoryEvent type: (oracle bytes, what the decoded event must show).
EVENT_CASES = {
    "executionStarted": (
        history_event(-1, executionStarted=pb.ExecutionStartedEvent(
            name="order_workflow", input=sv('{"id": 1}'), version=sv("v2"),
            workflowInstance=orchestration.WorkflowInstance(instanceId="order-1", executionId=sv("exec-9")),
            parentInstance=orchestration.ParentInstanceInfo(
                taskScheduledId=3, name=sv("parent_wf"),
                workflowInstance=orchestration.WorkflowInstance(instanceId="parent-1"), appID="billing"),
            tags={"team": "payments"})),
        dict(type="ExecutionStarted", name="order_workflow", input='{"id": 1}', instance_id="order-1",
             parent_instance_id="parent-1", summary="ExecutionStarted order_workflow"),
    ),
    "executionCompleted": (
        history_event(executionCompleted=pb.ExecutionCompletedEvent(
            workflowStatus=orchestration.ORCHESTRATION_STATUS_FAILED, result=sv("null"),
            failureDetails=failure_details())),
        dict(type="ExecutionCompleted", status=RuntimeStatus.FAILED, output="null",
             summary="ExecutionCompleted FAILED: ValueError"),
    ),
    "executionTerminated": (
        history_event(executionTerminated=pb.ExecutionTerminatedEvent(input=sv('"cancelled"'), recurse=True)),
        dict(type="ExecutionTerminated", input='"cancelled"', summary="ExecutionTerminated"),
    ),
    "taskScheduled": (
        history_event(1, taskScheduled=pb.TaskScheduledEvent(
            name="reserve_inventory", input=sv('{"sku": "A-1"}'), taskExecutionId="t-1",
            historyPropagationScope=orchestration.HISTORY_PROPAGATION_SCOPE_LINEAGE)),
        dict(type="TaskScheduled", name="reserve_inventory", input='{"sku": "A-1"}',
             summary="TaskScheduled reserve_inventory"),
    ),
    "taskCompleted": (
        history_event(taskCompleted=pb.TaskCompletedEvent(taskScheduledId=1, result=sv('"reserved"'),
                                                          signerCertificate=b"\x01\x02")),
        dict(type="TaskCompleted", task_id=1, output='"reserved"', summary="TaskCompleted task 1"),
    ),
    "taskFailed": (
        history_event(taskFailed=pb.TaskFailedEvent(taskScheduledId=2, failureDetails=failure_details())),
        dict(type="TaskFailed", task_id=2, summary="TaskFailed task 2: ValueError"),
    ),
    "childWorkflowInstanceCreated": (
        history_event(3, childWorkflowInstanceCreated=pb.ChildWorkflowInstanceCreatedEvent(
            instanceId="order-1-child", name="ship_order", input=sv("{}"))),
        dict(type="ChildWorkflowInstanceCreated", name="ship_order", instance_id="order-1-child", input="{}",
             summary="ChildWorkflowInstanceCreated ship_order → order-1-child"),
    ),
    "childWorkflowInstanceCompleted": (
        history_event(childWorkflowInstanceCompleted=pb.ChildWorkflowInstanceCompletedEvent(
            taskScheduledId=3, result=sv('"shipped"'))),
        dict(type="ChildWorkflowInstanceCompleted", task_id=3, output='"shipped"',
             summary="ChildWorkflowInstanceCompleted task 3"),
    ),
    "childWorkflowInstanceFailed": (
        history_event(childWorkflowInstanceFailed=pb.ChildWorkflowInstanceFailedEvent(
            taskScheduledId=3, failureDetails=failure_details())),
        dict(type="ChildWorkflowInstanceFailed", task_id=3, summary="ChildWorkflowInstanceFailed task 3: ValueError"),
    ),
    "timerCreated": (
        history_event(4, timerCreated=timer_created(createTimer=pb.TimerOriginCreateTimer())),
        dict(type="TimerCreated", fire_at=FIRE_AT, summary="TimerCreated fires 2026-11-30T12:00:00Z"),
    ),
    "timerFired": (
        history_event(timerFired=timer_fired()),
        dict(type="TimerFired", task_id=4, fire_at=FIRE_AT, summary="TimerFired timer 4"),
    ),
    "workflowStarted": (
        history_event(-1, workflowStarted=pb.WorkflowStartedEvent(
            version=orchestration.WorkflowVersion(patches=["p1", "p2"], name="v2"))),
        dict(type="WorkflowStarted", summary="WorkflowStarted"),
    ),
    "workflowCompleted": (
        history_event(-1, workflowCompleted=pb.WorkflowCompletedEvent()),
        dict(type="WorkflowCompleted", summary="WorkflowCompleted"),
    ),
    "eventSent": (
        history_event(5, eventSent=pb.EventSentEvent(instanceId="other-1", name="approval", input=sv("true"))),
        dict(type="EventSent", name="approval", instance_id="other-1", input="true",
             summary="EventSent approval → other-1"),
    ),
    "eventRaised": (
        history_event(-1, eventRaised=pb.EventRaisedEvent(name="approval", input=sv('{"ok": true}'))),
        dict(type="EventRaised", name="approval", input='{"ok": true}', summary="EventRaised approval"),
    ),
    "continueAsNew": (
        history_event(continueAsNew=pb.ContinueAsNewEvent(input=sv('{"round": 2}'))),
        dict(type="ContinueAsNew", input='{"round": 2}', summary="ContinueAsNew"),
    ),
    "executionSuspended": (
        history_event(-1, executionSuspended=pb.ExecutionSuspendedEvent(input=sv('"maintenance"'))),
        dict(type="ExecutionSuspended", input='"maintenance"', summary="ExecutionSuspended"),
    ),
    "executionResumed": (
        history_event(-1, executionResumed=pb.ExecutionResumedEvent(input=sv('"done"'))),
        dict(type="ExecutionResumed", input='"done"', summary="ExecutionResumed"),
    ),
    "executionStalled": (
        history_event(-1, executionStalled=pb.ExecutionStalledEvent(
            reason=orchestration.VERSION_NOT_AVAILABLE, description="no v3 registered")),
        dict(type="ExecutionStalled", summary="ExecutionStalled VERSION_NOT_AVAILABLE"),
    ),
    "detachedWorkflowInstanceCreated": (
        history_event(6, detachedWorkflowInstanceCreated=pb.DetachedWorkflowInstanceCreatedEvent(instanceId="audit-7")),
        dict(type="DetachedWorkflowInstanceCreated", instance_id="audit-7",
             summary="DetachedWorkflowInstanceCreated → audit-7"),
    ),
}


def oracle_dict(message_type, data: bytes) -> dict:
    """What upstream's own JSON mapping makes of the same bytes (field names as in the .proto)."""
    return json_format.MessageToDict(message_type.FromString(data), preserving_proto_field_name=True)


# --- every HistoryEvent type -------------------------------------------------------------------


def test_the_cases_cover_every_history_event_type_of_the_pinned_schema():
    event_types = {spec.name for spec in MESSAGES["HistoryEvent"].values() if spec.oneof == "eventType"}
    assert set(EVENT_CASES) == event_types


@pytest.mark.parametrize("field_name", sorted(EVENT_CASES))
def test_every_event_type_shows_what_a_user_looks_for(field_name):
    data, expected = EVENT_CASES[field_name]
    event = decode_history_event(data)
    for attribute, value in expected.items():
        assert getattr(event, attribute) == value, attribute
    assert event.timestamp == WHEN and event.timestamp.tzinfo is not None
    assert event.unknown == ()
    assert event.fields == oracle_dict(pb.HistoryEvent, data)  # every field, as upstream reads it
    json.dumps(event.to_json())  # JSON-able as is


def test_a_failure_shows_its_type_message_stack_trace_and_cause():
    event = decode_history_event(EVENT_CASES["taskFailed"][0])
    assert event.failure == Failure(
        error_type="ValueError", message="card declined", stack_trace='  File "app.py", line 9',
        inner=Failure("TimeoutError", "gateway slow", None, None, False), non_retriable=True,
    )
    assert event.to_json()["failure"]["inner"]["error_type"] == "TimeoutError"


def test_timer_origins_say_what_the_timer_waits_for():
    external = decode_history_event(history_event(timerCreated=timer_created(
        externalEvent=pb.TimerOriginExternalEvent(name="approval"))))
    assert external.name == "approval"
    assert external.summary == "TimerCreated fires 2026-11-30T12:00:00Z (waits for event approval)"
    retry = decode_history_event(history_event(timerCreated=timer_created(
        activityRetry=pb.TimerOriginActivityRetry(taskExecutionId="t-1"))))
    assert retry.summary == "TimerCreated fires 2026-11-30T12:00:00Z (activity retry)"
    named = decode_history_event(history_event(timerCreated=timer_created(name="reminder")))
    assert named.name == "reminder" and named.summary == "TimerCreated fires 2026-11-30T12:00:00Z reminder"


def test_the_furthest_timer_dapr_writes_decodes_to_the_last_representable_moment():
    timer = pb.TimerCreatedEvent()
    timer.fireAt.seconds, timer.fireAt.nanos = 253402300799, 999999999  # "wait forever" (9999-12-31)
    event = decode_history_event(history_event(timerCreated=timer))
    assert event.fire_at == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)
    assert event.fields["timerCreated"]["fireAt"] == "9999-12-31T23:59:59.999999999Z"


def test_a_timestamp_out_of_range_is_shown_as_stored_not_crashed_on():
    bad = b"\x12\x0a\x08\xff\xff\xff\xff\xff\xff\xff\xff\x7f" + b"\x72\x00"  # seconds 2**63-1, workflowStarted
    event = decode_history_event(bad)
    assert event.timestamp is None and event.type == "WorkflowStarted"
    assert event.fields["timestamp"] == {"seconds": 2**63 - 1}


# --- what upstream never writes: unknown fields, unknown types, bad bytes ------------------------


def test_unknown_fields_are_kept_in_order_and_shown():
    inner = pb.TaskScheduledEvent(name="reserve_inventory").SerializeToString() + b"\x88\x01\x2a"  # #17 = 42
    data = (b"\x08\x01" + b"\x32" + bytes([len(inner)]) + inner + b"\xc2\x02\x03abc"  # #40 = "abc"
            + b"\x12\x00")  # timestamp after the unknown field
    event = decode_history_event(data)
    assert event.type == "TaskScheduled" and event.name == "reserve_inventory"
    assert [(u.path, u.number, u.wire_type, u.raw) for u in event.unknown] == [
        ("taskScheduled.#17", 17, 0, b"\x2a"), ("#40", 40, 2, b"abc")]
    assert list(event.fields) == ["eventId", "taskScheduled", "#40", "timestamp"]
    assert event.fields["taskScheduled"] == {"name": "reserve_inventory", "#17": 42}
    assert event.summary == "TaskScheduled reserve_inventory (+2 unknown fields)"


def test_an_event_type_this_schema_does_not_know_is_named_by_its_number():
    data = b"\x08\x05" + b"\xc2\x02\x04\x0a\x02hi"  # field 40, a message {1: "hi"}
    event = decode_history_event(data)
    assert event.type == "Unknown#40" and event.summary == "Unknown#40 (+1 unknown field)"
    assert event.fields == {"eventId": 5, "#40": {"#1": "hi"}}
    assert decode_workflow_part("history-000004", data).label == "history-000004 · Unknown#40 (+1 unknown field)"


def test_a_field_of_the_wrong_wire_type_is_kept_as_unknown():
    event = decode_history_event(b"\x0a\x03abc" + b"\x72\x00")  # eventId (#1) as length-delimited
    assert event.type == "WorkflowStarted" and event.event_id == 0
    assert [(u.path, u.wire_type) for u in event.unknown] == [("#1", 2)]


def test_strings_that_are_not_utf8_are_shown_with_replacement_and_flagged():
    inner = b"\x0a\x04ord\xff"  # TaskScheduledEvent.name = b"ord\xff"
    data = b"\x32" + bytes([len(inner)]) + inner
    event = decode_history_event(data)
    assert event.name == "ord\ufffd"
    assert event.fields[INVALID_UTF8] == ["taskScheduled.name"]
    assert event.summary == "TaskScheduled ord\ufffd (invalid UTF-8)"
    part = decode_workflow_part("history-000002", data)
    assert part.error is None and part.warnings == ("taskScheduled.name: not valid UTF-8 (shown with U+FFFD)",)
    status = decode_workflow_part("customStatus", b"\x0a\x02\xc3\x28")
    assert status.value == "\ufffd(" and status.label == "customStatus · \ufffd( (invalid UTF-8)"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"\x08\x80", "does not decode as HistoryEvent: truncated varint at byte 1"),
        (b"\x08\x01\x32\x05ab", "does not decode as HistoryEvent: length-delimited field 6 needs 5 bytes, 2 left at byte 3"),
        (b"\x0b\x0c", "does not decode as HistoryEvent: field 1 is a group (wire type 3), which is not supported at byte 0"),
        (b"\x32\x02\x08\x80", "does not decode as HistoryEvent: truncated varint at byte 3"),  # inside taskScheduled
        (b"\x00", "does not decode as HistoryEvent: invalid field number 0 at byte 0"),
    ],
)
def test_bytes_that_do_not_decode_say_why_and_where(data, error):
    with pytest.raises(WorkflowDecodeError) as raised:
        decode_history_event(data)
    assert str(raised.value) == error and isinstance(raised.value, ValueError)
    part = decode_workflow_part("history-000003", data)
    assert part.value is None and part.error == error and part.raw == data
    assert part.label == f"history-000003 · {error}"


def test_nesting_without_end_is_refused_not_recursed_into():
    failure = b""
    for _ in range(200):  # TaskFailureDetails.innerFailure, 200 deep
        failure = b"\x22" + _varint(len(failure)) + failure
    inner = b"\x12" + _varint(len(failure)) + failure
    data = b"\x42" + _varint(len(inner)) + inner
    part = decode_workflow_part("history-000001", data)
    assert part.error is not None and "nested deeper than" in part.error


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


# --- the other parts ------------------------------------------------------------------------------


def test_metadata_of_dapr_1_18_with_signing():
    data = backend.BackendWorkflowStateMetadata(inboxLength=1, historyLength=12, generation=2, signatureLength=3,
                                                signingCertificateLength=1).SerializeToString()
    metadata = decode_metadata(data)
    assert metadata == WorkflowMetadata(1, 12, 2, 3, 1, 0, "BackendWorkflowStateMetadata", ())
    assert decode_workflow_part("metadata", data).label == \
        "metadata · history 12 · inbox 1 · generation 2 · signatures 3"


def test_metadata_of_dapr_1_15_to_1_17_reads_the_same_three_fields():
    # WorkflowStateMetadata {inboxLength = 1; historyLength = 2; generation = 3} (durabletask-go v0.6.8–v0.11.5)
    data = b"\x10\x0c\x18\x01"
    metadata = decode_metadata(data)
    assert (metadata.history_length, metadata.inbox_length, metadata.generation) == (12, 0, 1)
    assert metadata.schema == "WorkflowStateMetadata" and metadata.external_signing_certificate_length == 0
    assert decode_workflow_part("metadata", data).label == "metadata · history 12 · inbox 0 · generation 1"
    json.dumps(metadata.to_json())


def test_custom_status_is_the_text_as_stored_and_its_label_unquotes_json_strings():
    data = wrappers_pb2.StringValue(value='"waiting for approval"').SerializeToString()
    assert decode_custom_status(data) == '"waiting for approval"'
    assert decode_workflow_part("customStatus", data).label == "customStatus · waiting for approval"
    assert decode_workflow_part("customStatus", b"").label == "customStatus · (empty)"
    assert decode_workflow_part("customStatus", b"\x12\x01x").error == \
        "does not decode as StringValue: unexpected field #2"


def test_the_signing_and_propagation_parts_of_dapr_1_18_decode_to_their_fields():
    signature = backend.HistorySignature(startEventIndex=0, eventCount=6, eventsDigest=b"\x01\x02",
                                         certificateIndex=0, signature=b"\x03").SerializeToString()
    part = decode_workflow_part("signature-000000", signature)
    assert (part.part, part.sequence) == ("signature", 0)
    # proto3 writes no zero values (startEventIndex, certificateIndex); upstream's JSON writes uint64 as text
    assert part.value == {"eventCount": 6, "eventsDigest": "AQI=", "signature": "Aw=="}
    assert oracle_dict(backend.HistorySignature, signature) == {"eventCount": "6", "eventsDigest": "AQI=",
                                                                "signature": "Aw=="}
    assert part.label == "signature-000000 · HistorySignature · events 0–5"

    certificate = backend.SigningCertificate(certificate=b"x" * 812).SerializeToString()
    assert decode_workflow_part("sigcert-000001", certificate).label == "sigcert-000001 · SigningCertificate · 812 bytes"
    external = attestation.ExternalSigningCertificate(digest=b"d" * 32, certificate=b"c" * 40).SerializeToString()
    part = decode_workflow_part("ext-sigcert-000002", external)
    assert (part.part, part.sequence) == ("ext-sigcert", 2)
    assert part.label == "ext-sigcert-000002 · ExternalSigningCertificate · 40 bytes"
    assert part.value == oracle_dict(attestation.ExternalSigningCertificate, external)

    propagated = pb.PropagatedHistory(
        scope=orchestration.HISTORY_PROPAGATION_SCOPE_LINEAGE,
        chunks=[pb.PropagatedHistoryChunk(rawEvents=[EVENT_CASES["taskScheduled"][0]], appId="billing",
                                          instanceId="parent-1", workflowName="parent_wf")],
    ).SerializeToString()
    part = decode_workflow_part("propagated-history", propagated)
    assert part.value == oracle_dict(pb.PropagatedHistory, propagated)
    assert part.label == "propagated-history · PropagatedHistory · LINEAGE · 1 chunk"


def test_a_part_name_this_module_does_not_know_is_decoded_field_by_field_not_dropped():
    part = decode_workflow_part("future-part", b"\x08\x01\x12\x03abc\x1a\x02\x08\x02")
    assert part.error is None and part.sequence is None
    assert part.value == {"#1": 1, "#2": "abc", "#3": {"#1": 2}}
    assert part.label == "future-part · 3 fields (no schema for this part)"
    unknown_bytes = decode_workflow_part("future-part", b"\xff")
    assert unknown_bytes.error == "does not decode as a protobuf message: truncated varint in field tag at byte 0"


def test_every_decoded_part_is_json_able():
    for key, data in [("history-000001", EVENT_CASES["executionStarted"][0]), ("metadata", b"\x10\x01"),
                      ("customStatus", b"\x0a\x01x"), ("history-000002", b"\x08\x80"), ("x", b"\x08\x01")]:
        encoded = json.dumps(decode_workflow_part(key, data).to_json())
        assert base64.b64encode(data).decode() in encoded


# --- fuzz ----------------------------------------------------------------------------------------

PART_KEYS = ["history-000000", "inbox-000001", "metadata", "customStatus", "signature-000000", "sigcert-000000",
             "ext-sigcert-000000", "propagated-history", "something-new"]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PART_KEYS), st.binary(max_size=300))
def test_random_bytes_never_raise_out_of_decode_workflow_part(key, data):
    part = decode_workflow_part(key, data)
    assert isinstance(part, DecodedPart) and part.raw == data
    assert (part.value is None) == (part.error is not None)
    assert isinstance(part.label, str)
    json.dumps(part.to_json())


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(EVENT_CASES)), st.integers(min_value=0, max_value=400), st.integers(0, 255))
def test_damaged_real_events_never_raise(field_name, position, byte):
    data = bytearray(EVENT_CASES[field_name][0])
    data[position % len(data)] = byte
    for damaged in (bytes(data), bytes(data[: position % len(data)])):
        part = decode_workflow_part("history-000001", damaged)
        json.dumps(part.to_json())


def test_the_wire_reader_refuses_what_is_not_protobuf_with_an_offset():
    with pytest.raises(WireError) as raised:
        iter_fields(b"\x08\x01\x0f")  # wire type 7
    assert raised.value.offset == 2 and "invalid wire type 7" in str(raised.value)
    with pytest.raises(WireError, match="varint longer than 64 bits"):
        iter_fields(b"\x08" + b"\xff" * 10 + b"\x01")


# --- real documents daprd 1.18.2 wrote -----------------------------------------------------------


def recorded() -> dict[str, dict[str, bytes]]:
    """instance → actor key → value bytes, from the recorded documents."""
    documents = json.loads(RECORDED.read_text())["documents"]
    instances: dict[str, dict[str, bytes]] = {}
    for document in documents:
        _app, _type, instance, key = document["id"].split("||")
        # Every value is binary, except an empty one: the empty customStatus of an instance that set
        # none is stored as isBinary false, value "" (zero bytes: the empty StringValue).
        value = document["value"]
        instances.setdefault(instance, {})[key] = base64.b64decode(value) if document["isBinary"] else value.encode()
    return instances


def history(instance: str) -> list[WorkflowEvent]:
    parts = recorded()[instance]
    keys = sorted(key for key in parts if key.startswith("history-"))
    return [decode_history_event(parts[key]) for key in keys]


def test_every_recorded_document_decodes_as_upstream_reads_it():
    for instance, parts in recorded().items():
        for key, data in parts.items():
            part = decode_workflow_part(key, data)
            assert part.error is None and part.warnings == (), (instance, key, part.error)
            if part.part == "history":
                assert part.value.fields == oracle_dict(pb.HistoryEvent, data), (instance, key)
                assert part.value.unknown == ()


def test_a_real_completed_run_reads_as_the_user_expects():
    parts = recorded()["rec-completed"]
    labels = [decode_workflow_part(key, parts[key]).label for key in sorted(parts)]
    assert labels == [
        "customStatus · inventory reserved",
        "history-000000 · WorkflowStarted",
        "history-000001 · ExecutionStarted order_workflow",
        "history-000002 · TaskScheduled reserve_inventory",
        "history-000003 · WorkflowStarted",
        "history-000004 · TaskCompleted task 1",
        "history-000005 · ExecutionCompleted COMPLETED",
        "metadata · history 6 · inbox 0 · generation 1",
    ]
    started, scheduled, completed = (decode_history_event(parts[k]) for k in
                                     ("history-000001", "history-000002", "history-000004"))
    assert started.instance_id == "rec-completed" and started.parent_instance_id is None
    assert json.loads(started.input) == {"id": "rec-completed", "sku": "A-1", "qty": 2}
    assert scheduled.event_id == 1 and completed.task_id == 1
    assert json.loads(completed.output) == "reserved 2 x A-1"
    assert started.fields["router"] == {"sourceAppID": "order-processor"}
    assert decode_metadata(parts["metadata"]).schema == "WorkflowStateMetadata"  # no signing: 1.17's bytes


def test_a_real_failed_run_shows_why():
    events = history("rec-failed")
    task_failed, execution_completed = events[4], events[5]
    assert task_failed.failure.error_type == "ValueError"
    assert task_failed.failure.message == "card declined for order rec-failed"
    assert "charge_card" in task_failed.failure.stack_trace
    assert execution_completed.status is RuntimeStatus.FAILED
    assert execution_completed.failure.error_type == "TaskFailedError"


# --- status -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instance", "status"),
    [("rec-completed", RuntimeStatus.COMPLETED), ("rec-failed", RuntimeStatus.FAILED),
     ("rec-approval", RuntimeStatus.COMPLETED), ("rec-approval-child", RuntimeStatus.COMPLETED),
     ("rec-terminated", RuntimeStatus.TERMINATED), ("rec-suspended", RuntimeStatus.SUSPENDED),
     ("rec-running", RuntimeStatus.RUNNING)],
)
def test_runtime_status_of_real_histories_is_what_dapr_reported(instance, status):
    assert runtime_status(history(instance)) is status
    assert json.loads(RECORDED.read_text())["statuses"].get(instance, status.value) == status.value


def event(type_: str, **details) -> WorkflowEvent:
    return WorkflowEvent(event_id=-1, timestamp=details.pop("timestamp", WHEN), type=type_, **details)


def test_runtime_status_follows_durabletask_rules():
    started = [event("WorkflowStarted"), event("ExecutionStarted", name="wf")]
    assert runtime_status([]) is RuntimeStatus.PENDING
    assert runtime_status([event("WorkflowStarted")]) is RuntimeStatus.PENDING
    assert runtime_status(started) is RuntimeStatus.RUNNING
    assert runtime_status(started + [event("ExecutionSuspended")]) is RuntimeStatus.SUSPENDED
    assert runtime_status(started + [event("ExecutionSuspended"), event("ExecutionResumed")]) is RuntimeStatus.RUNNING
    stalled = started + [event("ExecutionStalled")]
    assert runtime_status(stalled) is RuntimeStatus.STALLED
    assert runtime_status(stalled + [event("WorkflowStarted")]) is RuntimeStatus.RUNNING  # any later event clears it
    assert runtime_status([event("ExecutionStalled")]) is RuntimeStatus.STALLED  # stalled before it started
    completed = started + [event("ExecutionCompleted", status=RuntimeStatus.COMPLETED)]
    assert runtime_status(completed + [event("ExecutionCompleted", status=RuntimeStatus.FAILED)]) \
        is RuntimeStatus.COMPLETED  # the first completion counts; later ones are rejected duplicates
    assert runtime_status(completed + [event("ExecutionStalled")]) is RuntimeStatus.COMPLETED
    assert runtime_status(started + [event("ExecutionCompleted", status=RuntimeStatus.CONTINUED_AS_NEW)]) \
        is RuntimeStatus.CONTINUED_AS_NEW
    duplicate = stalled + [event("TaskCompleted", task_id=1), event("ExecutionStalled"), event("TaskCompleted", task_id=1)]
    assert runtime_status(duplicate) is RuntimeStatus.STALLED  # a rejected duplicate does not clear a stall


def summarize(instance: str, first_key: str = "history-000001", **overrides):
    parts = recorded()[instance]
    events = history(instance)
    metadata = decode_metadata(parts["metadata"])
    status_text = decode_custom_status(parts["customStatus"]) if "customStatus" in parts else None
    arguments = dict(app_id="order-processor", instance_id=instance,
                     partition=f"order-processor||dapr.internal.default.order-processor.workflow||{instance}",
                     metadata=metadata, first=decode_history_event(parts[first_key]), tail=events[-TAIL_LENGTH:],
                     custom_status=status_text, last_updated=None)
    return summarize_instance(**arguments | overrides)


def test_summary_of_a_completed_instance():
    summary = summarize("rec-completed")
    assert (summary.name, summary.status, summary.history_length, summary.inbox_length) == \
        ("order_workflow", RuntimeStatus.COMPLETED, 6, 0)
    assert summary.custom_status == "inventory reserved" and summary.failure is None
    assert summary.created == history("rec-completed")[1].timestamp
    assert summary.last_updated == history("rec-completed")[-1].timestamp
    assert json.loads(json.dumps(summary.to_json()))["status"] == "COMPLETED"


def test_summary_of_a_failed_instance_carries_the_failure():
    summary = summarize("rec-failed")
    assert summary.status is RuntimeStatus.FAILED
    assert summary.failure.error_type == "TaskFailedError"
    assert "card declined for order rec-failed" in summary.failure.message
    assert summary.to_json()["failure"]["error_type"] == "TaskFailedError"


@pytest.mark.parametrize(
    ("instance", "status"),
    [("rec-running", RuntimeStatus.RUNNING), ("rec-terminated", RuntimeStatus.TERMINATED),
     ("rec-suspended", RuntimeStatus.SUSPENDED)],
)
def test_summary_of_running_terminated_and_suspended_instances(instance, status):
    summary = summarize(instance)
    assert summary.status is status and summary.name == "waiting_workflow"
    assert summary.custom_status == "waiting for approval"


def test_summary_of_a_child_instance_names_its_parent():
    assert summarize("rec-approval-child").parent_instance_id == "rec-approval"
    assert summarize("rec-approval").parent_instance_id is None


def test_summary_of_a_pending_instance_that_has_only_its_start_in_the_inbox():
    metadata = WorkflowMetadata(1, 0, 1, 0, 0, 0, "WorkflowStateMetadata")
    summary = summarize_instance("order-processor", "new-1", "p", metadata, None, [], None, None)
    assert summary.status is RuntimeStatus.PENDING and summary.inbox_length == 1 and summary.created is None


def test_summary_of_a_pending_instance_named_by_the_start_waiting_in_its_inbox():
    start = decode_history_event(EVENT_CASES["executionStarted"][0])
    metadata = WorkflowMetadata(1, 0, 1, 0, 0, 0, "WorkflowStateMetadata")
    summary = summarize_instance("order-processor", "order-1", "p", metadata, start, [], None, None)
    assert summary.status is RuntimeStatus.PENDING and summary.name == "order_workflow"
    assert summary.created == WHEN and summary.parent_instance_id == "parent-1"


def test_summary_given_history_000000_still_counts_a_long_history_as_started():
    # A long history: the start (history-000001) is neither `first` (history-000000) nor in the tail.
    turns = [event("WorkflowStarted"), event("ExecutionStarted", name="wf")]
    for task in range(1, 20):
        turns += [event("TaskScheduled", name=f"step{task}"), event("WorkflowStarted"), event("TaskCompleted", task_id=task)]
    metadata = WorkflowMetadata(0, len(turns), 1, 0, 0, 0, "WorkflowStateMetadata")
    summary = summarize_instance("a", "i", "p", metadata, turns[0], turns[-TAIL_LENGTH:], None, None)
    assert summary.status is RuntimeStatus.RUNNING and summary.name is None
    assert summary.created == WHEN and summary.history_length == len(turns)
    suspended = turns + [event("WorkflowStarted"), event("ExecutionSuspended")]
    for _arrival in range(7):  # events arriving while suspended go to history after the suspension
        suspended += [event("WorkflowStarted"), event("EventRaised", name="ping")]
    summary = summarize_instance("a", "i", "p", metadata, turns[1], suspended[-TAIL_LENGTH:], None, WHEN)
    assert summary.status is RuntimeStatus.SUSPENDED and summary.name == "wf" and summary.last_updated == WHEN


def test_summary_without_metadata_counts_the_events_it_was_given():
    events = history("rec-completed")
    summary = summarize_instance("a", "i", "p", None, events[1], events, None, None)
    assert summary.status is RuntimeStatus.COMPLETED and summary.history_length == 6


def test_the_first_event_may_repeat_in_the_tail_without_counting_twice():
    events = history("rec-suspended")
    summary = summarize_instance("a", "i", "p", None, events[0], events, None, None)
    assert summary.history_length == 5 and summary.status is RuntimeStatus.SUSPENDED
    assert summary.created == events[1].timestamp  # ExecutionStarted's time, as Dapr reports createdAt


def test_summary_given_no_events_for_a_history_that_exists_says_unknown():
    metadata = WorkflowMetadata(0, 6, 1, 0, 0, 0, "WorkflowStateMetadata")
    assert summarize_instance("a", "i", "p", metadata, None, [], None, None).status is RuntimeStatus.UNKNOWN
