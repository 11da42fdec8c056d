"""dapr-agents state as stored in Dapr state stores: what each document says.

dapr-agents 1.0.9 (Dapr's Python framework for durable agents) keeps three kinds of state, each
a plain Dapr key (the store's id prefix, e.g. `<app-id>||`, in front):

- the registry: `agents:{team}:{agent name}` (the agent's metadata, `AgentMetadataSchema`) and
  `agents:{team}:_index` (`{"agents": [names]}`), both in partition `agents:{team}`;
- workflow entries: `{agent-name}:_workflow_{instance}` (`AgentWorkflowEntry`: the messages of a
  run, its tool history, usage, approvals…), each in a partition of its own (its key);
- memory: `{agent-name}:_memory_{instance}`, a JSON array of messages (no model: plain dicts).

One agent's name is spelled three ways, each derived by the library: `Weather Bot` in the
registry (its name as given), `weather-bot` in state keys (spaces to dashes, lower case:
`DaprInfra.state_key_prefix`, `ConversationDaprStateMemory._memory_key`) and `WeatherBot` in its
Dapr workflow's name `dapr.agents.WeatherBot.workflow` (characters outside `[a-zA-Z0-9_-]`
removed: `agent_workflow_id` with `sanitize_openai_tool_name`; its messages carry that name too).
`AgentNames` ties them together. (A DurableAgent's pending approvals live under a fourth:
`weather bot:pending_approvals`, the name lower-cased with its spaces.)

This module parses those keys, builds a team from its `_index` and metadata documents (flagging an
index entry with no document and a document the index does not list), and decodes a run's
conversation and its memory. The shapes follow the library's pydantic models (`SCHEMAS`, a table
of our own read from dapr-agents 1.0.9's source; docs/agents.md).

Pure logic: this module must never do I/O (no network, no files, no clock), never import dapr,
dapr_agents, azure or textual, and never drop what it does not know: fields the models do not name
are kept and listed (`Unknown`), a document that does not fit says so (`Problem`) beside its raw
JSON, and nothing here raises on what a store holds.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from explorer.core.envelope import SYSTEM_FIELDS, KeyPrefix, StateKey, document_id, parse_document_id
from explorer.core.model import partition_of, whole_number

#: The dapr-agents release whose models the table below follows.
LIBRARY = "dapr-agents 1.0.9"

REGISTRY_PREFIX = "agents:"  # DaprInfra._registry_prefix
INDEX_NAME = "_index"  # agents:{team}:_index
INDEX_FIELD = "agents"  # _REGISTRY_AGENTS_KEY: {"agents": [names]}
DEFAULT_TEAM = "default"
WORKFLOW_MARK = ":_workflow_"  # {agent-name}:_workflow_{instance}
MEMORY_MARK = ":_memory_"  # {agent-name}:_memory_{instance}
APPROVALS_MARK = ":pending_approvals"  # {agent name, lower case}:pending_approvals
WORKFLOW_NAMESPACE = "dapr.agents"  # DAPR_AGENTS_NAMESPACE
_NOT_TOOL_NAME = re.compile(r"[^a-zA-Z0-9_-]")  # sanitize_openai_tool_name strips these


# -- names ----------------------------------------------------------------------------------------

def state_name(name: str) -> str:
    """The agent's name in its state keys: `Weather Bot` → `weather-bot` (spaces to dashes, lower
    case), as DaprInfra and ConversationDaprStateMemory build `{name}:_workflow_…`/`_memory_…`."""
    return name.replace(" ", "-").lower()


def workflow_short_name(name: str) -> str:
    """The agent's name in its workflow's name: `Weather Bot` → `WeatherBot` (every character
    outside `[a-zA-Z0-9_-]` removed; "unnamed_tool" when nothing is left), as
    `sanitize_openai_tool_name` makes it. (The library refuses names over 64 characters.)"""
    return _NOT_TOOL_NAME.sub("", name) or "unnamed_tool"


def _is_dapr_agents(framework: str) -> bool:
    return re.sub(r"[\s\-_.]", "", framework).lower() == "dapragents"


def workflow_name(name: str, framework: str | None = None) -> str:
    """`dapr.agents.{short name}.workflow` — or `dapr.{framework}.{short name}.workflow` for an
    agent registered by another framework (`agent_workflow_id`'s rules)."""
    if name.startswith("dapr.") and name.endswith(".workflow"):
        return name
    short = workflow_short_name(name)
    if framework and not _is_dapr_agents(framework):
        return f"dapr.{framework.replace(' ', '-').replace('_', '-').lower()}.{short}.workflow"
    return f"{WORKFLOW_NAMESPACE}.{short}.workflow"


@dataclass(frozen=True)
class AgentNames:
    """One agent's three spellings. `registry` is None when only a state key is known (the
    key's lower-cased form cannot be turned back into the name); `workflow` then too, unless a
    workflow instance or the registry said it."""

    registry: str | None
    state: str
    workflow: str | None

    @classmethod
    def of(cls, name: str, metadata: object = None) -> AgentNames:
        """From the registry name, and the metadata document when there is one: the workflow name
        the agent published (`agent.metadata.workflow_name`) wins over the derived one."""
        agent = _get(metadata, "agent")
        published = _get(_get(agent, "metadata"), "workflow_name")
        framework = _get(agent, "framework")
        if isinstance(published, str) and published:
            workflow = published
        else:
            workflow = workflow_name(name, framework if isinstance(framework, str) else None)
        return cls(name, state_name(name), workflow)

    @property
    def short(self) -> str | None:
        """The name inside the workflow name (`WeatherBot`)."""
        if self.workflow is None:
            return None
        parts = self.workflow.split(".")
        return ".".join(parts[2:-1]) if len(parts) >= 4 and parts[-1] == "workflow" else self.workflow

    def run_key(self, instance_id: str) -> str:
        return f"{self.state}{WORKFLOW_MARK}{instance_id}".lower()

    def memory_key(self, instance_id: str) -> str:
        return f"{self.state}{MEMORY_MARK}{instance_id}".lower()

    @property
    def approvals_key(self) -> str | None:
        """The key of the agent's pending approvals (`trip planner:pending_approvals`: the registry
        name lower-cased, spaces kept — `DurableAgent._pending_approvals_key`); None without it."""
        return f"{self.registry}{APPROVALS_MARK}".lower() if self.registry is not None else None

    def to_json(self) -> dict:
        return {"registry": self.registry, "state": self.state, "workflow": self.workflow}


# -- keys -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RegistryKey:
    """`agents:{team}:{agent}` (agent set) or `agents:{team}:_index` (index true)."""

    team: str
    agent: str | None
    index: bool

    @property
    def partition(self) -> str:
        return team_partition(self.team)


def team_partition(team: str) -> str:
    """The partitionKey of every registry document of a team."""
    return f"{REGISTRY_PREFIX}{team}"


def registry_key(team: str, agent: str | None = None) -> str:
    return f"{REGISTRY_PREFIX}{team}:{agent if agent is not None else INDEX_NAME}"


def parse_registry_key(key: str, partition: str | None = None) -> RegistryKey | None:
    """A registry key, or None. The team is what the partition says when it is given (a team name
    may hold ':'), else the text up to the next ':'."""
    if not key.startswith(REGISTRY_PREFIX):
        return None
    if partition and partition.startswith(REGISTRY_PREFIX) and key.startswith(partition + ":"):
        team, rest = partition[len(REGISTRY_PREFIX):], key[len(partition) + 1:]
    else:
        team, sep, rest = key[len(REGISTRY_PREFIX):].partition(":")
        if not sep:
            return None
    if not team or not rest:
        return None
    return RegistryKey(team, None, True) if rest == INDEX_NAME else RegistryKey(team, rest, False)


class RunPart(enum.Enum):
    WORKFLOW = "workflow"  # the workflow entry: the run's conversation
    MEMORY = "memory"  # the memory array


@dataclass(frozen=True)
class RunKey:
    """`{agent}:_workflow_{instance}` or `{agent}:_memory_{instance}` (both lower case as written)."""

    agent: str  # the state spelling: weather-bot
    part: RunPart
    instance_id: str


def parse_run_key(key: str) -> RunKey | None:
    for part, mark in ((RunPart.WORKFLOW, WORKFLOW_MARK), (RunPart.MEMORY, MEMORY_MARK)):
        agent, sep, instance = key.partition(mark)
        if sep and agent and instance:
            return RunKey(agent, part, instance)
    return None


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


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


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
            problems.append(Problem(path, f"should be {'a list' if is_list else 'an object'}, is {_type_name(value)}"))
            return
        items = enumerate(value) if is_list else ((json.dumps(k), v) for k, v in value.items())
        for name, item in items:
            _fit_field(item, _f(inner), f"{path}[{name}]", problems, unknown, depth + 1)
        return
    schema = SCHEMAS.get(kind)
    if schema is not None:
        if not isinstance(value, dict):
            problems.append(Problem(path, f"should be an object ({kind}), is {_type_name(value)}"))
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
        problems.append(Problem(path, f"should be {_kind_words(kind)}, is {_type_name(value)}"))


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


def _get(value: object, name: str) -> Any:
    return value.get(name) if isinstance(value, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


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


# -- the registry: teams and agents ---------------------------------------------------------------

class Flag(enum.Enum):
    """What is wrong with an agent's place in its team, as dapr-agents would see it."""

    NO_DOCUMENT = "listed in _index, no document"
    NOT_IN_INDEX = "document not in _index"
    NO_INDEX = "team has no _index"
    DOES_NOT_FIT = "does not fit AgentMetadataSchema"
    NAME_DIFFERS = "name differs from its key"

    @property
    def why(self) -> str:
        return {
            Flag.NO_DOCUMENT: "the index lists this agent but its metadata document is gone; dapr-agents skips it "
                              "(what a deregistration that failed half-way leaves)",
            Flag.NOT_IN_INDEX: "its metadata document exists but the index does not list it, so "
                               "get_agents_metadata never returns it: orchestrators cannot see or call it",
            Flag.NO_INDEX: "the team's agents:{team}:_index document is missing: dapr-agents sees no agent of this "
                           "team",
            Flag.DOES_NOT_FIT: "the document does not fit dapr-agents 1.0.9's AgentMetadataSchema; without an "
                               "`agent` object get_agents_metadata skips it as corrupted",
            Flag.NAME_DIFFERS: "the document's `name` is not the name in its key; dapr-agents registers both from "
                               "one name, so one was edited",
        }[self]


@dataclass(frozen=True)
class Tool:
    name: str | None
    description: str | None
    args: str | None


@dataclass(frozen=True)
class Agent:
    """One agent of a team: its index entry, its metadata document, or both."""

    team: str
    name: str  # as the index lists it, else as its key says
    names: AgentNames
    listed: bool  # the team's _index lists it
    document: Stored | None
    flags: tuple[Flag, ...]
    problems: tuple[Problem, ...] = ()
    unknown: tuple[Unknown, ...] = ()

    @property
    def metadata(self) -> object:
        return self.document.value if self.document is not None else None

    def _agent(self, name: str) -> Any:
        return _get(_get(self.metadata, "agent"), name)

    @property
    def role(self) -> str | None:
        return _text(self._agent("role"))

    @property
    def goal(self) -> str | None:
        return _text(self._agent("goal"))

    @property
    def agent_type(self) -> str | None:
        return _text(self._agent("type"))

    @property
    def app_id(self) -> str | None:
        """The app-id the agent registered (`agent.appid`), else the id prefix of its document."""
        return _text(self._agent("appid")) or (self.document.app_id if self.document else None)

    @property
    def orchestrator(self) -> bool:
        return self._agent("orchestrator") is True

    @property
    def instructions(self) -> tuple[str, ...]:
        found = self._agent("instructions")
        return tuple(str(i) for i in found) if isinstance(found, list) else ()

    @property
    def llm(self) -> str | None:
        """`provider model (client)`, e.g. "dapr echo (DaprChatClient)"."""
        llm = _get(self.metadata, "llm")
        if not isinstance(llm, dict):
            return None
        words = [str(w) for w in (llm.get("provider"), llm.get("model")) if w not in (None, "", "unknown")]
        client = llm.get("client")
        resource = llm.get("resource_name")
        text = " ".join(words) or "?"
        if client:
            text += f" ({client}{', ' + str(resource) if resource else ''})"
        return text

    @property
    def tools(self) -> tuple[Tool, ...]:
        found = _get(self.metadata, "tools")
        if not isinstance(found, list):
            return ()
        return tuple(Tool(_text(_get(t, "name")), _text(_get(t, "description")), _text(_get(t, "args")))
                     for t in found)

    def store_of(self, which: str) -> str | None:
        """The Dapr state store (component name) of `which` memory: "short_term" (its workflow
        entries) or "long_term" (its conversation memory), as the agent registered it."""
        return _text(_get(_get(_get(self.metadata, "memory"), which), "resource_name"))

    @property
    def registered_at(self) -> datetime | None:
        return parse_time(_get(self.metadata, "registered_at"))

    def to_json(self) -> dict:
        return {
            "team": self.team, "name": self.name, "names": self.names.to_json(), "listed": self.listed,
            "flags": [f.name.lower() for f in self.flags], "why": [f.why for f in self.flags],
            "appId": self.app_id, "role": self.role, "goal": self.goal, "type": self.agent_type, "llm": self.llm,
            "tools": [t.name for t in self.tools], "orchestrator": self.orchestrator,
            "workflowStore": self.store_of("short_term"), "memoryStore": self.store_of("long_term"),
            "document": self.document.to_json() if self.document else None, "metadata": self.metadata,
            "problems": [p.to_json() for p in self.problems], "unknown": [u.to_json() for u in self.unknown],
        }


@dataclass(frozen=True)
class Team:
    """A team as one app's dapr-agents sees it: its `_index` and the agent documents beside it
    under the same id prefix. `others` names the other prefixes (apps) keeping a team of the same
    name in the same partition: with keyPrefix appid every app keeps an index of its own."""

    name: str
    app_id: str | None  # the id prefix's app (None: the store's keys carry none)
    prefix: str | None
    index: Stored | None
    agents: tuple[Agent, ...]
    problems: tuple[Problem, ...] = ()  # the index document's
    unknown: tuple[Unknown, ...] = ()
    others: tuple[str, ...] = ()

    @property
    def partition(self) -> str:
        return team_partition(self.name)

    @property
    def flagged(self) -> int:
        return sum(1 for a in self.agents if a.flags)

    def to_json(self) -> dict:
        return {"team": self.name, "appId": self.app_id, "partitionKey": self.partition,
                "index": self.index.to_json() if self.index else None,
                "listed": list(index_names(self.index.value)) if self.index else None,
                "agents": len(self.agents), "flagged": self.flagged, "otherApps": list(self.others),
                "problems": [p.to_json() for p in self.problems], "unknown": [u.to_json() for u in self.unknown]}


def index_names(value: object) -> tuple[str, ...]:
    """The names an `_index` value lists (strings only; anything else is a problem `fit` reports)."""
    names = _get(value, INDEX_FIELD)
    return tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()


def _agent_of(team: str, name: str, listed: bool, document: Stored | None, has_index: bool) -> Agent:
    flags: list[Flag] = []
    problems: list[Problem] = []
    unknown: list[Unknown] = []
    metadata: object = None
    if document is None:
        flags.append(Flag.NO_DOCUMENT)
    else:
        problems.extend(document.problems)
        metadata = document.value
        found, extra = fit(metadata, "AgentMetadataSchema")
        problems.extend(found)
        unknown.extend(extra)
        if found or not isinstance(_get(metadata, "agent"), dict):
            flags.append(Flag.DOES_NOT_FIT)
        if not listed:
            flags.append(Flag.NOT_IN_INDEX if has_index else Flag.NO_INDEX)
        own = _get(metadata, "name")
        if isinstance(own, str) and own != name:
            flags.append(Flag.NAME_DIFFERS)
    return Agent(team, name, AgentNames.of(name, metadata), listed, document, tuple(flags), tuple(problems),
                 tuple(unknown))


def build_teams(items: Iterable[Mapping[str, Any]], prefix: KeyPrefix, store: str = "") -> list[Team]:
    """The teams in a set of registry documents (one partition's, or several): one Team per team
    name and id prefix, its agents in index order then the documents the index does not list
    (by name). Items that are not registry documents are left out."""
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for item in items:
        doc = stored(item, prefix, store)
        key = parse_registry_key(doc.key, doc.partition)
        if key is None:
            continue
        state_key = parse_document_id(doc.doc_id, prefix, store)
        group = groups.setdefault((key.team, state_key.prefix), {"index": None, "agents": {}, "app": state_key.app_id})
        if key.index:
            group["index"] = doc
        else:
            group["agents"][key.agent] = doc
    teams: list[Team] = []
    for (name, pfx), group in sorted(groups.items(), key=lambda g: (g[0][0], g[0][1] or "")):
        index: Stored | None = group["index"]
        documents: dict[str, Stored] = group["agents"]
        listed = index_names(index.value) if index else ()
        agents = [_agent_of(name, n, True, documents.get(n), True) for n in dict.fromkeys(listed)]
        agents += [_agent_of(name, n, False, documents[n], index is not None) for n in sorted(documents)
                   if n not in listed]
        problems: list[Problem] = []
        unknown: list[Unknown] = []
        if index is not None:
            problems.extend(index.problems)
            found, extra = fit(index.value, "RegistryIndex")
            problems.extend(found)
            unknown.extend(extra)
            if len(set(listed)) != len(listed):
                problems.append(Problem(INDEX_FIELD, "lists a name more than once"))
        others = tuple(sorted(p or "(no prefix)" for (n, p) in groups if n == name and p != pfx))
        teams.append(Team(name, group["app"], pfx, index, tuple(agents), tuple(problems), tuple(unknown), others))
    return teams


# -- a run: the conversation of a workflow entry, and its memory ------------------------------------

@dataclass(frozen=True)
class ToolCall:
    """A tool call an assistant message asked for (OpenAI's shape: id, type, function name and
    arguments as JSON text)."""

    id: str | None
    name: str | None
    arguments: str | None

    @property
    def arguments_json(self) -> object:
        """The arguments parsed, or None when they are not JSON (the echo model sends such)."""
        try:
            return json.loads(self.arguments) if self.arguments is not None else None
        except ValueError:
            return None

    def to_json(self) -> dict:
        return {"id": self.id, "name": self.name, "arguments": self.arguments}


@dataclass(frozen=True)
class ToolRun:
    """One record of the entry's tool_history (a ToolExecutionRecord)."""

    tool_call_id: str | None
    tool_name: str | None
    status: str | None
    args: object
    result: str | None
    structured: object
    error: str | None
    started: datetime | None
    completed: datetime | None
    duration_ms: float | None
    agent_call: bool
    agent_instance_id: str | None
    attempt: object
    raw: object

    @classmethod
    def of(cls, raw: object) -> ToolRun:
        duration = _get(raw, "duration_ms")
        return cls(_text(_get(raw, "tool_call_id")), _text(_get(raw, "tool_name")), _text(_get(raw, "status")),
                   _get(raw, "tool_args"), _text(_get(raw, "execution_result")), _get(raw, "structured_result"),
                   _text(_get(raw, "error_message")), parse_time(_get(raw, "started_at")),
                   parse_time(_get(raw, "completed_at")),
                   float(duration) if isinstance(duration, (int, float)) and not isinstance(duration, bool) else None,
                   _get(raw, "is_agent_call") is True, _text(_get(raw, "agent_workflow_instance_id")),
                   _get(raw, "attempt"), raw)

    @property
    def failure(self) -> str | None:
        """Why the tool failed: its error message, or the error its result reports (None: it did not)."""
        return self.error or tool_error(self.result)

    @property
    def summary(self) -> str:
        words = [f"{self.tool_name or '?'}", self.status or "?"]
        if self.duration_ms is not None:
            words.append(f"{self.duration_ms:,.0f} ms")
        if self.failure:
            words.append(f"✖ {_one_line(self.failure)}")
        return " · ".join(words)

    def to_json(self) -> dict:
        return {"tool_call_id": self.tool_call_id, "tool_name": self.tool_name, "status": self.status,
                "args": self.args, "result": self.result, "structured_result": self.structured, "error": self.error,
                "started_at": _iso(self.started), "completed_at": _iso(self.completed),
                "duration_ms": self.duration_ms, "failure": self.failure, "agent_call": self.agent_call,
                "agent_workflow_instance_id": self.agent_instance_id, "attempt": self.attempt}


@dataclass(frozen=True)
class Message:
    """One message of a conversation (a workflow entry's, or a memory array's), with the tool runs
    it asked for or answers."""

    section: str  # "system", "messages", "last_message" or "memory"
    index: int
    role: str | None
    content: str | None
    name: str | None
    at: datetime | None
    id: str | None
    tool_calls: tuple[ToolCall, ...]
    tool_call_id: str | None
    runs: tuple[ToolRun, ...]  # for an assistant message: its calls' records; for a tool message: its own
    problems: tuple[Problem, ...]
    unknown: tuple[Unknown, ...]
    raw: object

    @property
    def label(self) -> str:
        """`[3]` (a message, or a memory message), `system[0]`, `last_message[0]`."""
        where = "" if self.section in ("messages", "memory") else self.section
        return f"{where}[{self.index}]"

    @property
    def summary(self) -> str:
        """One line: what was said, which tools it called, or which call it answers."""
        if self.problems and not isinstance(self.raw, dict):
            return f"✖ {self.problems[0].text}"
        parts = []
        failed = tool_error(self.content) if self.role == "tool" else None
        if failed:
            parts.append(f"✖ {_one_line(failed)}")
        elif self.content:
            parts.append(_one_line(self.content))
        for call in self.tool_calls:
            run = next((r for r in self.runs if r.tool_call_id == call.id and call.id), None)
            outcome = "" if run is None else " ✖ failed" if run.failure else f" {run.status}" if run.status else ""
            parts.append(f"→ {call.name or '?'}({_one_line(call.arguments or '', 60)}){outcome}")
        if self.tool_call_id and self.role == "tool":
            run = self.runs[0] if self.runs else None
            head = f"← {run.tool_name}" if run and run.tool_name else f"← {self.tool_call_id}"
            if run and run.status and run.status != "completed":
                head += f" {run.status}"
            parts.insert(0, head)
        if not parts:
            parts.append("(no content)")
        return " · ".join(parts)

    def to_json(self) -> dict:
        return {"section": self.section, "index": self.index, "role": self.role, "name": self.name,
                "content": self.content, "at": _iso(self.at), "id": self.id,
                "tool_calls": [c.to_json() for c in self.tool_calls], "tool_call_id": self.tool_call_id,
                "tool_runs": [r.to_json() for r in self.runs], "summary": self.summary,
                "problems": [p.to_json() for p in self.problems], "unknown": [u.to_json() for u in self.unknown],
                "raw": self.raw}


def tool_error(text: str | None) -> str | None:
    """The error a tool result reports (dapr-agents' ToolResult JSON with `isError` true: its text),
    or None. A tool that raised is recorded `completed` with such a result; this says it failed."""
    if not text or not text.lstrip().startswith("{"):
        return None
    try:
        result = json.loads(text)
    except ValueError:
        return None
    if not isinstance(result, dict) or result.get("isError") is not True:
        return None
    parts = [c.get("text") for c in result.get("content") or [] if isinstance(c, dict) and isinstance(c.get("text"), str)]
    return " ".join(parts) or "the tool reported an error"


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[:limit - 1] + "…"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _message(raw: object, section: str, index: int, model: str | None, runs: Mapping[str, ToolRun],
             path: str) -> Message:
    problems: list[Problem] = []
    unknown: list[Unknown] = []
    if model is not None:
        problems, unknown = fit(raw, model, path)
    elif not isinstance(raw, dict):
        problems = [Problem(path, f"should be an object (a message), is {_type_name(raw)}")]
    elif not isinstance(raw.get("role"), str):
        problems = [Problem(_join(path, "role"), "missing or not text: a message has a role")]
    calls = []
    for call in _list(_get(raw, "tool_calls")):  # a hand-written document may hold anything there
        function = _get(call, "function")
        arguments = _get(function, "arguments")
        calls.append(ToolCall(_text(_get(call, "id")), _text(_get(function, "name")),
                              arguments if isinstance(arguments, str) else
                              (json.dumps(arguments) if arguments is not None else None)))
    function_call = _get(raw, "function_call")
    if isinstance(function_call, dict):
        calls.append(ToolCall(None, _text(function_call.get("name")), _text(function_call.get("arguments"))))
    tool_call_id = _text(_get(raw, "tool_call_id"))
    mine: list[ToolRun] = [runs[c.id] for c in calls if c.id and c.id in runs]
    if tool_call_id and tool_call_id in runs:
        mine.append(runs[tool_call_id])
    at = parse_time(_get(raw, "timestamp")) or parse_time(_get(raw, "createdAt"))
    return Message(section, index, _text(_get(raw, "role")), _text(_get(raw, "content")), _text(_get(raw, "name")),
                   at, _text(_get(raw, "id")), tuple(calls), tool_call_id, tuple(mine), tuple(problems),
                   tuple(unknown), raw)


@dataclass(frozen=True)
class AgentRun:
    """A workflow entry decoded: the run's conversation (system messages, then its messages in
    order), its tool history, usage, approvals and pending inputs, and where it came from."""

    instance_id: str
    agent: str  # the state spelling from the key (weather-bot)
    document: Stored
    system_messages: tuple[Message, ...]
    messages: tuple[Message, ...]
    last_message: Message | None
    tool_history: tuple[ToolRun, ...]
    usage: tuple[object, ...]
    approvals: Mapping[str, object]
    pending_inputs: Mapping[str, object]
    source: str | None
    triggered_by: str | None
    session_id: str | None
    problems: tuple[Problem, ...]
    unknown: tuple[Unknown, ...]

    @property
    def value(self) -> object:
        return self.document.value

    @property
    def timeline(self) -> tuple[Message, ...]:
        """What the conversation view lists: the system prompt, then every message in order."""
        return self.system_messages + self.messages

    @property
    def unanswered_tools(self) -> tuple[ToolRun, ...]:
        """Tool records no message of the conversation asks for or answers."""
        seen = {c.id for m in self.messages for c in m.tool_calls if c.id} | {
            m.tool_call_id for m in self.messages if m.tool_call_id}
        return tuple(r for r in self.tool_history if r.tool_call_id not in seen)

    @property
    def started(self) -> datetime | None:
        times = [m.at for m in self.timeline if m.at is not None]
        return min(times) if times else None

    @property
    def ended(self) -> datetime | None:
        times = [m.at for m in self.timeline if m.at is not None]
        times += [r.completed for r in self.tool_history if r.completed is not None]
        return max(times) if times else None

    @property
    def waiting(self) -> tuple[str, ...]:
        """What the entry itself says the run waits on: an ask_user input, an approval, a tool
        call not answered yet."""
        waits = [f"input {k}" for k in self.pending_inputs]
        waits += [f"approval {_text(_get(v, 'step_name')) or _text(_get(v, 'tool_name')) or k}"
                  for k, v in self.approvals.items() if not _get(v, "decided_at") and _get(v, "approved") is None]
        answered = {m.tool_call_id for m in self.messages if m.tool_call_id}
        if self.messages:
            last = self.messages[-1]
            waits += [f"tool {c.name or '?'}" for c in last.tool_calls if c.id and c.id not in answered]
        return tuple(waits)

    @property
    def usage_text(self) -> str | None:
        """The executor usage records summed where they say tokens or cost, e.g. "2 records · 310
        tokens · $0.0012"; None when there are none."""
        if not self.usage:
            return None
        tokens = 0
        cost = 0.0
        for record in self.usage:
            usage = _get(record, "usage")
            for name in ("total_tokens", "input_tokens", "output_tokens", "prompt_tokens", "completion_tokens"):
                number = _get(usage, name)
                if isinstance(number, int) and not isinstance(number, bool):
                    if name == "total_tokens":
                        tokens += number
                        break
                    tokens += number
            spent = _get(record, "cost_usd")
            if isinstance(spent, (int, float)) and not isinstance(spent, bool):
                cost += spent
        words = [f"{len(self.usage)} record{'s' if len(self.usage) != 1 else ''}"]
        if tokens:
            words.append(f"{tokens:,} tokens")
        if cost:
            words.append(f"${cost:.4f}")
        return " · ".join(words)

    def to_json(self) -> dict:
        return {"instance_id": self.instance_id, "agent": self.agent, "document": self.document.to_json(),
                "messages": len(self.messages), "system_messages": len(self.system_messages),
                "tool_history": [r.to_json() for r in self.tool_history], "usage": list(self.usage),
                "usage_text": self.usage_text, "approval_requests": dict(self.approvals),
                "pending_inputs": dict(self.pending_inputs), "waiting": list(self.waiting),
                "source": self.source, "triggering_workflow_instance_id": self.triggered_by,
                "session_id": self.session_id, "started": _iso(self.started), "ended": _iso(self.ended),
                "last_message": self.last_message.to_json() if self.last_message else None,
                "problems": [p.to_json() for p in self.problems], "unknown": [u.to_json() for u in self.unknown]}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _map(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def decode_run(item: Mapping[str, Any], prefix: KeyPrefix, store: str = "") -> AgentRun:
    """A `_workflow_` entry's document decoded. Never raises: what does not fit is in `problems`
    (and on the message it concerns), fields the model does not name in `unknown`."""
    doc = stored(item, prefix, store)
    run_key = parse_run_key(doc.key)
    instance = run_key.instance_id if run_key else doc.key
    agent = run_key.agent if run_key else ""
    value = doc.value
    problems = list(doc.problems)
    if run_key is None or run_key.part is not RunPart.WORKFLOW:
        problems.append(Problem("", f"the key {doc.key!r} is not a workflow entry's ({{agent}}{WORKFLOW_MARK}{{instance}})"))
    found, unknown = fit(value, "AgentWorkflowEntry")
    # Messages carry their own problems and unknown fields; the run lists the rest.
    problems += [p for p in found if not p.path.startswith(("messages[", "system_messages[", "last_message"))]
    unknown = [u for u in unknown if not u.path.startswith(("messages[", "system_messages[", "last_message"))]
    history = tuple(ToolRun.of(r) for r in _list(_get(value, "tool_history")))
    by_call = {r.tool_call_id: r for r in history if r.tool_call_id}
    messages = tuple(_message(m, "messages", n, "AgentWorkflowMessage", by_call, f"messages[{n}]")
                     for n, m in enumerate(_list(_get(value, "messages"))))
    system = tuple(_message(m, "system", n, "AgentWorkflowMessage", by_call, f"system_messages[{n}]")
                   for n, m in enumerate(_list(_get(value, "system_messages"))))
    last_raw = _get(value, "last_message")
    last = _message(last_raw, "last_message", 0, "AgentWorkflowMessage", by_call, "last_message") \
        if last_raw is not None else None
    return AgentRun(instance, agent, doc, system, messages, last, history,
                    tuple(_list(_get(value, "executor_usage"))), _map(_get(value, "approval_requests")),
                    _map(_get(value, "pending_inputs")), _text(_get(value, "source")),
                    _text(_get(value, "triggering_workflow_instance_id")), _text(_get(value, "session_id")),
                    tuple(problems), tuple(unknown))


@dataclass(frozen=True)
class Memory:
    """A `_memory_` key: the messages dapr-agents keeps for a run (a JSON array of message dicts,
    each with the `createdAt` it added)."""

    instance_id: str
    agent: str
    document: Stored
    messages: tuple[Message, ...]
    problems: tuple[Problem, ...]

    def to_json(self) -> dict:
        return {"instance_id": self.instance_id, "agent": self.agent, "document": self.document.to_json(),
                "messages": len(self.messages), "problems": [p.to_json() for p in self.problems]}


def decode_memory(item: Mapping[str, Any], prefix: KeyPrefix, store: str = "") -> Memory:
    """A `_memory_` document decoded: an array of messages. Never raises."""
    doc = stored(item, prefix, store)
    run_key = parse_run_key(doc.key)
    problems = list(doc.problems)
    if run_key is None or run_key.part is not RunPart.MEMORY:
        problems.append(Problem("", f"the key {doc.key!r} is not a memory key ({{agent}}{MEMORY_MARK}{{instance}})"))
    value = doc.value
    if not isinstance(value, list):
        problems.append(Problem("", f"should be a list of messages (a JSON array), is {_type_name(value)}"))
    messages = tuple(_message(m, "memory", n, None, {}, f"[{n}]") for n, m in enumerate(_list(value)))
    return Memory(run_key.instance_id if run_key else doc.key, run_key.agent if run_key else "", doc, messages,
                  tuple(problems))


@dataclass(frozen=True)
class RunSummary:
    """A run as a row of an agent's runs lists it (from its workflow entry)."""

    instance_id: str
    agent: str
    doc_id: str
    partition: str
    app_id: str | None
    ts: int
    started: datetime | None
    messages: int
    tools: int
    last: str
    waiting: tuple[str, ...]
    problems: int

    @classmethod
    def of(cls, run: AgentRun) -> RunSummary:
        last = run.messages[-1] if run.messages else run.last_message
        text = f"{last.role or '?'}: {last.summary}" if last is not None else "(no messages)"
        return cls(run.instance_id, run.agent, run.document.doc_id, run.document.partition, run.document.app_id,
                   run.document.ts, run.started, len(run.messages), len(run.tool_history), text, run.waiting,
                   len(run.problems) + sum(len(m.problems) for m in run.timeline))

    def to_json(self) -> dict:
        return {"instance_id": self.instance_id, "agent": self.agent, "id": self.doc_id,
                "partitionKey": self.partition, "appId": self.app_id, "ts": self.ts, "started": _iso(self.started),
                "messages": self.messages, "tools": self.tools, "last": self.last, "waiting": list(self.waiting),
                "problems": self.problems}


@dataclass(frozen=True)
class PendingApproval:
    """An approval a DurableAgent waits for (its `…:pending_approvals` document holds one per
    request id, an ApprovalRequiredEvent each, until a person answers or it times out)."""

    request_id: str
    instance_id: str | None
    step: str | None
    tool_call_id: str | None
    arguments: object
    instructions: str | None
    requested_at: datetime | None
    timeout_seconds: object
    problems: tuple[Problem, ...]
    unknown: tuple[Unknown, ...]
    raw: object

    @property
    def summary(self) -> str:
        text = f"approval of {self.step or '?'}"
        if self.arguments:
            text += f" {json.dumps(self.arguments, ensure_ascii=False, default=str)}"
        if self.requested_at is not None:
            text += f" asked {self.requested_at.strftime('%Y-%m-%d %H:%M:%S')}"
        if isinstance(self.timeout_seconds, int) and not isinstance(self.timeout_seconds, bool):
            text += f" (denied after {self.timeout_seconds:,} s without an answer)"
        return text

    def to_json(self) -> dict:
        return {"approval_request_id": self.request_id, "instance_id": self.instance_id, "step": self.step,
                "tool_call_id": self.tool_call_id, "arguments": self.arguments, "instructions": self.instructions,
                "requested_at": _iso(self.requested_at), "timeout_seconds": self.timeout_seconds,
                "summary": self.summary, "problems": [p.to_json() for p in self.problems],
                "unknown": [u.to_json() for u in self.unknown]}


def decode_pending_approvals(item: Mapping[str, Any], prefix: KeyPrefix, store: str = "") \
        -> tuple[Stored, tuple[PendingApproval, ...], tuple[Problem, ...]]:
    """A `…:pending_approvals` document: where it is, each approval it holds, and what does not fit."""
    doc = stored(item, prefix, store)
    problems = list(doc.problems)
    value = doc.value
    if not isinstance(value, dict):
        problems.append(Problem("", f"should be an object of approval requests by id, is {_type_name(value)}"))
        value = {}
    found = []
    for request_id, raw in value.items():
        wrong, extra = fit(raw, "ApprovalRequiredEvent", f"[{json.dumps(request_id)}]")
        found.append(PendingApproval(
            request_id, _text(_get(raw, "instance_id")), _text(_get(raw, "step_name")) or _text(_get(raw, "tool_name")),
            _text(_get(raw, "tool_call_id")), _get(raw, "tool_arguments"), _text(_get(raw, "instructions")),
            parse_time(_get(raw, "requested_at")), _get(raw, "timeout_seconds"), tuple(wrong), tuple(extra), raw))
    return doc, tuple(found), tuple(problems)


def run_id_prefix(agent_state: str, prefix: KeyPrefix, app_id: str | None, store: str = "") -> str:
    """The document id every workflow entry of an agent starts with (`<app>||weather-bot:_workflow_`)."""
    return document_id(f"{agent_state}{WORKFLOW_MARK}", prefix, app_id or "", store)


def names_for_state(agents: Sequence[Agent], agent_state: str) -> AgentNames:
    """The names of the agent whose state spelling is `agent_state`, from the registry's agents when
    one matches; else what the key alone says."""
    for agent in agents:
        if agent.names.state == agent_state:
            return agent.names
    return AgentNames(None, agent_state, None)

