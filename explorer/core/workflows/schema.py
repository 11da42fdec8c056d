"""The schema of Dapr's workflow state as a table of our own (`MESSAGES`, `ENUMS`, `PART_MESSAGES`), read with
the schema-less wire reader in `protowire`; tests/unit/test_workflow_schema.py checks it field by field
against the pinned durabletask-go's own descriptors. Pure: a table, no I/O."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from explorer.core.workflows.protowire import LENGTH_DELIMITED, VARINT


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
STATUS_BY_NUMBER = {
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
STRING_VALUE = "google.protobuf.StringValue"
TIMESTAMP = "google.protobuf.Timestamp"

#: Every message we decode, by its name in the pinned schema (nested ones as "Outer.Inner"; the
#: backend package's without their `durabletask.protos.backend.v1.` prefix), field number → spec.
MESSAGES: dict[str, dict[int, FieldSpec]] = {
    "HistoryEvent": {
        1: _F("eventId", "int32"),
        2: _F("timestamp", "message", TIMESTAMP),
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
        2: _F("version", "message", STRING_VALUE),
        3: _F("input", "message", STRING_VALUE),
        4: _F("workflowInstance", "message", "WorkflowInstance"),
        5: _F("parentInstance", "message", "ParentInstanceInfo"),
        6: _F("scheduledStartTimestamp", "message", TIMESTAMP),
        7: _F("parentTraceContext", "message", "TraceContext"),
        8: _F("workflowSpanID", "message", STRING_VALUE),
        9: _F("tags", "message", "ExecutionStartedEvent.TagsEntry", repeated=True),
    },
    "ExecutionStartedEvent.TagsEntry": {1: _F("key", "string"), 2: _F("value", "string")},
    "ExecutionCompletedEvent": {
        1: _F("workflowStatus", "enum", "OrchestrationStatus"),
        2: _F("result", "message", STRING_VALUE),
        3: _F("failureDetails", "message", "TaskFailureDetails"),
    },
    "ExecutionTerminatedEvent": {1: _F("input", "message", STRING_VALUE), 2: _F("recurse", "bool")},
    "TaskScheduledEvent": {
        1: _F("name", "string"),
        2: _F("version", "message", STRING_VALUE),
        3: _F("input", "message", STRING_VALUE),
        4: _F("parentTraceContext", "message", "TraceContext"),
        5: _F("taskExecutionId", "string"),
        6: _F("rerunParentInstanceInfo", "message", "RerunParentInstanceInfo"),
        7: _F("historyPropagationScope", "enum", "HistoryPropagationScope"),
    },
    "TaskCompletedEvent": {
        1: _F("taskScheduledId", "int32"),
        2: _F("result", "message", STRING_VALUE),
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
        3: _F("version", "message", STRING_VALUE),
        4: _F("input", "message", STRING_VALUE),
        5: _F("parentTraceContext", "message", "TraceContext"),
        6: _F("rerunParentInstanceInfo", "message", "RerunParentInstanceInfo"),
        7: _F("historyPropagationScope", "enum", "HistoryPropagationScope"),
        8: _F("retryParentInstanceInfo", "message", "RetryParentInstanceInfo"),
    },
    "ChildWorkflowInstanceCompletedEvent": {
        1: _F("taskScheduledId", "int32"),
        2: _F("result", "message", STRING_VALUE),
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
        1: _F("fireAt", "message", TIMESTAMP),
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
    "TimerFiredEvent": {1: _F("fireAt", "message", TIMESTAMP), 2: _F("timerId", "int32")},
    "WorkflowStartedEvent": {1: _F("version", "message", "WorkflowVersion")},
    "WorkflowCompletedEvent": {},
    "EventSentEvent": {
        1: _F("instanceId", "string"), 2: _F("name", "string"), 3: _F("input", "message", STRING_VALUE),
    },
    "EventRaisedEvent": {1: _F("name", "string"), 2: _F("input", "message", STRING_VALUE)},
    "ContinueAsNewEvent": {1: _F("input", "message", STRING_VALUE)},
    "ExecutionSuspendedEvent": {1: _F("input", "message", STRING_VALUE)},
    "ExecutionResumedEvent": {1: _F("input", "message", STRING_VALUE)},
    "ExecutionStalledEvent": {1: _F("reason", "enum", "StalledReason"), 2: _F("description", "string")},
    "DetachedWorkflowInstanceCreatedEvent": {1: _F("instanceId", "string")},
    # orchestration.proto
    "TaskRouter": {1: _F("sourceAppID", "string"), 2: _F("targetAppID", "string"), 3: _F("targetAppNamespace", "string")},
    "WorkflowVersion": {1: _F("patches", "string", repeated=True), 2: _F("name", "string")},
    "WorkflowInstance": {1: _F("instanceId", "string"), 2: _F("executionId", "message", STRING_VALUE)},
    "TaskFailureDetails": {
        1: _F("errorType", "string"),
        2: _F("errorMessage", "string"),
        3: _F("stackTrace", "message", STRING_VALUE),
        4: _F("innerFailure", "message", "TaskFailureDetails"),
        5: _F("isNonRetriable", "bool"),
    },
    "ParentInstanceInfo": {
        1: _F("taskScheduledId", "int32"),
        2: _F("name", "message", STRING_VALUE),
        3: _F("version", "message", STRING_VALUE),
        4: _F("workflowInstance", "message", "WorkflowInstance"),
        5: _F("appID", "string"),
        6: _F("appNamespace", "string"),
    },
    "RerunParentInstanceInfo": {1: _F("instanceID", "string")},
    "RetryParentInstanceInfo": {1: _F("instanceID", "string")},
    "TraceContext": {
        1: _F("traceParent", "string"), 2: _F("spanID", "string"), 3: _F("traceState", "message", STRING_VALUE),
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
    TIMESTAMP: {1: _F("seconds", "int64"), 2: _F("nanos", "int32")},
    STRING_VALUE: {1: _F("value", "string")},
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
    "customStatus": STRING_VALUE,
    "signature": "HistorySignature",
    "sigcert": "SigningCertificate",
    "ext-sigcert": "ExternalSigningCertificate",
    "propagated-history": "PropagatedHistory",
}

WIRE_TYPE_OF_KIND = {
    "string": LENGTH_DELIMITED, "bytes": LENGTH_DELIMITED, "message": LENGTH_DELIMITED,
    "bool": VARINT, "int32": VARINT, "uint32": VARINT, "int64": VARINT, "uint64": VARINT, "enum": VARINT,
}
SEQUENCED_PART = re.compile(r"^(history|inbox|signature|sigcert|ext-sigcert)-([0-9]{1,20})$")
#: Nesting deeper than this is refused (TaskFailureDetails nests itself; bytes could nest without end).
MAX_DEPTH = 64
#: Key in `fields` listing the paths of strings that were not valid UTF-8 (shown with U+FFFD).
INVALID_UTF8 = "!invalidUtf8"
