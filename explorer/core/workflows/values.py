"""What a screen shows of a workflow part (`WorkflowEvent`, `WorkflowMetadata`, `DecodedPart`, `Failure`,
`UnknownField`) and the times they carry. Pure: values, no I/O."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from explorer.core.workflows.schema import INVALID_UTF8, PART_MESSAGES, RuntimeStatus



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
            "event_id": self.event_id, "timestamp": iso_z(self.timestamp), "type": self.type, "summary": self.summary,
            "name": self.name, "input": self.input, "output": self.output,
            "failure": self.failure.to_json() if self.failure else None, "fire_at": iso_z(self.fire_at),
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


# -- times ------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# google.protobuf.Timestamp's valid range: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
_MIN_SECONDS, _MAX_SECONDS = -62_135_596_800, 253_402_300_799


def timestamp_of(decoded: object) -> datetime | None:
    """A decoded Timestamp's UTC time (to the microsecond), None when it is out of range or not one."""
    if not isinstance(decoded, dict):
        return None
    seconds, nanos = decoded.get("seconds", 0), decoded.get("nanos", 0)
    if not (_MIN_SECONDS <= seconds <= _MAX_SECONDS and 0 <= nanos <= 999_999_999):
        return None
    return _EPOCH + timedelta(seconds=seconds, microseconds=nanos // 1000)


def iso_nanos(decoded: dict) -> str:
    """RFC 3339 text as protobuf's JSON mapping writes it (0, 3, 6 or 9 fraction digits)."""
    seconds, nanos = decoded.get("seconds", 0), decoded.get("nanos", 0)
    text = (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if nanos:
        digits = f"{nanos:09d}"
        text += "." + (digits[:3] if nanos % 1_000_000 == 0 else digits[:6] if nanos % 1000 == 0 else digits)
    return text + "Z"


def iso_z(moment: datetime | None) -> str | None:
    """ISO 8601 with `Z` for UTC, as the JSON output writes a moment (None stays None)."""
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


def _short_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def time_field(fields: dict, name: str) -> datetime | None:
    """The datetime of a Timestamp field as `fields` holds it (ISO text; a dict when out of range)."""
    value = fields.get(name)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value).astimezone(timezone.utc)
        except ValueError:
            return None
    return timestamp_of(value)


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
