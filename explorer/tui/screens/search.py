"""The search view: a store's (or one partition's) keys whose value matches a filter, as they arrive.

What it is for: `s` in the browser. The filter is Dapr's state query language (what apps send to
Dapr's query API: `{"EQ": {"status": "active"}}`, AND/OR/IN, sort, page) or raw Cosmos SQL, run
directly against Cosmos DB, through a sidecar's query API, or both ways with the answer to "do
they agree?". Result pages are added as they arrive, with the request charge; esc stops a search
that is running (and leaves the view when none is); Enter opens the key under the cursor in the
key editor. The search itself is explorer.session.explorer_session `search` (explorer.backends.cosmos.search), run in a worker.

What it must never do: I/O outside a worker, build SQL from a typed value (the core keeps values
in parameters), or write.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static

from explorer.core.model import NO_PARTITION_KEY, MissingPartitionKey
from explorer.tui.widgets.shown import safe_text, shown_lines

#: The ways a search can run, in the order ctrl+t cycles through them.
MODES = ("cosmos", "dapr", "both", "sql")
MODE_TEXT = {"cosmos": "Dapr query · on Cosmos DB directly", "dapr": "Dapr query · through Dapr's query API",
             "both": "Dapr query · both ways, compared", "sql": "Cosmos SQL · directly"}
MAX_ROWS = 5000  # rows held on screen; a search that finds more stops there and says so


class SearchView(Screen):
    """Search one store (or one partition); esc stops a running search, then goes back."""

    BINDINGS = [
        Binding("escape", "back", "Back / stop"),
        Binding("ctrl+t", "mode", "Mode", tooltip="Dapr query directly · through Dapr · both, compared · Cosmos SQL"),
        Binding("ctrl+o", "scope", "Partition/store", tooltip="Search the whole store, or only the partition"),
    ]

    def __init__(self, session, location, partition: str | None = None) -> None:
        super().__init__()
        self.session = session
        self.location = location
        self.partition = partition  # the browser's partition: ctrl+o narrows the search to it
        self.whole_store = True
        self.mode = "cosmos"
        self.hits: list = []  # what the table shows, in order (tests read it)
        self.agreement = None  # explorer.core.query_answers.Agreement after a "both" search
        self.running = False

    def compose(self) -> ComposeResult:
        yield Static("", id="search-scope")
        yield Input(placeholder='{"EQ": {"status": "active"}}  ·  or SQL in SQL mode (ctrl+t)', id="search-query")
        yield Static("Type a filter and press Enter.", id="search-status")
        table = DataTable(id="search-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Key", "Partition", "Etag", "Value")
        yield table
        yield Footer()

    def on_mount(self) -> None:
        self._show_scope()
        self.query_one("#search-query", Input).focus()

    def _show_scope(self) -> None:
        where = self.location.store if self.whole_store else f"{self.location.store} › partition {self.partition}"
        self.query_one("#search-scope", Static).update(safe_text(f"Search {where} · {MODE_TEXT[self.mode]}", "bold"))

    def action_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]
        self._show_scope()

    def action_scope(self) -> None:
        if self.partition is not None:
            self.whole_store = not self.whole_store
            self._show_scope()

    def action_back(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "search")
            self.running = False
            self._status(f"stopped · {len(self.hits)} keys shown", "yellow")
            return
        self.app.pop_screen()

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#search-status", Static).update(shown_lines(text, style))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if text:
            self.run_search(text)

    @work(exclusive=True, group="search")
    async def run_search(self, text: str) -> None:
        from explorer.core.query_answers import agree
        from explorer.core.state_query import parse_search, raw_sql
        from explorer.errors import ExplorerError, describe
        from explorer.core.display import short_value

        table = self.query_one("#search-table", DataTable)
        table.clear()
        self.hits, self.agreement = [], None
        partition = None if self.whole_store else self.partition
        if partition == NO_PARTITION_KEY:
            partition = MissingPartitionKey()
        try:
            query = raw_sql(text) if self.mode == "sql" else parse_search(text)
            ways = ("cosmos", "dapr") if self.mode == "both" else ("cosmos" if self.mode == "sql" else self.mode,)
            follow = self.mode == "sql" or query.limit == 0
            searches = {via: self.session.search(self.location, query, via, partition, follow) for via in ways}
        except ExplorerError as exc:
            self._status(describe(exc), "red")
            return
        self.running = True
        charge, answers = 0.0, {via: [] for via in ways}
        try:
            for via, pages in searches.items():
                async for page in pages:
                    charge += page.request_charge or 0.0
                    answers[via].extend(page.hits)
                    if via == ways[0]:
                        for hit in page.hits[:max(0, MAX_ROWS - len(self.hits))]:
                            self.hits.append(hit)
                            table.add_row(safe_text(hit.shown_key), safe_text("" if hit.partition_key is None else hit.partition_key),
                                          safe_text(hit.etag), safe_text(short_value(hit.value, 50)))
                    more = " · running… (esc stops)"
                    self._status(f"{len(answers[via])} keys via {via} · {charge:,.2f} RU{more}")
                    if len(self.hits) >= MAX_ROWS:
                        self._status(f"the first {MAX_ROWS} keys are shown; narrow the filter for the rest", "yellow")
                        return
        except ExplorerError as exc:  # a query Cosmos DB refused read nothing: no count of what came before
            self._status(describe(exc) + (f" · {len(self.hits)} keys shown before it" if self.hits else ""), "red")
            return
        finally:
            self.running = False
        notes = "; ".join(getattr(query, "notes", ()) or ())
        summary = f"{len(self.hits)} keys · {charge:,.2f} RU" + (f" · note: {notes}" if notes else "")
        if self.mode == "both":
            self.agreement = agree([h.direct_item() for h in answers["cosmos"]],
                                   [h.dapr_item() for h in answers["dapr"]], ordered=bool(getattr(query, "sort", ())))
            verdict = " ".join(self.agreement.lines())
            self._status(f"{summary} · {verdict}", "green" if self.agreement.same else "red")
        else:
            self._status(summary, "green")
        if self.hits:
            table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        hit = self.hits[event.cursor_row] if 0 <= event.cursor_row < len(self.hits) else None
        if hit is None or hit.doc_id is None or hit.partition_key is None:
            self.notify("Dapr's answer names the key but not its document or partition: search directly "
                        "(ctrl+t) to open it", severity="warning")
            return
        from explorer.tui.screens.key_editor import KeyEditor

        self.app.push_screen(KeyEditor(self.session, self.location, hit.doc_id, str(hit.partition_key)))
