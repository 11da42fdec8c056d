"""The insight view: a store's partitions with their figures — keys, size, oldest and newest
`_ts`, keys expiring within the hour and the day — the largest partitions as bars and a histogram
of expiries, filling in as partitions arrive.

What it is for: `i` in the browser. The figures come from explorer.session.explorer_session `stats` (partitions
found by DISTINCT, each one's figures by queries in that partition), run in a worker; the pictures
are explorer.core.stats' text lines, drawn at the width the pane has. Sort by a column with its key
(k, b, o, n, e) or by clicking its header; esc stops a run under way, then goes back; Enter
dismisses the view with the partition under the cursor, which the browser then opens.

What it must never do: I/O outside a worker, or write.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from explorer.core.display import age_text, failure_line, fit_cells, terminal_safe
from explorer.core.envelope import partition_name as label
from explorer.tui.failed_workers import ShowsFailedWorkers
from explorer.tui.widgets.shown import shown_lines
from explorer.core.stats import (
    PartitionStats,
    StatsProgress,
    expiry_histogram,
    largest_chart,
    size_figure,
    sorted_stats,
    totals,
)

#: (column title, sort) in table order; the sort's first letter is its key.
COLUMNS = (("Partition", None), ("Keys", "keys"), ("Size", "bytes"), ("<1h", "expiring"), ("<1d", "expiring"),
           ("Oldest", "oldest"), ("Newest", "newest"))
#: The partition column gets what the figures leave of the table's width (less its own padding and the
#: scrollbar), at least PARTITION_CELLS; a longer name is cut with … (one long partition key never pushes
#: the figures off the screen).
SCROLLBAR_AND_PADDING = 4
PARTITION_CELLS = 16
MAX_ROWS = 1000  # rows the table holds (the first by the current sort); the chart and totals count every partition
REDRAW_EVERY = 0.3  # seconds between redraws while partitions arrive
CHART_BARS = 10


class TextLines(Widget):
    """A title and the lines `draw(width)` gives for the width this widget has (pure drawing: core.stats)."""

    def __init__(self, title: str, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.draw: Callable[[int], list[str]] = lambda width: []

    def show(self, title: str, draw: Callable[[int], list[str]]) -> None:
        self.title, self.draw = title, draw
        self.refresh()

    def render(self) -> Text:
        text = Text(self.title, style="bold")
        for line in self.draw(max(1, self.content_size.width)):
            text.append("\n" + line)
        return text


class StatsView(ShowsFailedWorkers, Screen):
    """Partition insight for one store; dismissed with a partition to open, or None."""

    BINDINGS = [
        Binding("escape", "back", "Back / stop"),
        Binding("k", "sort('keys')", "Keys", tooltip="Most keys first"),
        Binding("b", "sort('bytes')", "Bytes", tooltip="Largest first (JSON length of the documents)"),
        Binding("o", "sort('oldest')", "Oldest", tooltip="Oldest data first"),
        Binding("n", "sort('newest')", "Newest", tooltip="Newest data first"),
        Binding("e", "sort('expiring')", "Expiring", tooltip="Most keys expiring within the hour (then the day) first"),
    ]

    def __init__(self, session, location) -> None:
        super().__init__()
        self.session = session
        self.location = location
        self.stats: list[PartitionStats] = []  # every partition's figures, as they arrived
        self.sort = "keys"
        self.shown: list[PartitionStats] = []  # the table's rows, in order (tests read it)
        self.progress: StatsProgress | None = None
        self.running = False
        self._dirty = False

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Insight · {terminal_safe(self.location.store)}", style="bold"), id="stats-title")
        yield Static("finding partitions…", id="stats-status")
        table = DataTable(id="stats-table", cursor_type="row", zebra_stripes=True)
        for title, _ in COLUMNS:
            table.add_column(title, key=title)
        yield table
        with Horizontal(id="stats-pictures"):
            yield TextLines("Largest partitions", id="stats-chart")
            yield TextLines("Expiries", id="stats-histogram")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(REDRAW_EVERY, self._redraw_if_changed)
        self.query_one("#stats-table", DataTable).focus()
        self.run()

    # -- the run ------------------------------------------------------------------------------

    @work(exclusive=True, group="stats", exit_on_error=False)
    async def run(self) -> None:
        self.running = True
        async for figures in self.session.stats(self.location, self._on_progress):
            self.stats.append(figures)
            self._dirty = True
        self.running = False
        self._draw()
        self._status(self._summary(), "green")

    def run_failed(self, error: BaseException) -> None:
        """Shown; what arrived stays on screen."""
        self.running = False
        self._draw()
        self._status(f"✖ {failure_line(error, retry='esc, then i again')} · {len(self.stats):,} partitions shown",
                     "red")

    def _on_progress(self, progress: StatsProgress) -> None:
        self.progress = progress
        if self.running:
            self._status(f"{progress.text()} · running… (esc stops)")

    def _summary(self) -> str:
        t = totals(self.stats)
        cut = f" · the table holds the first {MAX_ROWS:,}" if len(self.stats) > MAX_ROWS else ""
        return (f"{t.partitions:,} partitions · {t.keys:,} keys · {size_figure(t.bytes)} · "
                f"{(self.progress.request_charge if self.progress else t.request_charge):,.2f} RU"
                f" · sorted by {self.sort}{cut}")

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#stats-status", Static).update(shown_lines(text, style))

    # -- drawing ------------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._draw()  # the partition column's width follows the screen's

    def _redraw_if_changed(self) -> None:
        if self._dirty:
            self._draw()

    def _draw(self) -> None:
        self._dirty = False
        table = self.query_one("#stats-table", DataTable)
        # The cursor stays on its partition when the rows move under it, except on the top row: the top
        # row follows the sort (as the run fills in and when the sort changes), so nothing the user has
        # not chosen holds the cursor on a partition that happened to arrive first.
        cursor = self.shown[table.cursor_row].partition if self.shown and 0 < table.cursor_row < len(self.shown) else None
        self.shown = sorted_stats(self.stats, self.sort)[:MAX_ROWS]
        now = self.app.now()  # the app's one clock (frozen in snapshots)
        figures = [(f"{s.keys:,}", size_figure(s.bytes), f"{s.expiring_hour:,}", f"{s.expiring_day:,}",
                    age_text(s.oldest or 0, now), age_text(s.newest or 0, now)) for s in self.shown]
        others = sum(max([len(title), *(cell_len(row[n]) for row in figures)]) + 2 for n, (title, _) in enumerate(COLUMNS[1:]))
        cells = max(PARTITION_CELLS, (table.size.width or self.app.size.width) - others - SCROLLBAR_AND_PADDING)
        table.clear()
        for s, row in zip(self.shown, figures):
            table.add_row(Text(fit_cells(terminal_safe(label(s.partition)), cells), end=""), *row)
        if cursor is not None:
            rows = [s.partition for s in self.shown]
            if cursor in rows:
                table.move_cursor(row=rows.index(cursor))
        stats, measure = list(self.stats), "bytes" if self.sort == "bytes" else "keys"
        self.query_one("#stats-chart", TextLines).show(
            f"Largest partitions by {measure}", lambda width: largest_chart(stats, width, CHART_BARS, measure,
                                        lambda pk: terminal_safe(label(pk))))
        buckets = totals(stats).buckets
        self.query_one("#stats-histogram", TextLines).show(
            "Expiries (keys, from now)", lambda width: expiry_histogram(buckets, width))

    # -- actions ------------------------------------------------------------------------------

    def action_sort(self, column: str) -> None:
        self.sort = column
        self._draw()
        if not self.running:
            self._status(self._summary(), "green")

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        column = COLUMNS[event.column_index][1] if 0 <= event.column_index < len(COLUMNS) else None
        if column is not None:
            self.action_sort(column)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if 0 <= event.cursor_row < len(self.shown):
            self.workers.cancel_group(self, "stats")
            self.dismiss(self.shown[event.cursor_row].partition)

    def action_back(self) -> None:
        if self.running:
            self.workers.cancel_group(self, "stats")
            self.running = False
            self._draw()
            self._status(f"stopped · {len(self.stats):,} partitions shown", "yellow")
            return
        self.dismiss(None)
