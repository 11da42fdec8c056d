"""Decoding one workflow part's bytes by the schema table: history and inbox events, metadata, custom
status and the signing parts. Never raises on what a store holds: bytes that do not decode become an
error text beside the raw bytes (`decode_workflow_part`); unknown fields are kept, in order."""

from __future__ import annotations

import base64

from explorer.core.workflows import protowire
from explorer.core.workflows.protowire import LENGTH_DELIMITED, WireError
from explorer.core.workflows.schema import (
    ENUMS,
    INVALID_UTF8,
    MAX_DEPTH,
    MESSAGES,
    PART_MESSAGES,
    SEQUENCED_PART,
    STATUS_BY_NUMBER,
    STRING_VALUE,
    TIMESTAMP,
    WIRE_TYPE_OF_KIND,
    FieldSpec,
    RuntimeStatus,
    WorkflowDecodeError,
)
from explorer.core.workflows.values import (
    DecodedPart,
    Failure,
    UnknownField,
    WorkflowEvent,
    WorkflowMetadata,
    iso_nanos,
    time_field,
    timestamp_of,
)


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
        if spec is None or WIRE_TYPE_OF_KIND[spec.kind] != record.wire_type:
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
    if message == STRING_VALUE and set(decoded) <= {"value"}:
        return decoded.get("value", "")
    if message == TIMESTAMP and set(decoded) <= {"seconds", "nanos"}:
        moment = timestamp_of(decoded)
        return iso_nanos(decoded) if moment is not None else decoded
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
    timestamp = time_field(fields, "timestamp")
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
        details.update(name=text(name), fire_at=time_field(body, "fireAt"))
    elif event_field == "timerFired":
        details.update(task_id=body.get("timerId", 0), fire_at=time_field(body, "fireAt"))
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
    return STATUS_BY_NUMBER.get(value, RuntimeStatus.UNKNOWN) if isinstance(value, int) else RuntimeStatus.UNKNOWN


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
    fields, found = _decode_root(STRING_VALUE, data)
    if found.unknown:
        raise WorkflowDecodeError(f"does not decode as StringValue: unexpected field #{found.unknown[0].number}")
    return fields.get("value", "")


# -- one part ---------------------------------------------------------------------------------

def _split_key(actor_key: str) -> tuple[str, int | None]:
    sequenced = SEQUENCED_PART.match(actor_key)
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
    _fields, found = _decode_root(STRING_VALUE, data)
    return not found.invalid_utf8
