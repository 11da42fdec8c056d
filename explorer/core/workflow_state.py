"""Dapr workflow state as stored in the actor state store: what each part says.

Decodes the protobuf values Dapr's workflow engine saves under
`<app>||dapr.internal.<ns>.<app>.workflow||<instance>||<part>` (history and
inbox events, metadata, custom status, and the 1.18 signing parts) into
values a screen can show, and derives an instance's runtime status from its
history the way durabletask does. Pure logic: this module must never do I/O
(no network, no files, no clock), never import dapr, grpc, azure, textual or
google.protobuf, and never drop what it does not know: unknown fields and
event types are kept, in order, and shown; bytes that do not decode become an
error text beside the raw bytes, never an exception out of
`decode_workflow_part`.

The schema is a table of our own (`MESSAGES`, `ENUMS`), read with the
schema-less wire reader in `protowire`. It follows durabletask-go
v0.12.2-0.20260720132056-79042da5fe61 (`api/protos/*.pb.go`), the module the
pinned daprd 1.18.2 is built with; tests/unit/test_workflow_schema.py checks
it field by field against that module's own descriptors. docs/workflow-decoding.md
says why a table and not generated `*_pb2` modules.
"""

from __future__ import annotations

import base64
import enum
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from explorer.core import protowire
from explorer.core.protowire import LENGTH_DELIMITED, VARINT, WireError


class WorkflowDecodeError(ValueError):
    """Bytes that do not decode as the message a workflow part should hold."""


class RuntimeStatus(enum.Enum):
    """durabletask's OrchestrationStatus; decoding follows its numbering (RUNNING = 0 … STALLED = 8)."""

    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CONTINUED_AS_NEW = "CONTINUED_AS_NEW"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    TERMINATED = "TERMINATED"
    PENDING = "PENDING"
    SUSPENDED = "SUSPENDED"
    STALLED = "STALLED"
    UNKNOWN = "UNKNOWN"


#: OrchestrationStatus numbers as daprd writes them (orchestration.proto).
_STATUS_BY_NUMBER = {
    0: RuntimeStatus.RUNNING, 1: RuntimeStatus.COMPLETED, 2: RuntimeStatus.CONTINUED_AS_NEW,
    3: RuntimeStatus.FAILED, 4: RuntimeStatus.CANCELED, 5: RuntimeStatus.TERMINATED,
    6: RuntimeStatus.PENDING, 7: RuntimeStatus.SUSPENDED, 8: RuntimeStatus.STALLED,
}


# -- the schema table ---------------------------------------------------------------------

@dataclass(frozen=True)
class FieldSpec:
    """One field of a message: `kind` is a protobuf scalar type, "enum" or "message" (`of` names which)."""

    name: str
    kind: str
    of: str | None = None
    repeated: bool = False
    oneof: str | None = None  # a real oneof group; proto3 `optional` fields are not marked


#: The Go module (and version) whose generated descriptors the table follows: the one stack/daprd's
#: go.mod pins for daprd 1.18.2. tests/unit/test_workflow_schema.py checks both.
SCHEMA_MODULE = "github.com/dapr/durabletask-go"
SCHEMA_VERSION = "v0.12.2-0.20260720132056-79042da5fe61"

_F = FieldSpec
_STRING_VALUE = "google.protobuf.StringValue"
_TIMESTAMP = "google.protobuf.Timestamp"

#: Every message we decode, by its name in the pinned schema (nested ones as "Outer.Inner"; the
#: backend package's without their `durabletask.protos.backend.v1.` prefix), field number → spec.
MESSAGES: dict[str, dict[int, FieldSpec]] = {
    "HistoryEvent": {
        1: _F("eventId", "int32"),
        2: _F("timestamp", "message", _TIMESTAMP),
        3: _F("executionStarted", "message", "ExecutionStartedEvent", oneof="eventType"),
        4: _F("executionCompleted", "message", "ExecutionCompletedEvent", oneof="eventType"),
        5: _F("executionTerminated", "message", "ExecutionTerminatedEvent", oneof="eventType"),
        6: _F("taskScheduled", "message", "TaskScheduledEvent", oneof="eventType"),
        7: _F("taskCompleted", "message", "TaskCompletedEvent", oneof="eventType"),
        8: _F("taskFailed", "message", "TaskFailedEvent", oneof="eventType"),
        9: _F("childWorkflowInstanceCreated", "message", "ChildWorkflowInstanceCreatedEvent", oneof="eventType"),
        10: _F("childWorkflowInstanceCompleted", "message", "ChildWorkflowInstanceCompletedEvent", oneof="eventType"),
        11: _F("childWorkflowInstanceFailed", "message", "ChildWorkflowInstanceFailedEvent", oneof="eventType"),
        12: _F("timerCreated", "message", "TimerCreatedEvent", oneof="eventType"),
        13: _F("timerFired", "message", "TimerFiredEvent", oneof="eventType"),
        14: _F("workflowStarted", "message", "WorkflowStartedEvent", oneof="eventType"),
        15: _F("workflowCompleted", "message", "WorkflowCompletedEvent", oneof="eventType"),
        16: _F("eventSent", "message", "EventSentEvent", oneof="eventType"),
        17: _F("eventRaised", "message", "EventRaisedEvent", oneof="eventType"),
        20: _F("continueAsNew", "message", "ContinueAsNewEvent", oneof="eventType"),
        21: _F("executionSuspended", "message", "ExecutionSuspendedEvent", oneof="eventType"),
        22: _F("executionResumed", "message", "ExecutionResumedEvent", oneof="eventType"),
        30: _F("router", "message", "TaskRouter"),
        31: _F("executionStalled", "message", "ExecutionStalledEvent", oneof="eventType"),
        32: _F("detachedWorkflowInstanceCreated", "message", "DetachedWorkflowInstanceCreatedEvent", oneof="eventType"),
    },
    "ExecutionStartedEvent": {
        1: _F("name", "string"),
        2: _F("version", "message", _STRING_VALUE),
        3: _F("input", "message", _STRING_VALUE),
        4: _F("workflowInstance", "message", "WorkflowInstance"),
        5: _F("parentInstance", "message", "ParentInstanceInfo"),
        6: _F("scheduledStartTimestamp", "message", _TIMESTAMP),
        7: _F("parentTraceContext", "message", "TraceContext"),
        8: _F("workflowSpanID", "message", _STRING_VALUE),
        9: _F("tags", "message", "ExecutionStartedEvent.TagsEntry", repeated=True),
    },
    "ExecutionStartedEvent.TagsEntry": {1: _F("key", "string"), 2: _F("value", "string")},
    "ExecutionCompletedEvent": {
        1: _F("workflowStatus", "enum", "OrchestrationStatus"),
        2: _F("result", "message", _STRING_VALUE),
        3: _F("failureDetails", "message", "TaskFailureDetails"),
    },
    "ExecutionTerminatedEvent": {1: _F("input", "message", _STRING_VALUE), 2: _F("recurse", "bool")},
    "TaskScheduledEvent": {
        1: _F("name", "string"),
        2: _F("version", "message", _STRING_VALUE),
        3: _F("input", "message", _STRING_VALUE),
        4: _F("parentTraceContext", "message", "TraceContext"),
        5: _F("taskExecutionId", "string"),
        6: _F("rerunParentInstanceInfo", "message", "RerunParentInstanceInfo"),
        7: _F("historyPropagationScope", "enum", "HistoryPropagationScope"),
    },
    "TaskCompletedEvent": {
        1: _F("taskScheduledId", "int32"),
        2: _F("result", "message", _STRING_VALUE),
        3: _F("taskExecutionId", "string"),
        4: _F("attestation", "message", "ActivityCompletionAttestation"),
        5: _F("signerCertificate", "bytes"),
    },
    "TaskFailedEvent": {
        1: _F("taskScheduledId", "int32"),
        2: _F("failureDetails", "message", "TaskFailureDetails"),
        3: _F("taskExecutionId", "string"),
        4: _F("attestation", "message", "ActivityCompletionAttestation"),
        5: _F("signerCertificate", "bytes"),
    },
    "ChildWorkflowInstanceCreatedEvent": {
        1: _F("instanceId", "string"),
        2: _F("name", "string"),
        3: _F("version", "message", _STRING_VALUE),
        4: _F("input", "message", _STRING_VALUE),
        5: _F("parentTraceContext", "message", "TraceContext"),
        6: _F("rerunParentInstanceInfo", "message", "RerunParentInstanceInfo"),
        7: _F("historyPropagationScope", "enum", "HistoryPropagationScope"),
        8: _F("retryParentInstanceInfo", "message", "RetryParentInstanceInfo"),
    },
    "ChildWorkflowInstanceCompletedEvent": {
        1: _F("taskScheduledId", "int32"),
        2: _F("result", "message", _STRING_VALUE),
        3: _F("attestation", "message", "ChildCompletionAttestation"),
        4: _F("signerCertificate", "bytes"),
    },
    "ChildWorkflowInstanceFailedEvent": {
        1: _F("taskScheduledId", "int32"),
        2: _F("failureDetails", "message", "TaskFailureDetails"),
        3: _F("attestation", "message", "ChildCompletionAttestation"),
        4: _F("signerCertificate", "bytes"),
    },
    "TimerCreatedEvent": {
        1: _F("fireAt", "message", _TIMESTAMP),
        2: _F("name", "string"),
        3: _F("rerunParentInstanceInfo", "message", "RerunParentInstanceInfo"),
        4: _F("createTimer", "message", "TimerOriginCreateTimer", oneof="origin"),
        5: _F("externalEvent", "message", "TimerOriginExternalEvent", oneof="origin"),
        6: _F("activityRetry", "message", "TimerOriginActivityRetry", oneof="origin"),
        7: _F("childWorkflowRetry", "message", "TimerOriginChildWorkflowRetry", oneof="origin"),
    },
    "TimerOriginCreateTimer": {},
    "TimerOriginExternalEvent": {1: _F("name", "string")},
    "TimerOriginActivityRetry": {1: _F("taskExecutionId", "string")},
    "TimerOriginChildWorkflowRetry": {1: _F("instanceId", "string")},
    "TimerFiredEvent": {1: _F("fireAt", "message", _TIMESTAMP), 2: _F("timerId", "int32")},
    "WorkflowStartedEvent": {1: _F("version", "message", "WorkflowVersion")},
    "WorkflowCompletedEvent": {},
    "EventSentEvent": {
        1: _F("instanceId", "string"), 2: _F("name", "string"), 3: _F("input", "message", _STRING_VALUE),
    },
    "EventRaisedEvent": {1: _F("name", "string"), 2: _F("input", "message", _STRING_VALUE)},
    "ContinueAsNewEvent": {1: _F("input", "message", _STRING_VALUE)},
    "ExecutionSuspendedEvent": {1: _F("input", "message", _STRING_VALUE)},
    "ExecutionResumedEvent": {1: _F("input", "message", _STRING_VALUE)},
    "ExecutionStalledEvent": {1: _F("reason", "enum", "StalledReason"), 2: _F("description", "string")},
    "DetachedWorkflowInstanceCreatedEvent": {1: _F("instanceId", "string")},
    # orchestration.proto
    "TaskRouter": {1: _F("sourceAppID", "string"), 2: _F("targetAppID", "string"), 3: _F("targetAppNamespace", "string")},
    "WorkflowVersion": {1: _F("patches", "string", repeated=True), 2: _F("name", "string")},
    "WorkflowInstance": {1: _F("instanceId", "string"), 2: _F("executionId", "message", _STRING_VALUE)},
    "TaskFailureDetails": {
        1: _F("errorType", "string"),
        2: _F("errorMessage", "string"),
        3: _F("stackTrace", "message", _STRING_VALUE),
        4: _F("innerFailure", "message", "TaskFailureDetails"),
        5: _F("isNonRetriable", "bool"),
    },
    "ParentInstanceInfo": {
        1: _F("taskScheduledId", "int32"),
        2: _F("name", "message", _STRING_VALUE),
        3: _F("version", "message", _STRING_VALUE),
        4: _F("workflowInstance", "message", "WorkflowInstance"),
        5: _F("appID", "string"),
        6: _F("appNamespace", "string"),
    },
    "RerunParentInstanceInfo": {1: _F("instanceID", "string")},
    "RetryParentInstanceInfo": {1: _F("instanceID", "string")},
    "TraceContext": {
        1: _F("traceParent", "string"), 2: _F("spanID", "string"), 3: _F("traceState", "message", _STRING_VALUE),
    },
    # attestation.proto (the payloads are bytes: signed as stored, not decoded here)
    "ActivityCompletionAttestation": {1: _F("payload", "bytes"), 2: _F("signature", "bytes")},
    "ChildCompletionAttestation": {1: _F("payload", "bytes"), 2: _F("signature", "bytes")},
    "ExternalSigningCertificate": {1: _F("digest", "bytes"), 2: _F("certificate", "bytes")},
    # backend_service.proto (package durabletask.protos.backend.v1)
    "BackendWorkflowStateMetadata": {
        1: _F("inboxLength", "uint64"),
        2: _F("historyLength", "uint64"),
        3: _F("generation", "uint64"),
        4: _F("signatureLength", "uint64"),
        5: _F("signingCertificateLength", "uint64"),
        6: _F("externalSigningCertificateLength", "uint64"),
    },
    "SigningCertificate": {1: _F("certificate", "bytes")},
    "HistorySignature": {
        1: _F("startEventIndex", "uint64"),
        2: _F("eventCount", "uint64"),
        3: _F("previousSignatureDigest", "bytes"),
        4: _F("eventsDigest", "bytes"),
        5: _F("certificateIndex", "uint64"),
        6: _F("signature", "bytes"),
    },
    # history_events.proto: what a workflow received from its caller (the `propagated-history` part)
    "PropagatedHistory": {
        1: _F("scope", "enum", "HistoryPropagationScope"),
        2: _F("chunks", "message", "PropagatedHistoryChunk", repeated=True),
    },
    "PropagatedHistoryChunk": {
        1: _F("rawEvents", "bytes", repeated=True),
        2: _F("appId", "string"),
        3: _F("instanceId", "string"),
        4: _F("workflowName", "string"),
        5: _F("rawSignatures", "bytes", repeated=True),
        6: _F("signingCertChains", "bytes", repeated=True),
    },
    # well-known types, as google/protobuf/{timestamp,wrappers}.proto define them
    _TIMESTAMP: {1: _F("seconds", "int64"), 2: _F("nanos", "int32")},
    _STRING_VALUE: {1: _F("value", "string")},
}

#: Enum value names by number, as in the pinned schema.
ENUMS: dict[str, dict[int, str]] = {
    "OrchestrationStatus": {
        0: "ORCHESTRATION_STATUS_RUNNING", 1: "ORCHESTRATION_STATUS_COMPLETED",
        2: "ORCHESTRATION_STATUS_CONTINUED_AS_NEW", 3: "ORCHESTRATION_STATUS_FAILED",
        4: "ORCHESTRATION_STATUS_CANCELED", 5: "ORCHESTRATION_STATUS_TERMINATED",
        6: "ORCHESTRATION_STATUS_PENDING", 7: "ORCHESTRATION_STATUS_SUSPENDED", 8: "ORCHESTRATION_STATUS_STALLED",
    },
    "HistoryPropagationScope": {
        0: "HISTORY_PROPAGATION_SCOPE_NONE", 1: "HISTORY_PROPAGATION_SCOPE_OWN_HISTORY",
        2: "HISTORY_PROPAGATION_SCOPE_LINEAGE",
    },
    "StalledReason": {0: "PATCH_MISMATCH", 1: "VERSION_NOT_AVAILABLE", 2: "PAYLOAD_SIZE_EXCEEDED"},
}

#: Which message each workflow part holds (history/inbox entries, metadata and customStatus in every
#: Dapr since 1.15; the rest written by 1.18's history signing and propagation).
PART_MESSAGES = {
    "history": "HistoryEvent",
    "inbox": "HistoryEvent",
    "metadata": "BackendWorkflowStateMetadata",
    "customStatus": _STRING_VALUE,
    "signature": "HistorySignature",
    "sigcert": "SigningCertificate",
    "ext-sigcert": "ExternalSigningCertificate",
    "propagated-history": "PropagatedHistory",
}

_WIRE_TYPE_OF_KIND = {
    "string": LENGTH_DELIMITED, "bytes": LENGTH_DELIMITED, "message": LENGTH_DELIMITED,
    "bool": VARINT, "int32": VARINT, "uint32": VARINT, "int64": VARINT, "uint64": VARINT, "enum": VARINT,
}
_SEQUENCED_PART = re.compile(r"^(history|inbox|signature|sigcert|ext-sigcert)-([0-9]{1,20})$")
#: Nesting deeper than this is refused (TaskFailureDetails nests itself; bytes could nest without end).
MAX_DEPTH = 64
#: Key in `fields` listing the paths of strings that were not valid UTF-8 (shown with U+FFFD).
INVALID_UTF8 = "!invalidUtf8"


# -- values a screen shows ------------------------------------------------------------------

@dataclass(frozen=True)
class Failure:
    """durabletask's TaskFailureDetails: what failed, why, and what caused it."""

    error_type: str
    message: str
    stack_trace: str | None
    inner: Failure | None
    non_retriable: bool

    def to_json(self) -> dict:
        return {
            "error_type": self.error_type, "message": self.message, "stack_trace": self.stack_trace,
            "inner": self.inner.to_json() if self.inner else None, "non_retriable": self.non_retriable,
        }


@dataclass(frozen=True)
class UnknownField:
    """A field the schema table does not name, kept as stored; `path` like "taskScheduled.#17" or "#40"."""

    path: str
    number: int
    wire_type: int
    raw: bytes

    def to_json(self) -> dict:
        return {"path": self.path, "number": self.number, "wire_type": self.wire_type,
                "raw": base64.b64encode(self.raw).decode("ascii")}


@dataclass(frozen=True)
class WorkflowEvent:
    """One durabletask HistoryEvent (a history or inbox entry).

    `type` is the event's oneof field name capitalised ("TaskScheduled", "WorkflowStarted", …) or
    "Unknown#N" for an event field this schema does not know ("Unknown" when there is none).
    `fields` is the whole event as decoded, JSON-able, under the schema's field names.
    """

    event_id: int
    timestamp: datetime | None
    type: str
    name: str | None = None
    input: str | None = None
    output: str | None = None
    failure: Failure | None = None
    fire_at: datetime | None = None
    task_id: int | None = None
    instance_id: str | None = None
    parent_instance_id: str | None = None
    status: RuntimeStatus | None = None
    fields: dict = field(default_factory=dict)
    unknown: tuple[UnknownField, ...] = ()

    @property
    def summary(self) -> str:
        """One line that tells this event apart from its neighbours."""
        text = self.type
        if self.type == "TimerCreated":
            text += f" fires {_short_time(self.fire_at)}" if self.fire_at else ""
            origin = self.fields.get("timerCreated", {})
            if "externalEvent" in origin:
                text += f" (waits for event {self.name})" if self.name else " (waits for an event)"
            elif "activityRetry" in origin:
                text += " (activity retry)"
            elif "childWorkflowRetry" in origin:
                text += " (child workflow retry)"
            elif self.name:
                text += f" {self.name}"
        elif self.type == "TimerFired":
            text += f" timer {self.task_id}" if self.task_id is not None else ""
        elif self.type == "ExecutionCompleted":
            text += f" {self.status.value}" if self.status else ""
            text += f": {self.failure.error_type}" if self.failure and self.failure.error_type else ""
        elif self.type in ("TaskCompleted", "TaskFailed", "ChildWorkflowInstanceCompleted", "ChildWorkflowInstanceFailed"):
            text += f" task {self.task_id}" if self.task_id is not None else ""
            text += f": {self.failure.error_type}" if self.failure and self.failure.error_type else ""
        elif self.type in ("ChildWorkflowInstanceCreated", "EventSent", "DetachedWorkflowInstanceCreated"):
            text += f" {self.name}" if self.name else ""
            text += f" → {self.instance_id}" if self.instance_id else ""
        elif self.type == "ExecutionStalled":
            stalled = self.fields.get("executionStalled", {})
            text += f" {stalled.get('reason', 'PATCH_MISMATCH')}"
        elif self.name:
            text += f" {self.name}"
        if self.unknown:
            text += f" (+{len(self.unknown)} unknown field{'s' if len(self.unknown) > 1 else ''})"
        if self.fields.get(INVALID_UTF8):
            text += " (invalid UTF-8)"
        return text

    def to_json(self) -> dict:
        return {
            "event_id": self.event_id, "timestamp": _iso(self.timestamp), "type": self.type, "summary": self.summary,
            "name": self.name, "input": self.input, "output": self.output,
            "failure": self.failure.to_json() if self.failure else None, "fire_at": _iso(self.fire_at),
            "task_id": self.task_id, "instance_id": self.instance_id, "parent_instance_id": self.parent_instance_id,
            "status": self.status.value if self.status else None, "fields": self.fields,
            "unknown": [u.to_json() for u in self.unknown],
        }


@dataclass(frozen=True)
class WorkflowMetadata:
    """The `metadata` part: how many history/inbox/signing entries the instance has.

    `schema` says which message the bytes were read as: "BackendWorkflowStateMetadata" (Dapr 1.18)
    when they carry any signing count, else "WorkflowStateMetadata" — Dapr 1.15–1.17's message, whose
    fields 1–3 1.18 kept, so 1.18 metadata without signing is byte for byte the same.
    """

    inbox_length: int
    history_length: int
    generation: int
    signature_length: int
    signing_certificate_length: int
    external_signing_certificate_length: int
    schema: str
    unknown: tuple[UnknownField, ...] = ()

    def to_json(self) -> dict:
        return {
            "inbox_length": self.inbox_length, "history_length": self.history_length, "generation": self.generation,
            "signature_length": self.signature_length, "signing_certificate_length": self.signing_certificate_length,
            "external_signing_certificate_length": self.external_signing_certificate_length, "schema": self.schema,
            "unknown": [u.to_json() for u in self.unknown],
        }


@dataclass(frozen=True)
class DecodedPart:
    """One workflow state document's value, decoded as its part name says (or why it did not decode).

    `value`: a WorkflowEvent (history, inbox), WorkflowMetadata, str (customStatus), or the decoded
    fields as a dict (signature, sigcert, ext-sigcert, propagated-history, and any part name this
    module does not know); None when `error` says why not. `warnings`: what decoded but is not
    quite right (strings that were not UTF-8, shown with U+FFFD), for the label and the details.
    """

    part: str
    sequence: int | None
    value: WorkflowEvent | WorkflowMetadata | str | dict | None
    error: str | None
    raw: bytes
    warnings: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The part's actor key as Dapr writes it ("history-000003", "metadata")."""
        return self.part if self.sequence is None else f"{self.part}-{self.sequence:06d}"

    @property
    def label(self) -> str:
        """One line for a list of parts: the key and what its value says."""
        if self.error is not None:
            return f"{self.key} · {self.error}"
        text = self._value_label()
        if self.warnings and not (isinstance(self.value, WorkflowEvent) and self.value.fields.get(INVALID_UTF8)):
            text += " (invalid UTF-8)"
        return text

    def _value_label(self) -> str:
        value = self.value
        if isinstance(value, WorkflowEvent):
            return f"{self.key} · {value.summary}"
        if isinstance(value, WorkflowMetadata):
            text = f"{self.key} · history {value.history_length} · inbox {value.inbox_length} · generation {value.generation}"
            if value.signature_length:
                text += f" · signatures {value.signature_length}"
            return text
        if isinstance(value, str):
            return f"{self.key} · {_one_line(value) if value else '(empty)'}"
        if isinstance(value, dict):
            return f"{self.key} · {_describe_fields(self.part, value)}"
        return self.key

    def to_json(self) -> dict:
        value = self.value
        if isinstance(value, (WorkflowEvent, WorkflowMetadata)):
            value = value.to_json()
        return {"part": self.part, "sequence": self.sequence, "key": self.key, "label": self.label,
                "value": value, "error": self.error, "warnings": list(self.warnings),
                "raw": base64.b64encode(self.raw).decode("ascii")}


# -- decoding ---------------------------------------------------------------------------------

class _Decoded:
    """What decoding one message tree gathered beside its fields."""

    def __init__(self) -> None:
        self.unknown: list[UnknownField] = []
        self.invalid_utf8: list[str] = []


def _decode_message(message: str, data: bytes, path: str, found: _Decoded, depth: int = 0, base: int = 0) -> dict:
    """The fields of `data` read as `message`, in the order they were written (JSON-able).

    Raises WireError (offsets into the outermost bytes). Unknown fields go to `found.unknown` and
    under "#N" in the result; repeated fields become lists; a message field given twice is merged,
    as protobuf does (its bytes concatenated); a later member of a oneof replaces an earlier one.
    """
    if depth > MAX_DEPTH:
        raise WireError(f"messages nested deeper than {MAX_DEPTH}", base)
    specs = MESSAGES[message]
    # First the records in order, a singular message's repeats merged into its first slot.
    slots: dict[object, list] = {}  # key → [spec or None, [records]]
    for index, record in enumerate(protowire.iter_fields(data, base_offset=base)):
        spec = specs.get(record.number)
        if spec is None or _WIRE_TYPE_OF_KIND[spec.kind] != record.wire_type:
            slots[("unknown", index)] = [None, [record]]
            continue
        if spec.oneof is not None:
            for other in specs.values():
                if other.oneof == spec.oneof and other.name != spec.name:
                    slots.pop(other.name, None)
        if spec.repeated:
            slots[("repeated", index)] = [spec, [record]]
        elif spec.kind == "message" and spec.name in slots:
            slots[spec.name][1].append(record)
        else:
            slots.pop(spec.name, None)  # a later scalar replaces an earlier one, in its place
            slots[spec.name] = [spec, [record]]
    # Then their values.
    result: dict = {}
    prefix = f"{path}." if path else ""
    for spec, records in slots.values():
        record = records[0]
        if spec is None:
            key = f"#{record.number}"
            found.unknown.append(UnknownField(prefix + key, record.number, record.wire_type, record.raw))
            _add(result, key, _render_unknown(record, depth))
            continue
        where = prefix + spec.name
        if spec.kind == "message":
            raw = b"".join(r.raw for r in records)
            value = _message_value(spec.of, raw, where, found, depth, record.value_offset)
        else:
            value = _scalar(spec, record, where, found)
        if spec.repeated and spec.of is not None and spec.of.endswith("Entry") and isinstance(value, dict):
            # A map field (on the wire, repeated key/value entries): shown as the map it is.
            result.setdefault(spec.name, {})[str(value.get("key", ""))] = value.get("value", "")
        elif spec.repeated:
            result.setdefault(spec.name, []).append(value)
        else:
            result[spec.name] = value
    return result


def _message_value(message: str, raw: bytes, path: str, found: _Decoded, depth: int, offset: int) -> object:
    """A nested message's JSON value: StringValue → its text, Timestamp → ISO text, map entry → pair."""
    decoded = _decode_message(message, raw, path, found, depth + 1, offset)
    if message == _STRING_VALUE and set(decoded) <= {"value"}:
        return decoded.get("value", "")
    if message == _TIMESTAMP and set(decoded) <= {"seconds", "nanos"}:
        moment = _timestamp(decoded)
        return _iso_nanos(decoded) if moment is not None else decoded
    return decoded


def _scalar(spec: FieldSpec, record: protowire.WireField, path: str, found: _Decoded) -> object:
    value = record.value
    if spec.kind == "string":
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            found.invalid_utf8.append(path)
            return bytes(value).decode("utf-8", errors="replace")
    if spec.kind == "bytes":
        return base64.b64encode(value).decode("ascii")
    if spec.kind == "bool":
        return value != 0
    if spec.kind == "int32":
        return protowire.as_int32(value)
    if spec.kind == "int64":
        return protowire.as_int64(value)
    if spec.kind == "uint32":
        return value & 0xFFFFFFFF
    if spec.kind == "enum":
        number = protowire.as_int32(value)
        return ENUMS.get(spec.of or "", {}).get(number, number)
    return value  # uint64


def _add(result: dict, key: str, value: object) -> None:
    """Put an unknown field's value under "#N"; a number seen again makes a list."""
    if key not in result:
        result[key] = value
    elif isinstance(result[key], list):
        result[key].append(value)
    else:
        result[key] = [result[key], value]


def _render_unknown(record: protowire.WireField, depth: int) -> object:
    """An unknown field's value as `protoc --decode_raw` would guess it: numbers as numbers; bytes as
    text when they are printable UTF-8, else as a message when they parse as one, else base64."""
    if record.wire_type != LENGTH_DELIMITED:
        return record.value
    raw = record.raw
    try:
        text = raw.decode("utf-8")
        if all(ch.isprintable() or ch in "\n\r\t" for ch in text):
            return text
    except UnicodeDecodeError:
        pass
    if raw and depth < MAX_DEPTH:
        try:
            nested = protowire.iter_fields(raw)
        except WireError:
            nested = None
        if nested:
            rendered: dict = {}
            for child in nested:
                key = f"#{child.number}"
                _add(rendered, key, _render_unknown(child, depth + 1))
            return rendered
    return base64.b64encode(raw).decode("ascii")


def _generic_fields(data: bytes) -> dict:
    """A message of no known schema, every field under "#N" (raises WireError)."""
    rendered: dict = {}
    for record in protowire.iter_fields(data):
        key = f"#{record.number}"
        _add(rendered, key, _render_unknown(record, 0))
    return rendered


def _decode_root(message: str, data: bytes) -> tuple[dict, _Decoded]:
    found = _Decoded()
    try:
        fields = _decode_message(message, bytes(data), "", found)
    except WireError as error:
        raise WorkflowDecodeError(f"does not decode as {message.rsplit('.', 1)[-1]}: {error}") from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH stops nesting long before
        raise WorkflowDecodeError(f"does not decode as {message}: nested too deep") from None
    if found.invalid_utf8:
        fields[INVALID_UTF8] = list(found.invalid_utf8)
    return fields, found


# -- times ------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799


def _timestamp(decoded: object) -> datetime | None:
    """A decoded Timestamp's UTC time (to the microsecond), None when it is out of range or not one."""
    if not isinstance(decoded, dict):
        return None
    seconds, nanos = decoded.get("seconds", 0), decoded.get("nanos", 0)
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos <= 999_999_999):
        return None
    return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)


def _iso_nanos(decoded: dict) -> str:
    """RFC 3339 text as protobuf's JSON mapping writes it (0, 3, 6 or 9 fraction digits)."""
    seconds, nanos = decoded.get("seconds", 0), decoded.get("nanos", 0)
    text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        digits = f"{nanos:09d}"
        text += "." + (digits[:3] if nanos % 1_000_000 == 0 else digits[:6] if nanos % 1000 == 0 else digits)
    return text + "Z"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _short_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _time_field(fields: dict, name: str) -> datetime | None:
    """The datetime of a Timestamp field as `fields` holds it (ISO text; a dict when out of range)."""
    value = fields.get(name)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(timezone.utc)
        except ValueError:
            return None
    return _timestamp(value)


# -- HistoryEvent -----------------------------------------------------------------------------

_EVENT_FIELDS = {spec.name for spec in MESSAGES["HistoryEvent"].values() if spec.oneof == "eventType"}


def decode_history_event(data: bytes) -> WorkflowEvent:
    """A history or inbox entry (durabletask HistoryEvent); raises WorkflowDecodeError."""
    fields, found = _decode_root("HistoryEvent", data)
    event_field = next((name for name in fields if name in _EVENT_FIELDS), None)
    if event_field is not None:
        type_ = event_field[0].upper() + event_field[1:]
        body = fields[event_field] if isinstance(fields[event_field], dict) else {}
    else:
        # A field of the eventType oneof this schema does not know is, on the wire, an unknown
        # length-delimited field of HistoryEvent: the first such names the type.
        unknown_event = next((u for u in found.unknown if "." not in u.path and u.wire_type == LENGTH_DELIMITED
                              and u.number > 2), None)
        type_ = f"Unknown#{unknown_event.number}" if unknown_event else "Unknown"
        body = {}
    timestamp = _time_field(fields, "timestamp")
    event = dict(event_id=fields.get("eventId", 0), timestamp=timestamp, type=type_, fields=fields,
                 unknown=tuple(found.unknown))
    return WorkflowEvent(**event, **_event_details(event_field, body))


def _event_details(event_field: str | None, body: dict) -> dict:
    """The attributes of WorkflowEvent a user looks for, taken from the event's own message."""
    details: dict = {}
    text = _text
    if event_field == "executionStarted":
        details.update(name=text(body.get("name")), input=text(body.get("input")),
                       instance_id=text(_get(body, "workflowInstance", "instanceId")),
                       parent_instance_id=text(_get(body, "parentInstance", "workflowInstance", "instanceId")))
    elif event_field == "executionCompleted":
        status = body.get("workflowStatus", ENUMS["OrchestrationStatus"][0])
        details.update(status=_status_of(status), output=text(body.get("result")),
                       failure=_failure(body.get("failureDetails")))
    elif event_field in ("executionTerminated", "continueAsNew", "executionSuspended", "executionResumed"):
        details.update(input=text(body.get("input")))
    elif event_field in ("taskScheduled", "eventRaised"):
        details.update(name=text(body.get("name")), input=text(body.get("input")))
    elif event_field in ("taskCompleted", "childWorkflowInstanceCompleted"):
        details.update(task_id=body.get("taskScheduledId", 0), output=text(body.get("result")))
    elif event_field in ("taskFailed", "childWorkflowInstanceFailed"):
        details.update(task_id=body.get("taskScheduledId", 0), failure=_failure(body.get("failureDetails")))
    elif event_field in ("childWorkflowInstanceCreated", "eventSent"):
        details.update(name=text(body.get("name")), input=text(body.get("input")),
                       instance_id=text(body.get("instanceId")))
    elif event_field == "detachedWorkflowInstanceCreated":
        details.update(instance_id=text(body.get("instanceId")))
    elif event_field == "timerCreated":
        name = body.get("name") or _get(body, "externalEvent", "name")
        details.update(name=text(name), fire_at=_time_field(body, "fireAt"))
    elif event_field == "timerFired":
        details.update(task_id=body.get("timerId", 0), fire_at=_time_field(body, "fireAt"))
    return details


def _get(value: object, *names: str) -> object:
    for name in names:
        if not isinstance(value, dict):
            return None
        value = value.get(name)
    return value


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _status_of(value: object) -> RuntimeStatus:
    if isinstance(value, str) and value.startswith("ORCHESTRATION_STATUS_"):
        return RuntimeStatus[value.removeprefix("ORCHESTRATION_STATUS_")]
    return _STATUS_BY_NUMBER.get(value, RuntimeStatus.UNKNOWN) if isinstance(value, int) else RuntimeStatus.UNKNOWN


def _failure(details: object, depth: int = 0) -> Failure | None:
    if not isinstance(details, dict):
        return None
    inner = _failure(details.get("innerFailure"), depth + 1) if depth < MAX_DEPTH else None
    return Failure(error_type=_text(details.get("errorType")) or "", message=_text(details.get("errorMessage")) or "",
                   stack_trace=_text(details.get("stackTrace")), inner=inner,
                   non_retriable=details.get("isNonRetriable") is True)


# -- metadata and custom status ---------------------------------------------------------------

def decode_metadata(data: bytes) -> WorkflowMetadata:
    """The metadata part (BackendWorkflowStateMetadata, 1.18; WorkflowStateMetadata, 1.15–1.17, whose
    three fields are the first three of 1.18's). Raises WorkflowDecodeError."""
    fields, found = _decode_root("BackendWorkflowStateMetadata", data)
    signing = {"signatureLength", "signingCertificateLength", "externalSigningCertificateLength"} & set(fields)
    number = lambda name: fields.get(name, 0) if isinstance(fields.get(name, 0), int) else 0  # noqa: E731
    return WorkflowMetadata(
        inbox_length=number("inboxLength"), history_length=number("historyLength"), generation=number("generation"),
        signature_length=number("signatureLength"), signing_certificate_length=number("signingCertificateLength"),
        external_signing_certificate_length=number("externalSigningCertificateLength"),
        schema="BackendWorkflowStateMetadata" if signing else "WorkflowStateMetadata",
        unknown=tuple(found.unknown),
    )


def decode_custom_status(data: bytes) -> str:
    """The customStatus part (google.protobuf.StringValue), the text as the SDK stored it (dapr 1.19's
    Python SDK stores a str as is: `set_custom_status("inventory reserved")` is that text, unquoted).

    Raises WorkflowDecodeError for bytes that are not a StringValue (including fields it does not
    have). Text that is not UTF-8 is returned with U+FFFD in place of the bad bytes.
    """
    fields, found = _decode_root(_STRING_VALUE, data)
    if found.unknown:
        raise WorkflowDecodeError(f"does not decode as StringValue: unexpected field #{found.unknown[0].number}")
    return fields.get("value", "")


# -- one part ---------------------------------------------------------------------------------

def _split_key(actor_key: str) -> tuple[str, int | None]:
    sequenced = _SEQUENCED_PART.match(actor_key)
    if sequenced is None:
        return actor_key, None
    return sequenced.group(1), int(sequenced.group(2))


def decode_workflow_part(actor_key: str, data: bytes) -> DecodedPart:
    """Decode one part by its actor key ("history-000003", "metadata", …). Never raises.

    Part names this module does not know are decoded field by field (under "#N") rather than dropped;
    bytes that do not decode as the part's message give `error` and keep `raw` for display.
    """
    part, sequence = _split_key(actor_key)
    data = bytes(data) if isinstance(data, (bytes, bytearray, memoryview)) else b""
    try:
        value: WorkflowEvent | WorkflowMetadata | str | dict
        invalid: list[str] = []
        if part in ("history", "inbox"):
            value = decode_history_event(data)
            invalid = value.fields.get(INVALID_UTF8, [])
        elif part == "metadata":
            value = decode_metadata(data)
        elif part == "customStatus":
            value = decode_custom_status(data)
            invalid = [] if _is_utf8_string_value(data) else ["value"]
        elif part in PART_MESSAGES:
            value, _found = _decode_root(PART_MESSAGES[part], data)
            invalid = value.get(INVALID_UTF8, [])
        else:
            try:
                value = _generic_fields(data)
            except WireError as error:
                raise WorkflowDecodeError(f"does not decode as a protobuf message: {error}") from None
    except WorkflowDecodeError as error:
        return DecodedPart(part, sequence, None, str(error), data)
    except Exception as error:  # noqa: BLE001 - never raise out of here; a bug must still show the bytes
        return DecodedPart(part, sequence, None, f"does not decode (decoder error {type(error).__name__}: {error})", data)
    warnings = tuple(f"{path}: not valid UTF-8 (shown with U+FFFD)" for path in invalid)
    return DecodedPart(part, sequence, value, None, data, warnings)


def _is_utf8_string_value(data: bytes) -> bool:
    _fields, found = _decode_root(_STRING_VALUE, data)
    return not found.invalid_utf8


def _describe_fields(part: str, fields: dict) -> str:
    message = PART_MESSAGES.get(part)
    if message == "HistorySignature":
        start, count = fields.get("startEventIndex", 0), fields.get("eventCount", 0)
        return f"HistorySignature · events {start}–{start + count - 1}" if count else "HistorySignature · no events"
    if message in ("SigningCertificate", "ExternalSigningCertificate"):
        certificate = fields.get("certificate", "")
        size = len(base64.b64decode(certificate)) if isinstance(certificate, str) else 0
        return f"{message} · {size} bytes"
    if message == "PropagatedHistory":
        chunks = fields.get("chunks", [])
        scope = str(fields.get("scope", "HISTORY_PROPAGATION_SCOPE_NONE")).removeprefix("HISTORY_PROPAGATION_SCOPE_")
        return f"PropagatedHistory · {scope} · {len(chunks)} chunk{'s' if len(chunks) != 1 else ''}"
    count = len([key for key in fields if key != INVALID_UTF8])
    return f"{count} field{'s' if count != 1 else ''} (no schema for this part)"


def _one_line(text: str, limit: int = 80) -> str:
    """Text for a one-line label: a JSON string literal unquoted, newlines folded, long text cut."""
    try:
        decoded = json.loads(text)
        if isinstance(decoded, str):
            text = decoded
    except ValueError:
        pass
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- runtime status ---------------------------------------------------------------------------

def runtime_status(history: Iterable[WorkflowEvent]) -> RuntimeStatus:
    """The status durabletask derives from a whole history (PENDING when no ExecutionStarted).

    Follows durabletask-go's runtimestate (NewWorkflowRuntimeState + RuntimeStatus): the first
    ExecutionStarted and the first ExecutionCompleted count (later ones are duplicates it rejects);
    ExecutionSuspended/Resumed toggle suspension; ExecutionStalled stalls and any later accepted event
    clears it. Completed wins over stalled, stalled over suspended.
    """
    return _derive(history, assume_started=False)


def _derive(history: Iterable[WorkflowEvent], assume_started: bool) -> RuntimeStatus:
    started = assume_started
    completed: RuntimeStatus | None = None
    suspended = stalled = False
    resolved: set[tuple[str, int | None]] = set()
    for event in history:
        kind = event.type
        if kind == "ExecutionStarted":
            if started and not assume_started:
                continue  # duplicate: rejected, changes nothing
            started = True
            assume_started = False
        elif kind == "ExecutionCompleted":
            if completed is not None:
                continue
            completed = event.status or RuntimeStatus.UNKNOWN
        elif kind == "ExecutionSuspended":
            suspended = True
        elif kind == "ExecutionResumed":
            suspended = False
        elif kind == "ExecutionStalled":
            stalled = True
            continue
        elif kind in _RESOLUTIONS:
            key = (_RESOLUTIONS[kind], event.task_id)
            if key in resolved:
                continue
            resolved.add(key)
        stalled = False
    if not started:
        return RuntimeStatus.STALLED if stalled else RuntimeStatus.PENDING
    if completed is not None:
        return completed
    if stalled:
        return RuntimeStatus.STALLED
    return RuntimeStatus.SUSPENDED if suspended else RuntimeStatus.RUNNING


_RESOLUTIONS = {
    "TaskCompleted": "task", "TaskFailed": "task", "TimerFired": "timer",
    "ChildWorkflowInstanceCompleted": "child", "ChildWorkflowInstanceFailed": "child",
}


# -- one instance -----------------------------------------------------------------------------

#: How many last history entries summarize_instance needs to get the status right for real runs.
#: Dapr ends a completed run with ExecutionCompleted (terminate: ExecutionTerminated, then
#: ExecutionCompleted TERMINATED) and a suspension with [WorkflowStarted, ExecutionSuspended]; every
#: event that arrives while suspended adds a [WorkflowStarted, event] pair after it. 16 entries keep
#: the suspension in view through seven such arrivals; past that, a suspended instance reads RUNNING.
TAIL_LENGTH = 16


@dataclass(frozen=True)
class InstanceSummary:
    """One workflow instance, as a list of instances shows it."""

    app_id: str
    instance_id: str
    partition: str
    name: str | None
    status: RuntimeStatus
    created: datetime | None
    last_updated: datetime | None
    history_length: int
    inbox_length: int
    custom_status: str | None
    failure: Failure | None
    parent_instance_id: str | None

    def to_json(self) -> dict:
        return {
            "app_id": self.app_id, "instance_id": self.instance_id, "partition": self.partition, "name": self.name,
            "status": self.status.value, "created": _iso(self.created), "last_updated": _iso(self.last_updated),
            "history_length": self.history_length, "inbox_length": self.inbox_length,
            "custom_status": self.custom_status, "failure": self.failure.to_json() if self.failure else None,
            "parent_instance_id": self.parent_instance_id,
        }


def summarize_instance(
    app_id: str,
    instance_id: str,
    partition: str,
    metadata: WorkflowMetadata | None,
    first: WorkflowEvent | None,
    tail: Sequence[WorkflowEvent],
    custom_status: str | None,
    last_updated: datetime | None,
) -> InstanceSummary:
    """An instance's summary from its metadata, an early history event and the last events.

    `first`: the instance's ExecutionStarted — in Dapr's histories history-000001, since every turn
    (the first too) opens with a WorkflowStarted; history-000000 is accepted and then gives the
    creation time but no name (unless the tail reaches back to history-000001). While the history
    is empty (metadata says 0), the ExecutionStarted waiting in inbox-000000 may be given: the
    instance is then PENDING with that event's name. `tail`: the last TAIL_LENGTH history entries in order (the whole
    history when shorter; it may repeat `first`). `last_updated`: the caller's (e.g. the metadata
    document's write time); when None, the last event's timestamp, as Dapr reports it.

    Status is runtime_status over what is seen. When part of the history is not seen (metadata says
    it is longer), the instance counts as started even if its ExecutionStarted is not among the
    events given, and a suspension older than the tail is missed (see TAIL_LENGTH).
    """
    events: list[WorkflowEvent] = [first] if first is not None else []
    events += [event for event in tail if event is not first]
    history_length = metadata.history_length if metadata else len(events)
    unseen = history_length > len(events)
    if metadata is not None and metadata.history_length == 0:
        status = RuntimeStatus.PENDING  # `first` can only be from the inbox: nothing has run yet
    elif not events:
        status = RuntimeStatus.UNKNOWN if history_length else RuntimeStatus.PENDING
    else:
        status = _derive(events, assume_started=unseen)
    start = next((event for event in events if event.type == "ExecutionStarted"), None)
    completion = next((event for event in events if event.type == "ExecutionCompleted"), None)
    created = start.timestamp if start else (first.timestamp if first is not None else None)
    if last_updated is None and events:
        last_updated = events[-1].timestamp
    return InstanceSummary(
        app_id=app_id, instance_id=instance_id, partition=partition, name=start.name if start else None,
        status=status, created=created, last_updated=last_updated, history_length=history_length,
        inbox_length=metadata.inbox_length if metadata else 0, custom_status=custom_status,
        failure=completion.failure if completion else None,
        parent_instance_id=start.parent_instance_id if start else None,
    )
