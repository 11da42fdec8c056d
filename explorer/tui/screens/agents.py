"""The dapr-agents views: a registry store's teams, an agent's runs, and one run's conversation.

What it is for: "which agents are registered, is the registry sane, and what did this agent say
and do?" — `Teams` lists each team (a row for its `_index`) and its agents with role, LLM, tools,
app and flags (listed in `_index` with no document, a document the index does not list, a
document that does not fit dapr-agents' model); the detail pane shows the selected agent's three
name spellings, metadata, problems, unknown fields and raw JSON. Enter on an agent opens
`AgentRuns` (its workflow entries, a page at a time); enter on a run opens `AgentRunView`: the
conversation (system prompt, messages, tool calls and their results, usage), `m` its memory, `w`
the Dapr workflow instance's timeline (explorer.tui.screens.workflows.timeline) when one has the run's id. `v`
opens the selected document in the key editor — the one place the explorer edits, so a registry
entry, the `_index` or a memory array is edited there, etag-checked, like every other key.

What it must never do: I/O outside a worker (everything goes through the session's AgentsReader
and WorkflowReader), write (the key editor does, through the session), or hide what it cannot
decode: problems are shown beside the raw JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from explorer.core.agents import tool_error
from explorer.core.display import failure_line, terminal_safe_lines
from explorer.tui.widgets.row_table import RowTable
from explorer.tui.screens.workflows.instances import STATUS_TONES, when
from explorer.tui.widgets.shown import shown_lines

READ_ONLY_BANNER = "READ-ONLY SESSION — browse everything; nothing can be written (--read-only)"
TEAM_COLUMNS = [("Team", 4, 20), ("Agent", 5, 28), ("Flags", 5, 44), ("Role", 4, 32), ("LLM", 3, 32),
                ("Tools", 5, 32), ("App", 3, 24)]
RUN_COLUMNS = [("Run", 5, 36), ("Started (UTC)", 19, 19), ("Msgs", 4, 6), ("Tools", 5, 6), ("Waiting", 7, 30),
               ("Last message", 12, 80), ("Updated (UTC)", 19, 19), ("Store", 5, 32)]
MESSAGE_COLUMNS = [("#", 3, 12), ("Time (UTC)", 8, 19), ("Role", 4, 10), ("Message", 20, 240)]
TEAM_ROW = "(team _index)"
NO_TEAMS = ("no agent teams: the store holds no agents:<team>:_index document and no document in an 'agents:' "
            "partition. dapr-agents registers an agent when it is built, in the store its agent-registry "
            "component (or AgentRegistryConfig) names.")


def _pretty(value: object) -> RenderableType:
    from explorer.tui.dialogs import syntax

    try:
        return syntax(json.dumps(value, indent=2, ensure_ascii=False, default=str), "json")
    except (TypeError, ValueError):
        return Text(repr(value))


def _pretty_text(text: str) -> RenderableType:
    """JSON text pretty-printed, anything else as it is."""
    try:
        return _pretty(json.loads(text))
    except ValueError:
        return Text(terminal_safe_lines(text))


def _count(number: int, what: str) -> str:
    return f"{number:,} {what}{'' if number == 1 else 's'}"


def _grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    return grid


def _problems_and_unknown(problems, unknown) -> list[RenderableType]:
    out: list[RenderableType] = []
    for problem in problems:
        out.append(Text(f"✖ {problem}", style="bold red"))
    for extra in unknown:
        out.append(Text.assemble(("not in dapr-agents' model ", "yellow"), (extra.path, "bold yellow"), " = ",
                                 json.dumps(extra.value, ensure_ascii=False, default=str)))
    return out


def flag_tone(column: int, text: str, row: tuple[str, ...]) -> str:
    if column == 2:
        if text in ("ok", "") or text.startswith("_index lists"):
            return "green" if text == "ok" else ""
        return "bold red" if ("no document" in text or "does not fit" in text or "no _index" in text.lower()
                              or "NO _index" in text) else "bold yellow"
    if column == 1 and text == TEAM_ROW:
        return "dim"
    return ""


def names_text(names) -> Text:
    """The three spellings of an agent's name, each with where it is used."""
    out = Text()
    out.append("registry ", style="dim")
    out.append(repr(names.registry) if names.registry is not None else "?", style="bold")
    out.append(" · state keys ", style="dim")
    out.append(names.state, style="bold")
    out.append(f" ({names.state}:_workflow_<run>, {names.state}:_memory_<run>)", style="dim")
    out.append(" · workflow ", style="dim")
    out.append(names.workflow or "?", style="bold")
    return out


def agent_detail(team, agent) -> RenderableType:
    """Everything the registry says of one agent, its flags first, its raw document last."""
    head = Text.assemble((agent.name, "bold"), f"  team {team.name}")
    body: list[RenderableType] = [head, names_text(agent.names)]
    for flag in agent.flags:
        body.append(Text.assemble((f"✖ {flag.value}: ", "bold red" if flag.name != "NOT_IN_INDEX" else "bold yellow"),
                                  flag.why))
    grid = _grid()
    for label, value in (("role", agent.role), ("goal", agent.goal), ("type", agent.agent_type),
                         ("app", agent.app_id), ("llm", agent.llm)):
        if value:
            grid.add_row(label, Text(value))
    if agent.orchestrator:
        grid.add_row("orchestrator", Text("yes"))
    for n, line in enumerate(agent.instructions):
        grid.add_row("instructions" if n == 0 else "", Text(f"• {line}"))
    for tool in agent.tools:
        grid.add_row("tool", Text.assemble((tool.name or "?", "bold"), f"  {tool.description or ''}"))
    entries, memory = agent.store_of("short_term"), agent.store_of("long_term")
    if entries or memory:
        grid.add_row("stores", Text(f"workflow entries in {entries or '?'} · memory in {memory or '(none)'}"))
    if agent.registered_at is not None:
        grid.add_row("registered", Text(agent.registered_at.isoformat()))
    if agent.document is not None:
        doc = agent.document
        grid.add_row("document", Text(f"{doc.doc_id} · partition {doc.partition} · etag {doc.etag} (v opens it)"))
    body.append(grid)
    body.extend(_problems_and_unknown(agent.problems, agent.unknown))
    if agent.document is not None:
        body.append(Text("as stored", style="dim"))
        body.append(_pretty(agent.document.value))
    return Group(*body)


def team_detail(team) -> RenderableType:
    body: list[RenderableType] = [Text.assemble(("team ", "dim"), (team.name, "bold"),
                                                f"  app {team.app_id or '(no prefix)'} · partition {team.partition}")]
    if team.index is None:
        body.append(Text("✖ no _index document: dapr-agents sees no agent of this team (get_agents_metadata reads "
                         "the index first)", style="bold red"))
    else:
        from explorer.core.agents import index_names

        listed = index_names(team.index.value)
        body.append(Text(f"_index lists {len(listed)}: {', '.join(listed) or '(nobody)'}"))
        body.append(Text(f"{team.index.doc_id} · etag {team.index.etag} (v opens it; dapr-agents updates it "
                         "with its etag, as the key editor does)", style="dim"))
    if team.others:
        body.append(Text(f"the partition also keeps this team for other id prefixes ({', '.join(team.others)}): "
                         "with keyPrefix appid every app keeps its own index and sees only its own agents",
                         style="yellow"))
    body.extend(_problems_and_unknown(team.problems, team.unknown))
    if team.index is not None:
        body.append(Text("as stored", style="dim"))
        body.append(_pretty(team.index.value))
    return Group(*body)


@dataclass(frozen=True)
class TeamRow:
    team: object  # explorer.core.agents.Team
    agent: object | None  # Agent; None: the team's own row (its _index)

    @property
    def cells(self) -> tuple[str, ...]:
        team, agent = self.team, self.agent
        if agent is None:
            if team.index is None:
                flags = "NO _index"
            else:
                from explorer.core.agents import index_names

                flags = f"_index lists {len(index_names(team.index.value))}"
            if team.problems:
                flags += " · ✖ does not fit"
            if team.others:
                flags += f" · also under {len(team.others)} other app{'s' if len(team.others) > 1 else ''}"
            return (team.name, TEAM_ROW, flags, "", "", "", team.app_id or "")
        return (team.name, agent.name, ", ".join(f.value for f in agent.flags) or "ok", agent.role or "",
                agent.llm or "", ", ".join(t.name or "?" for t in agent.tools), agent.app_id or "")

    @property
    def document(self):
        """The document `v` opens (None: an index entry with no document)."""
        return self.team.index if self.agent is None else self.agent.document


class _Base(Screen):
    """What the three screens share: the banner, a title, a table, a message, a detail pane."""

    TABLE_ID = "ag-table"

    def _layout(self, title: Text, columns, tone=None, status: str = "", summary: bool = False,
                detail: bool = True) -> ComposeResult:
        """Banner (read-only), title, summary, table, message, detail pane, status line, footer."""
        if self.session.read_only:
            yield Static(READ_ONLY_BANNER, classes="banner")
        yield Static(title, id="ag-title")
        if summary:
            yield Static("", id="ag-summary")
        yield RowTable(columns, tone=tone, id=self.TABLE_ID)
        yield Static("", id="ag-message")
        if detail:
            with VerticalScroll(id="ag-detail"):
                yield Static("", id="ag-detail-body")
        yield Static(status, id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#ag-message").display = False
        self.table.focus()
        self.start()

    def start(self) -> None:
        """Begin reading (in a worker)."""

    @property
    def table(self) -> RowTable:
        return self.query_one(f"#{self.TABLE_ID}", RowTable)

    def _message(self, text: str, level: str = "") -> None:
        box = self.query_one("#ag-message", Static)
        box.update(shown_lines(text))
        box.set_classes(level)
        box.display = bool(text)

    def _charge(self, parts: list[str], store: str) -> None:
        try:
            parts.append(f"last call {self.session.last_charge(store):,.2f} RU")
        except Exception:  # noqa: BLE001 - the charge is a nicety
            pass

    def _open_document(self, location, doc, then=None) -> None:
        from explorer.tui.screens.key_editor import KeyEditor

        self.app.push_screen(KeyEditor(self.session, location, doc.doc_id, doc.partition), then)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_help(self) -> None:
        self.app.action_help_for(self)


class Teams(_Base):
    """The dapr-agents teams of one registry store; esc goes back to the browser."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("v", "raw", "Document", tooltip="Open the selected agent's (or team's _index) document in the key editor"),
        Binding("r", "reload", "Reload", tooltip="Read the teams again"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, session, location) -> None:
        super().__init__()
        self.session = session
        self.location = location
        self.rows: list[TeamRow] = []
        self.teams: list = []
        self.reading = False
        self.failed: str | None = None
        self.charge = 0.0
        self.detail_for: tuple[str, str] | None = None  # (team, agent or TEAM_ROW) the pane shows (tests read it)
        self._keep: tuple[str, str] | None = None  # the row to put the cursor back on once read again

    def compose(self) -> ComposeResult:
        yield from self._layout(Text(f"Agent teams — {self.location.store}"), TEAM_COLUMNS, flag_tone,
                                "reading the teams…")

    def start(self) -> None:
        self.reading = True
        self._load()

    @work(exclusive=True, group="teams")
    async def _load(self) -> None:
        reader = self.session.agents(self.location)
        try:
            names, charge = await reader.team_names()
            self.charge += charge
            self._status()
            for name in names:
                read = await reader.team(name)
                self.charge += read.request_charge
                self._add(read.teams)
        except Exception as exc:  # noqa: BLE001 - shown on screen; an exception in a worker would end the app
            self.reading = False
            self.failed = failure_line(exc)
            self._message(f"✖ {self.failed}", "error")
            self._status()
            return
        self.reading = False
        if not self.teams:
            self._message(NO_TEAMS)
        self._status()

    def _add(self, teams) -> None:
        fresh: list[TeamRow] = []
        for team in teams:
            self.teams.append(team)
            fresh.append(TeamRow(team, None))
            fresh.extend(TeamRow(team, agent) for agent in team.agents)
        first = not self.rows
        self.rows.extend(fresh)
        self.table.append([row.cells for row in fresh])
        back = next((n for n, row in enumerate(self.rows) if self._keep and self._key(row) == self._keep), None)
        if back is not None:  # read again: the cursor goes back to the row it was on
            self._keep = None
            self.table.cursor_row = back
        elif first and fresh:
            self._show_detail()
        self._status()

    @staticmethod
    def _key(row: TeamRow) -> tuple[str, str]:
        return row.team.name, row.agent.name if row.agent is not None else TEAM_ROW

    def _status(self) -> None:
        agents = sum(len(t.agents) for t in self.teams)
        flagged = sum(t.flagged for t in self.teams)
        parts = [f"{len(self.teams)} team{'' if len(self.teams) == 1 else 's'}", f"{agents} agents"]
        if flagged:
            parts.append(f"{flagged} flagged")
        parts.append("reading…" if self.reading else "all read")
        parts.append(f"{self.charge:,.2f} RU")
        self._charge(parts, self.location.store)
        self.query_one("#status", Static).update(Text(" · ".join(parts)))

    @property
    def current(self) -> TeamRow | None:
        index = self.table.current
        return self.rows[index] if index is not None and index < len(self.rows) else None

    def on_row_table_highlighted(self, message: RowTable.Highlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.current
        if row is None:
            return
        try:
            body = team_detail(row.team) if row.agent is None else agent_detail(row.team, row.agent)
        except Exception as exc:  # noqa: BLE001 - a row the pane cannot draw is still named
            body = Text(f"cannot show it ({type(exc).__name__}: {exc}); v opens the document", style="red")
        self.detail_for = self._key(row)
        self.query_one("#ag-detail-body", Static).update(body)
        self.query_one("#ag-detail", VerticalScroll).scroll_home(animate=False)

    def on_row_table_chosen(self, message: RowTable.Chosen) -> None:
        self.action_runs()

    def action_runs(self) -> None:
        row = self.current
        if row is None:
            return
        if row.agent is None:
            self.notify("the team's row: enter on an agent opens its runs; v opens the _index document", timeout=3)
            return
        self.app.push_screen(AgentRuns(self.session, self.location, row.agent))

    def action_raw(self) -> None:
        row = self.current
        if row is None:
            return
        doc = row.document
        if doc is None:
            self.notify("no document to open: the index lists this agent, but its metadata document is gone",
                        severity="warning")
            return
        self._open_document(self.location, doc, lambda result: self.action_reload())

    def action_reload(self) -> None:
        self._keep = self.detail_for
        self.workers.cancel_group(self, "teams")
        self.rows, self.teams, self.charge, self.failed = [], [], 0.0, None
        self.table.set_rows([])
        self._message("")
        self.start()


@dataclass
class _StoreRuns:
    store: str
    location: object = None
    token: str | None = None
    done: bool = False


@dataclass(frozen=True)
class RunRow:
    summary: object  # RunSummary
    store: str

    @property
    def cells(self) -> tuple[str, ...]:
        from datetime import datetime, timezone

        s = self.summary
        updated = datetime.fromtimestamp(s.ts, timezone.utc) if s.ts else None
        flag = f" ✖{s.problems}" if s.problems else ""
        return (s.instance_id, when(s.started), str(s.messages), str(s.tools), ", ".join(s.waiting),
                s.last + flag, when(updated), self.store)


class AgentRuns(_Base):
    """One agent's runs (its workflow entries), a page at a time; esc goes back to the teams."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("v", "raw", "Document", tooltip="Open the selected run's workflow entry in the key editor"),
        Binding("r", "reload", "Reload", tooltip="Read the runs again from the first page"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, session, location, agent) -> None:
        super().__init__()
        self.session = session
        self.location = location  # the registry store's
        self.agent = agent
        self.rows: list[RunRow] = []
        self.stores: list[_StoreRuns] = []
        self.reading = False
        self.exhausted = False
        self.failed: str | None = None
        self.charge = 0.0
        self._generation = 0

    def compose(self) -> ComposeResult:
        names = self.agent.names
        title = Text.assemble("Runs of ", (self.agent.name, "bold"), f" ({names.state} · {names.workflow or '?'})")
        yield from self._layout(title, RUN_COLUMNS, status="finding the stores of its workflow entries…", detail=False)

    def start(self) -> None:
        try:
            everywhere = self.session.agent_stores()
        except Exception:  # noqa: BLE001 - the registry store alone is still worth reading
            everywhere = []
        named = self.agent.store_of("short_term")
        if named and named in everywhere:
            stores = [named]
        else:  # the agent did not say, or names a store this session cannot open: look everywhere
            stores = [self.location.store, *[s for s in everywhere if s != self.location.store]]
        self.stores = [_StoreRuns(s) for s in stores]
        self.load_more()

    def load_more(self) -> None:
        if self.reading or self.exhausted:
            return
        self.reading = True
        self._load(self._generation)

    @work(group="runs")
    async def _load(self, generation: int) -> None:
        pending = next((s for s in self.stores if not s.done), None)
        if pending is None:
            self.reading, self.exhausted = False, True
            self._after()
            return
        app_ids = [self.agent.app_id, self.agent.document.app_id if self.agent.document else None]
        try:
            if pending.location is None:
                pending.location = await self.session.location(pending.store)
            page = await self.session.agents(pending.location).runs_page(self.agent.names.state, app_ids,
                                                                         pending.token)
        except Exception as exc:  # noqa: BLE001 - shown; the other stores are still read
            if generation != self._generation:
                return
            pending.done = True
            self.failed = f"{pending.store}: {failure_line(exc)}"
            self.reading = False
            self._after()
            return
        if generation != self._generation:
            return
        self.charge += page.request_charge
        pending.token = page.continuation
        pending.done = not page.continuation
        fresh = [RunRow(summary, pending.store) for summary in page.runs]
        self.rows.extend(fresh)
        self.reading = False
        self.exhausted = all(s.done for s in self.stores)
        self.table.more = not self.exhausted
        self.table.append([row.cells for row in fresh])
        self._after()

    def _after(self) -> None:
        parts = [f"{len(self.rows):,} run{'' if len(self.rows) == 1 else 's'} loaded",
                 "reading…" if self.reading else "more ↓" if not self.exhausted else "all loaded",
                 "in " + ", ".join(s.store for s in self.stores), f"{self.charge:,.2f} RU"]
        self.query_one("#status", Static).update(Text(" · ".join(parts)))
        if self.failed:
            self._message(f"✖ {self.failed}", "error")
        elif not self.rows and self.exhausted:
            self._message(f"no runs: no {self.agent.names.state}:_workflow_<run> entry in "
                          + ", ".join(s.store for s in self.stores)
                          + " (the agent has not run, or its entries were purged)")
        if not self.exhausted and len(self.rows) < self.table.size.height + 5:
            self.load_more()

    @property
    def current(self) -> RunRow | None:
        index = self.table.current
        return self.rows[index] if index is not None and index < len(self.rows) else None

    def on_row_table_need_more(self, message: RowTable.NeedMore) -> None:
        self.load_more()

    def on_row_table_chosen(self, message: RowTable.Chosen) -> None:
        row = self.current
        if row is not None:
            location = next(s.location for s in self.stores if s.store == row.store)
            self.app.push_screen(AgentRunView(self.session, location, row.summary.doc_id, row.summary.partition,
                                              self.agent))

    def action_raw(self) -> None:
        row = self.current
        if row is not None:
            location = next(s.location for s in self.stores if s.store == row.store)
            self._open_document(location, row.summary)

    def action_reload(self) -> None:
        self._generation += 1
        self.workers.cancel_group(self, "runs")
        self.rows, self.reading, self.exhausted, self.failed, self.charge = [], False, False, None, 0.0
        self.table.more = False
        self.table.set_rows([])
        self._message("")
        self.start()


def message_row(message) -> tuple[str, ...]:
    at = message.at.strftime("%m-%d %H:%M:%S") if message.at is not None else "—"
    return (message.label, at, message.role or "?", message.summary)


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
    body.extend(_problems_and_unknown(message.problems, ()))
    failed = tool_error(message.content) if message.role == "tool" else None
    if failed:
        body.append(Text(f"✖ the tool failed: {failed}", style="bold red"))
    if message.content and message.role == "tool":
        body.append(_pretty_text(message.content))
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
                body.append(_pretty(call.arguments_json))
    for record in message.runs:
        grid = _grid()
        tone = "green" if record.status == "completed" else "bold red" if record.status in ("failed", "timeout") \
            else "yellow"
        grid.add_row("tool run", Text.assemble((record.tool_name or "?", "bold"), "  ", (record.status or "?", tone)))
        if record.duration_ms is not None:
            grid.add_row("took", Text(f"{record.duration_ms:,.1f} ms (attempt {record.attempt})"))
        if record.args:
            grid.add_row("args", _pretty(record.args))
        if record.result is not None:
            grid.add_row("result", _pretty_text(record.result))
        if record.structured is not None:
            grid.add_row("structured", _pretty(record.structured))
        if record.error:
            grid.add_row(Text("error", style="bold red"), Text(record.error, style="red"))
        if record.agent_instance_id:
            grid.add_row("agent run", Text(record.agent_instance_id))
        body.append(grid)
    body.extend(_problems_and_unknown((), message.unknown))
    body.append(Text("as stored", style="dim"))
    body.append(_pretty(message.raw))
    return Group(*body)


PARTS = {"conversation": "conversation", "memory": "memory"}


@dataclass
class _Part:
    messages: list = field(default_factory=list)
    cursor: int = 0
    placed: bool = False  # the cursor was put on the first message once


class AgentRunView(_Base):
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
        facts.append(f"started {when(run.started)} · {_count(len(run.messages), 'message')} · "
                     f"{_count(len(run.tool_history), 'tool run')}")
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
