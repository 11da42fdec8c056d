"""`AgentRuns`: an agent's runs (its workflow entries), a page at a time, from every store it may keep them in.

What it is for: enter on an agent in `Teams`. What it must never do: I/O outside a worker, or read
more than the page asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from explorer.core.display import failure_line, moment_text
from explorer.tui.screens.agents.common import AgentsScreen
from explorer.tui.screens.agents.run_view import AgentRunView
from explorer.tui.widgets.row_table import RowTable

RUN_COLUMNS = [("Run", 5, 36), ("Started (UTC)", 19, 19), ("Msgs", 4, 6), ("Tools", 5, 6), ("Waiting", 7, 30),
               ("Last message", 12, 80), ("Updated (UTC)", 19, 19), ("Store", 5, 32)]


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
        return (s.instance_id, moment_text(s.started), str(s.messages), str(s.tools), ", ".join(s.waiting),
                s.last + flag, moment_text(updated), self.store)


class AgentRuns(AgentsScreen):
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


