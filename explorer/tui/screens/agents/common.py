"""What the agents views share: the screen base (banner, title, table, message, detail pane, status),
JSON shown pretty, counts, the detail grid and the problems of a document.

What it is for: explorer.tui.screens.agents' three screens. What it must never do: I/O (the screens
read in workers, through the session).
"""

from __future__ import annotations

import json

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from explorer.tui.widgets.row_table import RowTable
from explorer.tui.widgets.banner import ReadOnlyBanner
from explorer.tui.widgets.shown import shown_lines

def counted(number: int, what: str) -> str:
    return f"{number:,} {what}{'' if number == 1 else 's'}"


def detail_grid() -> Table:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    return grid


def problems_and_unknown(problems, unknown) -> list[RenderableType]:
    out: list[RenderableType] = []
    for problem in problems:
        out.append(Text(f"✖ {problem}", style="bold red"))
    for extra in unknown:
        out.append(Text.assemble(("not in dapr-agents' model ", "yellow"), (extra.path, "bold yellow"), " = ",
                                 json.dumps(extra.value, ensure_ascii=False, default=str)))
    return out



class AgentsScreen(Screen):
    """What the three screens share: the banner, a title, a table, a message, a detail pane."""

    TABLE_ID = "ag-table"

    def _layout(self, title: Text, columns, tone=None, status: str = "", summary: bool = False,
                detail: bool = True) -> ComposeResult:
        """Banner (read-only), title, summary, table, message, detail pane, status line, footer."""
        if self.session.read_only:
            yield ReadOnlyBanner()
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

