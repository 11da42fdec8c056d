"""The workflows view: one store's Dapr workflow instances, a page at a time, filtered as you type.

What it is for: answering "which instances are there, and which are stuck or failed?" — id,
workflow name, runtime status (coloured), created, last updated, history length, custom status
and app of every instance whose metadata document the store holds. Pages come from
`session.workflows(location).instances_page` in a worker as the user scrolls; `/` filters by
name or id and `s` by status over the rows loaded, and pages keep loading until the screen is
full or the store has no more. Enter opens an instance's timeline (explorer.tui.screens.workflows.timeline).

What it must never do: I/O outside a worker, load every instance at once, keep more of an
instance than its row's text, or offer a write (workflow state is Dapr's; it is read-only).
"""

from __future__ import annotations

from typing import NamedTuple

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from explorer.core.display import failure_line, moment_text
from explorer.core.workflows.schema import RuntimeStatus
from explorer.tui.screens.key_editor import KeyEditor
from explorer.tui.screens.workflows.timeline import Timeline
from explorer.tui.widgets.banner import ReadOnlyBanner
from explorer.tui.widgets.row_table import RowTable
from explorer.tui.widgets.shown import shown_lines
from explorer.tui.widgets.workflow_cells import STATUS_TONES

#: Last updated before created: "is it stuck?" is the question at 80 columns.
COLUMNS = [("Instance", 8, 36), ("Workflow", 8, 28), ("Status", 9, 16), ("Updated (UTC)", 19, 19),
           ("Events", 6, 8), ("Custom status", 13, 40), ("Created (UTC)", 19, 19), ("App", 3, 24)]
CUSTOM_STATUS_CELL = 200  # a custom status is cut to this many characters in its row
NO_INSTANCES = ("no workflow instances: the store holds no workflow metadata documents "
                "(`<app>||dapr.internal.<namespace>.<app>.workflow||<instance>||metadata`). "
                "Either no workflow has run with this store as its actor state store (actorStateStore: true), "
                "or the instances were purged.")


def status_tone(column: int, text: str, row: tuple[str, ...]) -> str:
    return STATUS_TONES.get(text, "") if column == 2 else ""


class InstanceRow(NamedTuple):
    """One instance as its row shows it: text only (a failure's message and the rest are the timeline's)."""

    instance_id: str
    name: str
    status: str
    updated: str
    events: str
    custom_status: str
    created: str
    app_id: str
    partition: str

    @classmethod
    def of(cls, summary) -> InstanceRow:
        custom = (summary.custom_status or "").replace("\n", " ")
        if len(custom) > CUSTOM_STATUS_CELL:
            custom = custom[:CUSTOM_STATUS_CELL - 1] + "…"
        return cls(summary.instance_id, summary.name or "?", summary.status.name, moment_text(summary.last_updated),
                   f"{summary.history_length:,}", custom, moment_text(summary.created), summary.app_id, summary.partition)

    @property
    def cells(self) -> tuple[str, ...]:
        return tuple(self[:8])

    def ref(self):
        """Where its documents are (the reader's InstanceRef), from the row alone."""
        from explorer.core.workflows.summary import InstanceRef

        parts = self.partition.split("||")
        return InstanceRef(self.app_id, self.instance_id, self.partition, parts[1] if len(parts) == 3 else "")


class StatusPicker(ModalScreen[str | None]):
    """Pick one runtime status (with how many loaded rows have it), or all; dismisses with the
    status name, "" for all, or None (cancelled)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, counts: dict[str, int], current: str) -> None:
        super().__init__(classes="dialog")
        self._counts, self._current = counts, current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog-body narrow"):
            yield Label("Show instances whose status is", classes="dialog-title")
            options = [Option(Text(f"all statuses ({sum(self._counts.values()):,} loaded)"), id="status:")]
            for status in RuntimeStatus:
                count = self._counts.get(status.name, 0)
                label = Text.assemble((status.name, STATUS_TONES.get(status.name, "")), (f"  {count:,} loaded", "dim"))
                options.append(Option(label, id=f"status:{status.name}"))
            yield OptionList(*options, id="status-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = options.get_option_index(f"status:{self._current}")
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss((event.option.id or "status:").removeprefix("status:"))

    def action_cancel(self) -> None:
        self.dismiss(None)


class Workflows(Screen):
    """The instances of one store's workflows; esc goes back to the browser."""

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("slash", "filter", "Filter", tooltip="Filter instances by workflow name or instance id"),
        Binding("s", "status", "Status", tooltip="Show only instances in one runtime status"),
        Binding("v", "raw", "Raw", tooltip="Open the instance's metadata document (read-only)"),
        Binding("r", "reload", "Reload", tooltip="Read the instances again from the first page"),
        Binding("question_mark", "help", "Help"),
    ]

    def __init__(self, session, location) -> None:
        super().__init__()
        self.session = session
        self.location = location
        self.loaded: list[InstanceRow] = []
        self.shown: list[InstanceRow] = []
        self.text_filter = ""
        self.status_filter = ""
        self.token: str | None = None
        self.exhausted = False
        self.reading = False
        self.failed: str | None = None
        self.charge = 0.0
        self._generation = 0  # a reload starts a new one; pages of an older one are dropped

    # -- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        if self.session.read_only:
            yield ReadOnlyBanner()
        yield Static(Text(f"Workflow instances — {self.location.store}"), id="wf-title")
        with Horizontal(id="wf-filters"):
            yield Input(placeholder="/ filter by workflow name or instance id", id="wf-filter")
            yield Static("status: all (s)", id="wf-status-filter")
        yield RowTable(COLUMNS, tone=status_tone, id="wf-table")
        yield Static("", id="wf-message")
        yield Static("reading the first page…", id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#wf-message").display = False
        self.table.focus()
        self.load_more()

    @property
    def table(self) -> RowTable:
        return self.query_one("#wf-table", RowTable)

    @property
    def current(self) -> InstanceRow | None:
        index = self.table.current
        return self.shown[index] if index is not None and index < len(self.shown) else None

    # -- loading ------------------------------------------------------------------------

    def load_more(self) -> None:
        if self.reading or self.exhausted:
            return
        self.reading = True
        self._load_page(self._generation, self.token)

    @work(group="instances")
    async def _load_page(self, generation: int, token: str | None) -> None:
        try:
            page = await self.session.workflows(self.location).instances_page(token)
        except Exception as exc:  # noqa: BLE001 - shown on screen; an exception in a worker would end the app
            if generation == self._generation:
                self.reading = False
                self.failed = failure_line(exc)
                self._message(f"✖ {self.failed}", "error")
                self._status()
            return
        if generation != self._generation:
            return
        self.reading = False
        self.failed = None
        self.charge += page.request_charge
        self.token = page.continuation
        self.exhausted = not page.continuation
        rows = [InstanceRow.of(summary) for summary in page.instances]
        self.loaded.extend(rows)
        fresh = [row for row in rows if self._matches(row)]
        self.shown.extend(fresh)
        self.table.more = not self.exhausted
        self.table.append([row.cells for row in fresh])
        self._after_change()

    def _after_change(self) -> None:
        """Say what is shown, and load another page while the screen is not full."""
        self._status()
        if self.failed:
            return
        if not self.loaded and self.exhausted:
            self._message(NO_INSTANCES, "")
        elif not self.shown and self.exhausted:
            self._message(f"no instance matches {self._filter_words()} ({len(self.loaded):,} instances, all loaded)", "")
        elif not self.shown:
            self._message(f"no instance loaded so far matches {self._filter_words()}; reading more…", "")
        else:
            self._message("", "")
        if not self.exhausted and len(self.shown) < self.table.size.height + 5:
            self.load_more()

    def _status(self) -> None:
        loaded, shown = len(self.loaded), len(self.shown)
        parts = [f"{loaded:,} instance{'' if loaded == 1 else 's'} loaded"]
        if self.text_filter or self.status_filter:
            parts.append(f"{shown:,} shown")
        parts.append("reading…" if self.reading else "more ↓" if not self.exhausted else "all loaded")
        parts.append(f"{self.charge:,.2f} RU")
        try:
            parts.append(f"last call {self.session.last_charge(self.location.store):,.2f} RU")
        except Exception:  # noqa: BLE001 - the charge is a nicety
            pass
        self.query_one("#status", Static).update(Text(" · ".join(parts)))

    def _message(self, text: str, level: str) -> None:
        box = self.query_one("#wf-message", Static)
        box.update(shown_lines(text))
        box.set_classes(level)
        box.display = bool(text)

    # -- filtering ----------------------------------------------------------------------

    def _matches(self, row: InstanceRow) -> bool:
        if self.status_filter and row.status != self.status_filter:
            return False
        needle = self.text_filter
        return not needle or needle in row.instance_id.casefold() or needle in row.name.casefold()

    def _filter_words(self) -> str:
        words = []
        if self.text_filter:
            words.append(f"name or id containing {self.text_filter!r}")
        if self.status_filter:
            words.append(f"status {self.status_filter}")
        return " and ".join(words)

    def _refilter(self) -> None:
        keep = self.current
        self.shown = [row for row in self.loaded if self._matches(row)]
        cursor = self.shown.index(keep) if keep in self.shown else 0
        self.table.set_rows([row.cells for row in self.shown], cursor)
        self.query_one("#wf-status-filter", Static).update(
            Text(f"status: {self.status_filter or 'all'} (s)", style=STATUS_TONES.get(self.status_filter, "")))
        self._after_change()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.text_filter = event.value.strip().casefold()
        self._refilter()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.table.focus()

    def action_filter(self) -> None:
        self.query_one("#wf-filter", Input).focus()

    def action_status(self) -> None:
        counts: dict[str, int] = {}
        for row in self.loaded:
            counts[row.status] = counts.get(row.status, 0) + 1

        def picked(status: str | None) -> None:
            if status is not None and status != self.status_filter:
                self.status_filter = status
                self._refilter()
            self.table.focus()

        self.app.push_screen(StatusPicker(counts, self.status_filter), picked)

    # -- what the table tells it ----------------------------------------------------------

    def on_row_table_need_more(self, message: RowTable.NeedMore) -> None:
        self.load_more()

    def on_row_table_chosen(self, message: RowTable.Chosen) -> None:
        row = self.current
        if row is not None:
            self.app.push_screen(Timeline(self.session, self.location, row.ref()))

    # -- actions ------------------------------------------------------------------------

    def action_back(self) -> None:
        box = self.query_one("#wf-filter", Input)
        if box.has_focus and box.value:
            box.value = ""
            self.table.focus()
            return
        if box.has_focus:
            self.table.focus()
            return
        self.dismiss(None)

    def action_raw(self) -> None:
        row = self.current
        if row is not None:
            self.app.push_screen(KeyEditor(self.session, self.location, f"{row.partition}||metadata", row.partition))

    def action_reload(self) -> None:
        self._generation += 1
        self.workers.cancel_group(self, "instances")
        self.loaded, self.shown = [], []
        self.token, self.exhausted, self.reading, self.failed, self.charge = None, False, False, None, 0.0
        self.table.more = False
        self.table.set_rows([])
        self._message("", "")
        self.load_more()
        self._status()

    def action_help(self) -> None:
        self.app.action_help_for(self)
