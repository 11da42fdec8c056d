"""The audit log view: every write this user's explorer made, newest first, with its detail.

What it is for: the TUI's view of explorer.session.audit_log's file — what was written where, by whom (OS
user, host, context, identity), with which etags and TTL, and how it ended; the selected write's
size-capped value diff below. The file is read in a worker; `r` reads it again.

What it must never do: write the log or anything else (it only reads), or read it on the UI thread.
"""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from rich.cells import cell_len

from explorer.core.audit import AuditRecord, diff_lines
from explorer.core.display import fit_cells, terminal_safe
from explorer.tui.failed_workers import ShowsFailedWorkers

OUTCOME_STYLE = {"done": "green", "unverified": "yellow", "conflict": "yellow", "skipped": "yellow", "refused": "red",
                 "failed": "red"}


#: Cells of the columns shown whole (time, write, outcome, with their padding) and of the scrollbar.
FIXED_CELLS = 21 + 8 + 11 + 2
#: How the rest of the width is shared by key, partition and store when they do not all fit; none gets
#: less than its floor, and a longer cell is cut with …
SHARES = ((0.45, 12), (0.30, 10), (0.25, 10))


def fitted_widths(width: int, natural: list[int]) -> list[int]:
    """The key, partition and store columns' widths in a table `width` cells wide (each cut column's
    padding counted): their natural widths when they fit, else each its share, spare cells going to
    the columns still cut."""
    room = max(0, width - FIXED_CELLS - 2 * len(natural))
    if sum(natural) <= room:
        return natural
    widths = [min(n, max(floor, int(room * share))) for n, (share, floor) in zip(natural, SHARES)]
    while sum(widths) > room and any(w > floor for w, (_, floor) in zip(widths, SHARES)):
        widest = max(range(len(widths)), key=lambda n: widths[n] - SHARES[n][1])
        widths[widest] -= 1  # a floor gives way only when the screen has no room for it
    spare = room - sum(widths)
    for n, want in enumerate(natural):
        if spare <= 0:
            break
        more = min(spare, want - widths[n])
        if more > 0:
            widths[n] += more
            spare -= more
    return widths


def detail(record: AuditRecord) -> Text:
    """The selected write, all of its record, diff last."""
    text = Text()
    record = _safe(record)
    text.append(f"{record.operation} {record.key}", style="bold")
    text.append(f"  {record.outcome}\n", style=OUTCOME_STYLE.get(record.outcome, ""))
    if record.error:
        text.append(f"{record.error}\n", style=OUTCOME_STYLE.get(record.outcome, ""))
    for label, value in (("store", record.store), ("document id", record.doc_id), ("partition", record.partition_key),
                         ("time (UTC)", record.time), ("who", f"{record.user}@{record.host}"),
                         ("context", record.context or "-"), ("identity", record.identity or "-"),
                         ("etag", f"{record.etag_before or '-'} → {record.etag_after or '-'}"),
                         ("ttl", f"{record.ttl_choice or '-'} (ttlInSeconds sent: {record.ttl_in_seconds or 'none'})")):
        text.append(f"{label:>12}  ", style="dim")
        text.append(f"{value}\n")
    for label, facts in (("before", record.value_before), ("after", record.value_after)):
        text.append(f"{label:>12}  ", style="dim")
        text.append("-\n" if facts.bytes is None else f"{facts.bytes} B, sha256 {facts.sha256}\n")
    lines = list(diff_lines(record))
    if lines:
        text.append("\n")
    for line in map(terminal_safe, lines):
        text.append(line + "\n", style="green" if line.startswith("+") else "red" if line.startswith("-") else "dim")
    return text


class AuditView(ShowsFailedWorkers, Screen):
    """The audit log; esc goes back."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Reload", tooltip="Read the audit log again"),
    ]

    def __init__(self, log) -> None:
        """`log`: an explorer.session.audit_log.AuditLog."""
        super().__init__()
        self.audit_log = log
        self.records: list[AuditRecord] = []  # newest first, as the table shows them

    def compose(self) -> ComposeResult:
        yield Static(Text(f"Audit log · {terminal_safe(str(self.audit_log.path))}"), id="audit-title")
        table = DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("Time (UTC)", "Write", "Key", "Partition", "Outcome", "Store")
        yield table
        with VerticalScroll(id="audit-detail-scroll"):
            yield Static("", id="audit-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_back(self) -> None:
        self.app.pop_screen()

    @work(exclusive=True, group="audit", thread=True, exit_on_error=False)
    def action_reload(self) -> None:
        read = self.audit_log.read()
        self.app.call_from_thread(self._show, list(reversed(read.records)), read.unreadable)

    def action_reload_failed(self, error: BaseException) -> None:
        """One line on screen; the app keeps running."""
        self.query_one("#audit-detail", Static).update(Text(str(error), style="red"))

    def _show(self, records: list[AuditRecord], unreadable: int) -> None:
        self.records = records
        self._fill()
        table = self.query_one("#audit-table", DataTable)
        note = f" · {len(records)} writes" + (f" · {unreadable} unreadable line(s) skipped" if unreadable else "")
        self.query_one("#audit-title", Static).update(Text(f"Audit log · {terminal_safe(str(self.audit_log.path))}{note}"))
        if not records:
            self.query_one("#audit-detail", Static).update("No writes recorded yet.")
        table.focus()

    def on_resize(self) -> None:
        self._fill()

    def _fill(self) -> None:
        """The rows, at this screen's width: key, partition and store cut with … when all do not fit,
        time, write and outcome always whole."""
        table = self.query_one("#audit-table", DataTable)
        cursor = table.cursor_row
        safe = [(terminal_safe(r.key), terminal_safe(r.partition_key), terminal_safe(r.store)) for r in self.records]
        natural = [max([cell_len(title), *(cell_len(row[n]) for row in safe)]) for n, title in
                   enumerate(("Key", "Partition", "Store"))]
        widths = fitted_widths(self.size.width or self.app.size.width, natural)
        table.clear()
        for r, cells in zip(self.records, safe):
            key, partition, store = (Text(fit_cells(cell, width), end="") for cell, width in zip(cells, widths))
            table.add_row(r.time[:19].replace("T", " "), Text(r.operation), key, partition,
                          Text(r.outcome, style=OUTCOME_STYLE.get(r.outcome, "")), store)
        if 0 <= cursor < len(self.records):
            table.move_cursor(row=cursor)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.records):
            self.query_one("#audit-detail", Static).update(detail(self.records[event.cursor_row]))


def _safe(record: AuditRecord) -> AuditRecord:
    """The record with every text from a store or the log made terminal-safe (the log is a file anyone
    with access to it can edit); the diff is made safe line by line where it is drawn."""
    import dataclasses

    return dataclasses.replace(record, **{f.name: terminal_safe(value) for f in dataclasses.fields(record)
                                          if f.name != "diff" and isinstance(value := getattr(record, f.name), str)})
