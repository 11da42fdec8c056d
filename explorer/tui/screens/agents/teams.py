"""`Teams`: a registry store's agent teams, each agent's names, metadata, problems and raw JSON.

What it is for: `a` in the browser. What it must never do: I/O outside a worker, or write (`v` opens
the key editor).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Group, RenderableType
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from explorer.core.agents.teams import index_names
from explorer.core.display import failure_line
from explorer.tui.screens.agents.common import AgentsScreen, detail_grid, problems_and_unknown
from explorer.tui.screens.agents.runs import AgentRuns
from explorer.tui.widgets.row_table import RowTable
from explorer.tui.widgets.shown import pretty_value

TEAM_COLUMNS = [("Team", 4, 20), ("Agent", 5, 28), ("Flags", 5, 44), ("Role", 4, 32), ("LLM", 3, 32),
                ("Tools", 5, 32), ("App", 3, 24)]
TEAM_ROW = "(team _index)"
NO_TEAMS = ("no agent teams: the store holds no agents:<team>:_index document and no document in an 'agents:' "
            "partition. dapr-agents registers an agent when it is built, in the store its agent-registry "
            "component (or AgentRegistryConfig) names.")


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
    grid = detail_grid()
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
    body.extend(problems_and_unknown(agent.problems, agent.unknown))
    if agent.document is not None:
        body.append(Text("as stored", style="dim"))
        body.append(pretty_value(agent.document.value))
    return Group(*body)


def team_detail(team) -> RenderableType:
    body: list[RenderableType] = [Text.assemble(("team ", "dim"), (team.name, "bold"),
                                                f"  app {team.app_id or '(no prefix)'} · partition {team.partition}")]
    if team.index is None:
        body.append(Text("✖ no _index document: dapr-agents sees no agent of this team (get_agents_metadata reads "
                         "the index first)", style="bold red"))
    else:
        listed = index_names(team.index.value)
        body.append(Text(f"_index lists {len(listed)}: {', '.join(listed) or '(nobody)'}"))
        body.append(Text(f"{team.index.doc_id} · etag {team.index.etag} (v opens it; dapr-agents updates it "
                         "with its etag, as the key editor does)", style="dim"))
    if team.others:
        body.append(Text(f"the partition also keeps this team for other id prefixes ({', '.join(team.others)}): "
                         "with keyPrefix appid every app keeps its own index and sees only its own agents",
                         style="yellow"))
    body.extend(problems_and_unknown(team.problems, team.unknown))
    if team.index is not None:
        body.append(Text("as stored", style="dim"))
        body.append(pretty_value(team.index.value))
    return Group(*body)


@dataclass(frozen=True)
class TeamRow:
    team: object  # explorer.core.agents.teams.Team
    agent: object | None  # Agent; None: the team's own row (its _index)

    @property
    def cells(self) -> tuple[str, ...]:
        team, agent = self.team, self.agent
        if agent is None:
            if team.index is None:
                flags = "NO _index"
            else:
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



class Teams(AgentsScreen):
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


