"""dapr-agents 1.0.9's models as a table (`SCHEMAS`), a value fitted to them (`Problem`, `Unknown`), and a
Cosmos item read as a Dapr key and its JSON value (`Stored`). Pure: never does I/O, never raises on what a
store holds."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from explorer.core.agents.names import INDEX_FIELD
from explorer.core.display import kind_words
from explorer.core.envelope import SYSTEM_FIELDS, KeyPrefix, StateKey, parse_document_id
from explorer.core.model import partition_of, whole_number


# -- fitting a value to the library's models ------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    """Where a document does not fit the model (`path` like "agent.appid" or "messages[2].role")."""

    path: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}: {self.text}" if self.path else self.text

    def to_json(self) -> dict:
        return {"path": self.path, "text": self.text}


@dataclass(frozen=True)
class Unknown:
    """A field the model does not name, kept as stored."""

    path: str
    value: object

    def to_json(self) -> dict:
        return {"path": self.path, "value": self.value}


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # str, bool, int, number, datetime, any, dict (any object), a model name, list[X], map[X]
    required: bool = False  # no default in the model: missing is a problem
    nullable: bool = True  # Optional[…]: null is fine


def _f(spec: str) -> FieldSpec:
    """`"str"` required and not null; `"str?"` not required, null allowed; `"str!"` required,
    null allowed (pydantic's `Optional[str]` without a default); `"bool="` not required, not null."""
    if spec.endswith("?"):
        return FieldSpec(spec[:-1], required=False, nullable=True)
    if spec.endswith("!"):
        return FieldSpec(spec[:-1], required=True, nullable=True)
    if spec.endswith("="):
        return FieldSpec(spec[:-1], required=False, nullable=False)
    return FieldSpec(spec, required=True, nullable=False)


#: The pydantic models of dapr-agents 1.0.9 that shape what it stores, field by field
#: (agents/configs.py, agents/schemas.py, types/message.py, types/tools.py, streaming/keys.py);
#: tests/unit/test_agents_schema.py checks it against the library's own models.
SCHEMAS: dict[str, dict[str, FieldSpec]] = {
    "AgentMetadataSchema": {n: _f(s) for n, s in {
        "version": "str", "agent": "AgentMetadata", "name": "str", "registered_at": "str",
        "pubsub": "PubSubMetadata?", "memory": "MemoryMetadata?", "llm": "LLMMetadata?",
        "registry": "RegistryMetadata?", "tools": "list[ToolMetadata]?"}.items()},
    "AgentMetadata": {n: _f(s) for n, s in {
        "appid": "str", "type": "str", "orchestrator": "bool=", "role": "str?", "goal": "str?",
        "instructions": "list[str]?", "system_prompt": "str?", "framework": "str?", "max_iterations": "int?",
        "tool_choice": "str?", "metadata": "dict?"}.items()},
    "PubSubMetadata": {n: _f(s) for n, s in {
        "resource_name": "str", "broadcast_topic": "str?", "agent_topic": "str?"}.items()},
    "MemoryStoreMetadata": {n: _f(s) for n, s in {"type": "str", "resource_name": "str?"}.items()},
    "MemoryMetadata": {n: _f(s) for n, s in {
        "short_term": "MemoryStoreMetadata?", "long_term": "MemoryStoreMetadata?"}.items()},
    "LLMMetadata": {n: _f(s) for n, s in {
        "client": "str", "provider": "str", "api": "str=", "model": "str=", "resource_name": "str?",
        "base_url": "str?", "azure_endpoint": "str?", "azure_deployment": "str?", "prompt_template": "str?"}.items()},
    "ToolMetadata": {n: _f(s) for n, s in {"name": "str", "description": "str", "args": "str"}.items()},
    "RegistryMetadata": {n: _f(s) for n, s in {"resource_name": "str?", "name": "str?"}.items()},
    "RegistryIndex": {INDEX_FIELD: _f("list[str]")},
    "AgentWorkflowEntry": {n: _f(s) for n, s in {
        "messages": "list[AgentWorkflowMessage]=", "system_messages": "list[AgentWorkflowMessage]=",
        "last_message": "AgentWorkflowMessage?", "tool_history": "list[ToolExecutionRecord]=", "source": "str?",
        "triggering_workflow_instance_id": "str?", "trace_context": "dict?", "session_id": "str?",
        "executor_usage": "list[dict]=", "approval_requests": "map[dict]=", "pending_inputs": "map[dict]=",
        "stream_context": "StreamContext?"}.items()},
    "AgentWorkflowMessage": {n: _f(s) for n, s in {
        "id": "str=", "timestamp": "datetime=", "content": "str!", "role": "str", "name": "str?",
        "tool_calls": "list[ToolCall]?", "function_call": "FunctionCall?", "tool_call_id": "str?"}.items()},
    "ToolCall": {n: _f(s) for n, s in {"id": "str", "type": "str", "function": "FunctionCall"}.items()},
    "FunctionCall": {n: _f(s) for n, s in {"name": "str", "arguments": "str"}.items()},
    "ToolExecutionRecord": {n: _f(s) for n, s in {
        "id": "str=", "tool_call_id": "str", "tool_name": "str", "tool_args": "dict=", "status": "ToolStatus=",
        "is_agent_call": "bool=", "started_at": "datetime=", "completed_at": "datetime?", "duration_ms": "number?",
        "execution_result": "str?", "structured_result": "dict?", "error_message": "str?",
        "executing_agent": "str?", "agent_workflow_instance_id": "str?", "attempt": "int="}.items()},
    "ApprovalRequiredEvent": {n: _f(s) for n, s in {  # as model_dump writes it: tool_name is computed
        "approval_request_id": "str", "instance_id": "str", "step_name": "str", "step_kind": "str=", "source": "str=",
        "tool_call_id": "str", "tool_arguments": "dict", "instructions": "str?", "context": "dict=",
        "requested_at": "datetime=", "timeout_seconds": "int", "required_approver_scopes": "list[str]=",
        "allowed_approver_subjects": "list[str]=", "approver_audience": "str?", "tool_name": "str="}.items()},
    "StreamContext": {n: _f(s) for n, s in {  # a TypedDict(total=False): every field optional
        "root_instance_id": "str=", "listener_config": "dict=", "parent_agent": "str?",
        "parent_instance_id": "str?", "depth": "int=", "call_path": "list[str]=", "trace_parent": "str?",
        "include_complete_message": "bool="}.items()},
}
#: ToolExecutionStatus's values.
TOOL_STATUSES = ("pending", "running", "completed", "failed", "timeout", "denied", "skipped")

_KINDS = {"str": "text", "bool": "true or false", "int": "a whole number", "number": "a number",
          "datetime": "a date-time (ISO 8601 text)", "dict": "an object", "ToolStatus": "a tool status"}


def _kind_words(kind: str) -> str:
    if kind.startswith("list["):
        return "a list"
    if kind.startswith("map["):
        return "an object"
    return _KINDS.get(kind, f"an object ({kind})")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def fit(value: object, kind: str, path: str = "") -> tuple[list[Problem], list[Unknown]]:
    """How `value` fits `kind` (a model of SCHEMAS, or a field kind): what does not fit, and the
    fields no model names. Never raises."""
    problems: list[Problem] = []
    unknown: list[Unknown] = []
    _fit(value, kind, path, problems, unknown, 0)
    return problems, unknown


def _fit(value: object, kind: str, path: str, problems: list[Problem], unknown: list[Unknown], depth: int) -> None:
    if depth > 32:
        return
    if kind.startswith(("list[", "map[")):
        is_list = kind.startswith("list[")
        inner = kind[kind.index("[") + 1:-1]
        if not isinstance(value, list if is_list else dict):
            wanted = "a list" if is_list else "an object"
            problems.append(Problem(path, f"should be {wanted}, is {kind_words(value, of_json=True)}"))
            return
        items = enumerate(value) if is_list else ((json.dumps(k), v) for k, v in value.items())
        for name, item in items:
            _fit_field(item, _f(inner), f"{path}[{name}]", problems, unknown, depth + 1)
        return
    schema = SCHEMAS.get(kind)
    if schema is not None:
        if not isinstance(value, dict):
            problems.append(Problem(path, f"should be an object ({kind}), is {kind_words(value, of_json=True)}"))
            return
        for name, spec in schema.items():
            if name not in value:
                if spec.required:
                    problems.append(Problem(_join(path, name), "missing (the model requires it)"))
                continue
            _fit_field(value[name], spec, _join(path, name), problems, unknown, depth + 1)
        for name, item in value.items():
            if name not in schema:
                unknown.append(Unknown(_join(path, name), item))
        return
    if not _scalar_fits(value, kind):
        problems.append(Problem(path, f"should be {_kind_words(kind)}, is {kind_words(value, of_json=True)}"))


def _fit_field(value: object, spec: FieldSpec, path: str, problems: list[Problem], unknown: list[Unknown],
               depth: int) -> None:
    if value is None:
        if not spec.nullable:
            problems.append(Problem(path, f"is null; the model wants {_kind_words(spec.kind)}"))
        return
    _fit(value, spec.kind, path, problems, unknown, depth)


def _scalar_fits(value: object, kind: str) -> bool:
    if kind == "any":
        return True
    if kind == "str":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return not isinstance(value, bool) and (isinstance(value, int) or isinstance(value, float) and value.is_integer())
    if kind == "number":
        return not isinstance(value, bool) and isinstance(value, (int, float))
    if kind == "dict":
        return isinstance(value, dict)
    if kind == "datetime":
        return isinstance(value, str) and parse_time(value) is not None or (
            not isinstance(value, bool) and isinstance(value, (int, float)))
    if kind == "ToolStatus":
        return isinstance(value, str) and value in TOOL_STATUSES
    return False


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time as the library writes them (pydantic's `mode="json"`), or None."""
    if not isinstance(value, str) or not value:
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# -- a document's JSON value ----------------------------------------------------------------------

BASE64_NOTE = ("stored as bytes (isBinary true): dapr-agents writes JSON with contentType application/json, "
               "so Dapr stores it as JSON (isBinary false). A write without that content type did this; "
               "dapr-agents still reads it, Cosmos DB queries cannot see inside it")


@dataclass(frozen=True)
class Stored:
    """Where a document is and what it holds, as read: its id, decoded key, partition, etag, _ts,
    whether Dapr stored it as bytes, and its value as JSON (None with `problems` when it is not)."""

    doc_id: str
    key: str
    app_id: str | None
    partition: str
    etag: str
    ts: int
    is_binary: bool | None
    value: object
    problems: tuple[Problem, ...] = ()

    def to_json(self) -> dict:
        return {"id": self.doc_id, "key": self.key, "appId": self.app_id, "partitionKey": self.partition,
                "etag": self.etag, "ts": self.ts, "isBinary": self.is_binary}


def stored(item: Mapping[str, Any], prefix: KeyPrefix, store: str = "") -> Stored:
    """A Cosmos item as a Dapr key and its JSON value. Never raises: a value Dapr stored as bytes is
    decoded when it is JSON (with a problem saying how it was stored); anything else is a problem."""
    doc_id = str(item.get("id", ""))
    state_key: StateKey = parse_document_id(doc_id, prefix, store)
    is_binary = item.get("isBinary")
    problems: list[Problem] = []
    value: object = None
    if "value" not in item or not isinstance(is_binary, bool):
        problems.append(Problem("", "not a Dapr state document (no value/isBinary); shown as stored"))
        value = {k: v for k, v in item.items() if k not in SYSTEM_FIELDS}
    elif not is_binary:
        value = item["value"]
    else:
        raw = item["value"]
        try:
            data = base64.b64decode(raw, validate=True) if isinstance(raw, str) else None
            value = json.loads(data.decode("utf-8")) if data is not None else None
            if data is None:
                raise ValueError("not base64 text")
            problems.append(Problem("", BASE64_NOTE))
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            value = raw
            problems.append(Problem("", f"stored as bytes (isBinary true) that are not JSON ({exc.__class__.__name__}); "
                                        "dapr-agents cannot read it"))
    return Stored(doc_id, state_key.key, state_key.app_id, partition_of(item), str(item.get("_etag", "")),
                  whole_number(item.get("_ts")) or 0, is_binary if isinstance(is_binary, bool) else None,
                  value, tuple(problems))
