"""`AgentRunView`: one agent run — its conversation (messages, tool calls and results, usage), its
memory and the Dapr workflow instance of the same id.

What it is for: enter on a run in `AgentRuns`. What it must never do: I/O outside a worker, or write
(`v` opens the key editor).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from explorer.core.agents.runs import tool_error
from explorer.core.display import failure_line, moment_text, terminal_safe_lines
from explorer.tui.screens.agents.common import (
    AgentsScreen,
    counted,
    detail_grid,
    problems_and_unknown,
)
from explorer.tui.widgets.row_table import RowTable
from explorer.tui.widgets.shown import pretty_text, pretty_value
from explorer.tui.widgets.workflow_cells import STATUS_TONES

MESSAGE_COLUMNS = [("#", 3, 12), ("Time (UTC)", 8, 19), ("Role", 4, 10), ("Message", 20, 240)]


def message_row(message) -> tuple[str, ...]:
    return (message.label, moment_text(message.at, date=False), message.role or "?", message.summary)


def message_tone(column: int, text: str, row: tuple[str, ...]) -> str:
    if column == 2:
        return {"system": "dim", "user": "cyan", "assistant": "green", "tool": "yellow"}.get(text, "")
    if column == 3 and text.startswith("✖"):
        return "red"
    return ""


def message_detail(message) -> RenderableType:
    """One message in full: who and when, what does not fit, its content, its tool calls with their
    arguments, the tool runs it asked for or answers, fields the model does not name, and as stored."""
    head = Text.assemble((message.role or "?", "bold"))
    if message.name:
        head.append(f" · {message.name}")
    head.append(f"  {message.section}[{message.index}]", style="dim")
    if message.at is not None:
        head.append(f" · {message.at.isoformat()}", style="dim")
    if message.id:
        head.append(f" · id {message.id}", style="dim")
    body: list[RenderableType] = [head]
    body.extend(problems_and_unknown(message.problems, ()))
    failed = tool_error(message.content) if message.role == "tool" else None
    if failed:
        body.append(Text(f"✖ the tool failed: {failed}", style="bold red"))
    if message.content and message.role == "tool":
        body.append(pretty_text(message.content))
    elif message.content:
        body.append(Text(terminal_safe_lines(message.content)))
    if message.tool_call_id:
        body.append(Text(f"answers tool call {message.tool_call_id}", style="dim"))
    for call in message.tool_calls:
        body.append(Text.assemble(("→ tool call ", "bold"), (call.name or "?", "bold cyan"), f"  {call.id or ''}"))
        if call.arguments is not None:
            if call.arguments_json is None:
                body.append(Text(f"arguments (not JSON): {call.arguments}", style="yellow"))
            else:
                body.append(pretty_value(call.arguments_json))
    for record in message.runs:
        grid = detail_grid()
        tone = "green" if record.status == "completed" else "bold red" if record.status in ("failed", "timeout") \
            else "yellow"
        grid.add_row("tool run", Text.assemble((record.tool_name or "?", "bold"), "  ", (record.status or "?", tone)))
        if record.duration_ms is not None:
            grid.add_row("took", Text(f"{record.duration_ms:,.1f} ms (attempt {record.attempt})"))
        if record.args:
            grid.add_row("args", pretty_value(record.args))
        if record.result is not None:
            grid.add_row("result", pretty_text(record.result))
        if record.structured is not None:
            grid.add_row("structured", pretty_value(record.structured))
        if record.error:
            grid.add_row(Text("error", style="bold red"), Text(record.error, style="red"))
        if record.agent_instance_id:
            grid.add_row("agent run", Text(record.agent_instance_id))
        body.append(grid)
    body.extend(problems_and_unknown((), message.unknown))
    body.append(Text("as stored", style="dim"))
    body.append(pretty_value(message.raw))
    return Group(*body)


PARTS = {"conversation": "conversation", "memory": "memory"}


@dataclass
class _Part:
    messages: list = field(default_factory=list)
    cursor: int = 0
    placed: bool = False  # the cursor was put on the first message once


class AgentRunView(AgentsScreen):
    """One run: its conversation (c) and memory (m); w opens the Dapr workflow instance's timeline."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("c", "part('conversation')", "Conversation", tooltip="The run's messages, tool calls and results"),
        Binding("m", "part('memory')", "Memory", tooltip="The run's memory: the messages dapr-agents keeps for it"),
        Binding("w", "workflow", "Workflow", tooltip="The Dapr workflow instance of this run: its timeline"),
        Binding("v", "raw", "Document", tooltip="Open the shown document (workflow entry or memory) in the key editor"),
        Binding("r", "reload", "Reload"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, session, location, doc_id: str, partition: str, agent=None) -> None:
        super().__init__()
        self.session = session
        self.location = location  # the store of the workflow entry
        self.doc_id = doc_id
        self.partition = partition
        self.agent = agent
        self.run = None  # AgentRun, once read
        self.view = None  # RunView, once its memory and workflow are looked for
        self.part = "conversation"
        self.parts = {name: _Part() for name in PARTS}
        self.failed: str | None = None
        self.detail_for: tuple[str, int] | None = None  # (part, index) the pane shows (tests read it)

    def compose(self) -> ComposeResult:
        yield from self._layout(Text(f"run · reading {self.doc_id}…"), MESSAGE_COLUMNS, message_tone,
                                "reading the workflow entry…", summary=True)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "workflow":  # only when the run's workflow instance was found
            return self.view is not None and self.view.workflow is not None
        return True

    def start(self) -> None:
        self._load()

    @work(exclusive=True, group="run")
    async def _load(self) -> None:
        try:
            self.run = run = await self.session.agents(self.location).run(self.doc_id, self.partition)
        except Exception as exc:  # noqa: BLE001 - shown on screen
            self.failed = failure_line(exc)
            self._message(f"✖ {self.failed}", "error")
            self.query_one("#status", Static).update(Text(f"✖ {self.failed}", style="red"))
            return
        self.parts["conversation"].messages = list(run.timeline)
        self._title()
        self._summary()
        if self.part == "conversation":
            self._show_part()
        self.query_one("#status", Static).update(Text("looking for its memory and workflow instance…"))
        try:
            self.view = view = await self.session.complete_run(self.location.store, run, registered=self.agent)
        except Exception as exc:  # noqa: BLE001 - the conversation is still shown
            self._status(f"memory and workflow instance not read: {failure_line(exc)}")
            return
        self.parts["memory"].messages = list(view.memory.messages) if view.memory is not None else []
        self._title()
        self._summary()
        self.refresh_bindings()
        if self.part == "memory" or not self.parts["conversation"].messages:
            self._show_part()
        self._status()

    def _title(self) -> None:
        run = self.run
        names = self.view.names if self.view is not None else (self.agent.names if self.agent else None)
        title = Text.assemble(("run ", "dim"), (run.instance_id, "bold"), " · ",
                              (names.registry or names.state, "bold") if names else run.agent)
        if names is not None:
            title.append(f" ({names.state} · {names.workflow or '?'})", style="dim")
        link = self.view.workflow if self.view is not None else None
        if link is not None and link.summary is not None:
            status = link.summary.status.name
            title.append(" · ")
            title.append(status, style=STATUS_TONES.get(status, ""))
        self.query_one("#ag-title", Static).update(title)

    def _summary(self) -> None:
        """At most three lines: the workflow instance, the run's facts and waits, the memory."""
        run, view = self.run, self.view
        lines: list[Text] = []
        if view is None:
            lines.append(Text("looking for its Dapr workflow instance…", style="dim"))
        elif view.workflow is not None:
            link = view.workflow
            status = link.summary.status.name if link.summary is not None else "?"
            line = Text.assemble("workflow instance ", (status, STATUS_TONES.get(status, "")),
                                 f" in {link.store} (w opens its timeline)")
            if link.summary is not None and link.summary.failure is not None:
                line.append(f" · ✖ {link.summary.failure.error_type}: {link.summary.failure.message}", style="red")
            lines.append(line)
        else:
            lines.append(Text(view.workflow_note, style="yellow"))
        facts = Text()
        waiting = view.waiting if view is not None else run.waiting
        if waiting:  # first: at 80 columns the end of the line is cut
            facts.append("waiting for " + ", ".join(waiting) + " · ", style="bold yellow")
        problems = len(run.problems) + sum(len(m.problems) for m in run.timeline)
        if problems:
            facts.append(f"✖ {problems} problem{'s' if problems > 1 else ''} · ", style="bold red")
        facts.append(f"started {moment_text(run.started)} · {counted(len(run.messages), 'message')} · "
                     f"{counted(len(run.tool_history), 'tool run')}")
        if run.usage_text:
            facts.append(f" · usage {run.usage_text}")
        lines.append(facts)
        if view is not None:
            if view.memory is not None:
                count = len(view.memory.messages)
                memory = Text(f"memory: {count} message{'' if count == 1 else 's'} in {view.memory_store} (m)")
                if view.memory.problems:
                    memory.append(f" · ✖ {view.memory.problems[0]}", style="bold red")
                lines.append(memory)
            else:
                lines.append(Text(f"memory: {view.memory_note}", style="dim"))
        for line in lines:
            line.no_wrap, line.overflow = True, "ellipsis"
        self.query_one("#ag-summary", Static).update(Group(*lines))

    def _status(self, extra: str = "") -> None:
        part = self.parts[self.part]
        parts = [f"{PARTS[self.part]}: {len(part.messages)} message{'' if len(part.messages) == 1 else 's'}"]
        if self.run is not None:
            parts.append(self.run.document.doc_id if self.part == "conversation" or self.view is None
                         or self.view.memory is None else self.view.memory.document.doc_id)
        if extra:
            parts.append(extra)
        self._charge(parts, self.location.store)
        self.query_one("#status", Static).update(Text(" · ".join(parts)))
        self.table.border_title = PARTS[self.part]
        self.table.border_subtitle = "c conversation · m memory"

    def _show_part(self) -> None:
        part = self.parts[self.part]
        rows = [message_row(m) for m in part.messages]
        if not part.placed and part.messages:  # start at the task, past the system prompt
            part.cursor = next((n for n, m in enumerate(part.messages) if m.section != "system"), 0)
            part.placed = True
        self.table.set_rows(rows, part.cursor)
        if self.part == "memory" and self.view is not None and self.view.memory is None:
            self.query_one("#ag-detail-body", Static).update(Text(f"no memory: {self.view.memory_note}", style="dim"))
        elif not rows:
            self.query_one("#ag-detail-body", Static).update(self._no_messages())
        else:
            self._show_detail()
        self._status()

    def _no_messages(self) -> RenderableType:
        """An empty conversation: what its workflow says instead (why it failed, when it did)."""
        link = self.view.workflow if self.view is not None else None
        failure = link.summary.failure if link is not None and link.summary is not None else None
        if failure is None:
            return Text("no messages", style="dim")
        from explorer.tui.screens.workflows.timeline import failure_lines

        return Group(Text("no messages: the run failed before its agent said anything. Its Dapr workflow (w):",
                          style="bold"), *failure_lines(failure))

    def on_row_table_highlighted(self, message: RowTable.Highlighted) -> None:
        self.parts[self.part].cursor = message.index
        self._show_detail()

    def _show_detail(self) -> None:
        index = self.table.current
        messages = self.parts[self.part].messages
        if index is None or index >= len(messages):
            return
        try:
            body = message_detail(messages[index])
        except Exception as exc:  # noqa: BLE001 - a message the pane cannot draw is still named
            body = Text(f"cannot show it ({type(exc).__name__}: {exc}); v opens the document", style="red")
        self.detail_for = (self.part, index)
        self.query_one("#ag-detail-body", Static).update(body)
        self.query_one("#ag-detail", VerticalScroll).scroll_home(animate=False)

    def on_row_table_chosen(self, message: RowTable.Chosen) -> None:
        row = self.parts[self.part].messages[message.index] if message.index < len(self.parts[self.part].messages) \
            else None
        agent_run = next((r.agent_instance_id for r in (row.runs if row else ()) if r.agent_instance_id), None)
        if agent_run:
            self.notify(f"this tool call ran agent run {agent_run}: `dapr-explorer agent-run` or the agent's runs "
                        "open it", timeout=4)

    def action_part(self, part: str) -> None:
        if part == self.part or self.run is None:
            return
        self.parts[self.part].cursor = self.table.current or 0
        self.part = part
        self._show_part()

    def action_workflow(self) -> None:
        if self.view is None or self.view.workflow is None:
            return
        from explorer.tui.screens.workflows.timeline import Timeline

        link = self.view.workflow
        self.app.push_screen(Timeline(self.session, link.location, link.ref))

    def action_raw(self) -> None:
        if self.run is None:
            return
        if self.part == "memory":
            if self.view is None or self.view.memory is None:
                self.notify("no memory document to open", severity="warning")
                return
            self._open_memory(self.view.memory.document)
            return
        self._open_document(self.location, self.run.document, lambda result: self.action_reload())

    @work(group="open")
    async def _open_memory(self, doc) -> None:
        try:
            location = await self.session.location(self.view.memory_store)
        except Exception as exc:  # noqa: BLE001
            self.notify(failure_line(exc), severity="error")
            return
        self._open_document(location, doc, lambda result: self.action_reload())

    def action_reload(self) -> None:
        self.workers.cancel_group(self, "run")
        self.run, self.view, self.failed = None, None, None
        self.parts = {name: _Part() for name in PARTS}
        self.table.set_rows([])
        self._message("")
        self.refresh_bindings()
        self.start()

