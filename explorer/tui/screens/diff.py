"""The diff view: `D` in the browser — this store against another store of the session or an export file.

What it is for: the TUI's `dapr-explorer diff`. Pick the other side (a store from the list, or the
path of a `dapr-explorer export` file typed and Enter); both sides are read in a worker by
the session's `diff_side` and compared by explorer.core.import_plan.diff_sides, as the CLI does
(keys matched by document id; value, shape, TTL or partition). The answer is three groups — only
here, only there, different — and the value diff of the key under the cursor below them
(explorer.core.audit.value_diff, size-capped). ctrl+o limits both sides to the browser's partition.

What it must never do: write, await I/O outside a worker, or show more of a value than the capped
diff.
"""

from __future__ import annotations

import os

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from explorer.core.import_plan import DiffReport, KeyDifference, SideKey, diff_sides
from explorer.tui.dialogs import syntax
from explorer.core.display import terminal_safe
from explorer.tui.widgets.shown import safe_text, shown_lines

MAX_ROWS = 2000  # rows listed per group; the counts cover every key


class DiffView(Screen):
    """This store (left) against another store or an export file (right)."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("ctrl+o", "scope", "Partition/store", tooltip="Compare only the browser's partition, or the whole store"),
    ]

    def __init__(self, session, location, other_stores: list[str], partition: str | None = None) -> None:
        super().__init__()
        self.session, self.location = session, location
        self.other_stores = list(other_stores)
        self.partition = partition  # the browser's partition: ctrl+o narrows both sides to it
        self.only_partition = False
        self.other: str | None = None
        self.report: DiffReport | None = None  # the last comparison (tests read it)
        self._rows: dict[str, SideKey | KeyDifference] = {}  # option id -> what it shows

    def compose(self) -> ComposeResult:
        yield Static("", id="diff-title")
        with Horizontal(id="diff-pick"):
            yield OptionList(*[Option(name, id=f"store:{name}") for name in self.other_stores], id="diff-stores")
            yield Input(placeholder="or an export file: path/to/export.jsonl, then Enter", id="diff-path")
        yield Static("Pick a store (Enter) or type the path of an export file.", id="diff-status")
        yield OptionList(id="diff-results")
        with VerticalScroll(id="diff-value-box"):
            yield Static("", id="diff-value")
        yield Footer()

    def on_mount(self) -> None:
        self._title()
        if not self.other_stores:
            self.query_one("#diff-stores").display = False
            self.query_one("#diff-path", Input).focus()
        else:
            self.query_one("#diff-stores", OptionList).focus()

    def _title(self) -> None:
        where = f" › partition {self.partition}" if self.only_partition else ""
        other = f" with {self.other}" if self.other else ""
        self.query_one("#diff-title", Static).update(safe_text(f"Diff — {self.location.store}{where}{other}", "bold"))

    def _status(self, text: str, style: str = "") -> None:
        self.query_one("#diff-status", Static).update(shown_lines(text, style))

    def action_scope(self) -> None:
        if self.partition is None:
            self.notify("open a partition in the browser first", severity="warning")
            return
        self.only_partition = not self.only_partition
        self._title()
        if self.other:
            self.compare(self.other)

    def action_back(self) -> None:
        self.workers.cancel_group(self, "diff")
        self.app.pop_screen()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "diff-stores" and event.option.id:
            event.stop()
            self.compare(event.option.id.removeprefix("store:"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = os.path.expanduser(event.value.strip())
        if not path:
            return
        if not os.path.isfile(path):
            self._status(f"{path}: no such file. Type the path of a `dapr-explorer export` file.", "red")
            return
        self.compare(path)

    @work(exclusive=True, group="diff")
    async def compare(self, other: str) -> None:
        from explorer.errors import describe

        self.other = other
        self._title()
        results = self.query_one("#diff-results", OptionList)
        results.clear_options()
        self._rows = {}
        self.query_one("#diff-value", Static).update("")
        self._status(f"reading {self.location.store} and {other}…")
        partition = self.partition if self.only_partition else None
        skipped: dict[str, list[str]] = {"here": [], "there": []}
        try:
            left = [k async for k in self.session.diff_side(self.location.store, partition, skipped["here"])]
            right = [k async for k in self.session.diff_side(other, partition, skipped["there"])]
        except Exception as exc:  # noqa: BLE001 - one line; the view stays
            self._status(f"✖ {describe(exc)}", "bold red")
            return
        report = diff_sides(left, right)
        self.report = report
        self._show(report, other)
        notes = [f"{len(ids):,} item(s) {side} not written by Dapr: not compared"
                 for side, ids in skipped.items() if ids]
        summary = report.summary(self.location.store, other) + "".join(f" · {n}" for n in notes)
        self._status(summary, "green" if report.identical else "yellow")
        if not report.identical:
            results.focus()

    def _show(self, report: DiffReport, other: str) -> None:
        results = self.query_one("#diff-results", OptionList)
        options: list[Option] = []
        groups = ((f"only in {self.location.store}", "here", report.only_left),
                  (f"only in {other}", "there", report.only_right),
                  ("different", "diff", report.different))
        for title, tag, rows in groups:
            options.append(Option(safe_text(f"{title} ({len(rows):,})", "bold"), disabled=True))
            for index, row in enumerate(rows[:MAX_ROWS]):
                option_id = f"{tag}:{index}"
                self._rows[option_id] = row
                if isinstance(row, KeyDifference):
                    ttl = f" (ttl {row.left.ttl} → {row.right.ttl})" if "ttl" in row.what else ""
                    label = Text.assemble(f"  {terminal_safe(row.doc_id)}  ", (terminal_safe(str(row.right.partition)), "dim"),
                                          f"  {', '.join(row.what)}{terminal_safe(ttl)}")
                else:
                    label = Text.assemble(f"  {terminal_safe(row.doc_id)}  ", (terminal_safe(str(row.partition)), "dim"))
                options.append(Option(label, id=option_id))
            if len(rows) > MAX_ROWS:
                options.append(Option(Text(f"  … and {len(rows) - MAX_ROWS:,} more", style="dim"), disabled=True))
        results.add_options(options)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id != "diff-results":
            return
        option_id = event.option.id or ""
        row = self._rows.get(option_id)
        self.query_one("#diff-value", Static).update(self.value_text(option_id.split(":")[0], row)
                                                     if row is not None else "")

    @staticmethod
    def value_text(tag: str, row: SideKey | KeyDifference):
        """The value diff of one row: here → there for a difference; the whole value (as removed or
        added) for a key on one side only (`tag` "here" or "there")."""
        from explorer.core.audit import value_diff

        if isinstance(row, KeyDifference):
            if "value" not in row.what and "shape" not in row.what:
                return Text(f"the values are the same; differs in {', '.join(row.what)}", style="dim")
            text, cut = row.value_diff()
        elif tag == "here":
            text, cut = value_diff(row.data, row.is_binary, None, False)
        else:
            text, cut = value_diff(None, False, row.data, row.is_binary)
        shown = syntax(text, "diff")
        if cut:
            shown.append(f"… {cut:,} more characters of diff", style="dim")
        return shown
