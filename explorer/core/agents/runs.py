"""A run: the conversation of a workflow entry (messages, tool calls and their results), its memory,
and the approvals a DurableAgent waits for. Pure: never does I/O, never raises on what a store holds."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from explorer.core.agents.names import MEMORY_MARK, WORKFLOW_MARK, RunPart, _get, _text, parse_run_key
from explorer.core.agents.schema import Problem, Stored, Unknown, _join, fit, parse_time, stored
from explorer.core.display import kind_words, moment_text
from explorer.core.envelope import KeyPrefix


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
        problems = [Problem(path, f"should be an object (a message), is {kind_words(raw, of_json=True)}")]
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
        problems.append(Problem("", "should be a list of messages (a JSON array), "
                                    f"is {kind_words(value, of_json=True)}"))
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
            text += f" asked {moment_text(self.requested_at)}"
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
        problems.append(Problem("", "should be an object of approval requests by id, "
                                    f"is {kind_words(value, of_json=True)}"))
        value = {}
    found = []
    for request_id, raw in value.items():
        wrong, extra = fit(raw, "ApprovalRequiredEvent", f"[{json.dumps(request_id)}]")
        found.append(PendingApproval(
            request_id, _text(_get(raw, "instance_id")), _text(_get(raw, "step_name")) or _text(_get(raw, "tool_name")),
            _text(_get(raw, "tool_call_id")), _get(raw, "tool_arguments"), _text(_get(raw, "instructions")),
            parse_time(_get(raw, "requested_at")), _get(raw, "timeout_seconds"), tuple(wrong), tuple(extra), raw))
    return doc, tuple(found), tuple(problems)
