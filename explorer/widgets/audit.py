"""The audit log view: every write this user's explorer made, newest first, with its detail.

What it is for: the TUI's view of explorer.audit's file — what was written where, by whom (OS
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

from explorer.core.audit import AuditRecord, diff_lines

OUTCOME_STYLE = {"done": "green", "unverified": "yellow", "conflict": "yellow", "skipped": "yellow", "refused": "red",
                 "failed": "red"}


def detail(record: AuditRecord) -> Text:
    """The selected write, all of its record, diff last."""
    text = Text()
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
    for line in lines:
        text.append(line + "\n", style="green" if line.startswith("+") else "red" if line.startswith("-") else "dim")
    return text


class AuditView(Screen):
    """The audit log; esc goes back."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "reload", "Reload", tooltip="Read the audit log again"),
    ]

    def __init__(self, log) -> None:
        """`log`: an explorer.audit.AuditLog."""
        super().__init__()
        self.audit_log = log
        self.records: list[AuditRecord] = []  # newest first, as the table shows them

    def compose(self) -> ComposeResult:
        yield Static(f"Audit log · {self.audit_log.path}", id="audit-title")
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

    @work(exclusive=True, group="audit", thread=True)
    def action_reload(self) -> None:
        try:
            read = self.audit_log.read()
        except Exception as exc:  # noqa: BLE001 - one line on screen; the app keeps running
            self.app.call_from_thread(self._show_failure, str(exc))
            return
        self.app.call_from_thread(self._show, list(reversed(read.records)), read.unreadable)

    def _show_failure(self, message: str) -> None:
        self.query_one("#audit-detail", Static).update(Text(message, style="red"))

    def _show(self, records: list[AuditRecord], unreadable: int) -> None:
        self.records = records
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for r in records:
            table.add_row(r.time[:19].replace("T", " "), r.operation, r.key, r.partition_key,
                          Text(r.outcome, style=OUTCOME_STYLE.get(r.outcome, "")), r.store)
        note = f" · {len(records)} writes" + (f" · {unreadable} unreadable line(s) skipped" if unreadable else "")
        self.query_one("#audit-title", Static).update(f"Audit log · {self.audit_log.path}{note}")
        if not records:
            self.query_one("#audit-detail", Static).update("No writes recorded yet.")
        table.focus()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self.records):
            self.query_one("#audit-detail", Static).update(detail(self.records[event.cursor_row]))
