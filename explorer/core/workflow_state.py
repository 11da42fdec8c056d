"""Dapr workflow state as stored in the actor state store: what each part says.

Decodes the protobuf values Dapr's workflow engine saves under
`<app>||dapr.internal.<ns>.<app>.workflow||<instance>||<part>` (history and
inbox events, metadata, custom status, and the 1.18 signing parts) into
values a screen can show, and derives an instance's runtime status from its
history the way durabletask does. Pure logic: this module must never do I/O
(no network, no files, no clock), never import dapr, grpc, azure, textual or
google.protobuf, and never drop a field it does not know: unknown fields and
event types are kept, in order, and shown.

The schema is a table of our own (see docs/workflow-decoding.md), checked
against the exact descriptors of the durabletask-go module the pinned daprd
uses by tests/unit/test_workflow_schema.py.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime


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


@dataclass(frozen=True)
class Failure:
    """durabletask's TaskFailureDetails: what failed, why, and what caused it."""

    error_type: str
    message: str
    stack_trace: str | None
    inner: Failure | None
    non_retriable: bool


@dataclass(frozen=True)
class UnknownField:
    """A field the schema table does not name, kept as stored; `path` like "taskScheduled.#17" or "#40"."""

    path: str
    number: int
    wire_type: int
    raw: bytes


@dataclass(frozen=True)
class WorkflowEvent:
    """One durabletask HistoryEvent (a history or inbox entry)."""

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
        raise NotImplementedError

    def to_json(self) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class WorkflowMetadata:
    """The `metadata` part: how many history/inbox/signing entries the instance has."""

    inbox_length: int
    history_length: int
    generation: int
    signature_length: int
    signing_certificate_length: int
    external_signing_certificate_length: int
    schema: str
    unknown: tuple[UnknownField, ...] = ()

    def to_json(self) -> dict:
        raise NotImplementedError


@dataclass(frozen=True)
class DecodedPart:
    """One workflow state document's value, decoded as its part name says (or why it did not decode)."""

    part: str
    sequence: int | None
    value: WorkflowEvent | WorkflowMetadata | str | dict | None
    error: str | None
    raw: bytes

    @property
    def label(self) -> str:
        raise NotImplementedError

    def to_json(self) -> dict:
        raise NotImplementedError


def decode_workflow_part(actor_key: str, data: bytes) -> DecodedPart:
    """Decode one part by its actor key ("history-000003", "metadata", …). Never raises."""
    raise NotImplementedError


def decode_history_event(data: bytes) -> WorkflowEvent:
    """A HistoryEvent; raises WorkflowDecodeError."""
    raise NotImplementedError


def decode_metadata(data: bytes) -> WorkflowMetadata:
    """The metadata part (BackendWorkflowStateMetadata, 1.18; WorkflowStateMetadata, 1.15–1.17)."""
    raise NotImplementedError


def decode_custom_status(data: bytes) -> str:
    """The customStatus part (a google.protobuf.StringValue)."""
    raise NotImplementedError


def runtime_status(history: Iterable[WorkflowEvent]) -> RuntimeStatus:
    """The status durabletask derives from a whole history (PENDING when no ExecutionStarted)."""
    raise NotImplementedError


#: How many last history entries summarize_instance needs to get the status right for real runs.
TAIL_LENGTH = 8


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
        raise NotImplementedError


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
    """An instance's summary from its metadata, first history event and last TAIL_LENGTH events."""
    raise NotImplementedError
