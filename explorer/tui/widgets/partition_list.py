"""The partition pane: a store's partition keys as they stream in, with filter-as-you-type.

Renders what the screen hands it (batches of partition key values and the
scan's running totals) and posts `PartitionHighlighted` / `PartitionChosen`.
Actor and workflow partitions (`app||type||id`) are shown decoded —
`workflow order-1001`, `actor CartActor cart-42`, `activity <id>` for Dapr's
own actors, the app added when partitions of that kind belong to several apps —
and the raw partition key on demand (`toggle_raw`); the filter matches either. Never does I/O; the scan itself runs in the screen's worker.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from explorer.core.envelope import partition_label
from explorer.core.display import terminal_safe
from explorer.tui.widgets.shown import safe_text

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class PartitionList(Vertical):
    """Filter box, the partition keys, and a progress line (running count, items scanned, RU)."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", tooltip="Filter partitions as you type"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    class PartitionHighlighted(Message):
        def __init__(self, partition: str) -> None:
            super().__init__()
            self.partition = partition

    class PartitionChosen(Message):
        def __init__(self, partition: str) -> None:
            super().__init__()
            self.partition = partition

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._all: list[str] = []
        self._known: set[str] = set()
        self._shown: list[str] = []
        self._filter = ""
        self._spin = 0
        self._labels: dict[str, tuple[str, str, str]] = {}  # actor/workflow partition -> (label, app, kind)
        self._apps: dict[str, set[str]] = {}  # kind of label -> the apps with partitions of that kind
        self.raw = False  # show the raw partition keys instead of the decoded ones

    def compose(self) -> ComposeResult:
        yield Input(placeholder="/ filter partitions", id="partition-filter")
        yield OptionList(id="partition-options")
        yield Static("", id="partition-progress")

    @property
    def options(self) -> OptionList:
        return self.query_one("#partition-options", OptionList)

    @property
    def partitions(self) -> list[str]:
        """Every partition found so far (not just the ones the filter shows)."""
        return list(self._all)

    @property
    def shown(self) -> list[str]:
        return list(self._shown)

    # -- what the screen tells it -------------------------------------------------------

    def begin(self, label: str) -> None:
        self._all, self._shown, self._known = [], [], set()
        self._labels, self._apps = {}, {}
        self.remove_class("decoded")
        self.options.clear_options()
        self.set_progress(f"{SPINNER[0]} {label}: scanning partitions…")

    def add(self, partitions: Iterable[str], summary: str) -> None:
        new = [p for p in partitions if p not in self._known]
        self._known.update(new)
        self._all.extend(new)
        several = self._several_apps()
        for partition in new:
            self._decode(partition)
        if self._several_apps() != several:  # a second app: those labels now name their app
            self._redraw()
        else:
            matching = [p for p in new if self._matches(p)]
            if matching:
                self._shown.extend(matching)
                self.options.add_options([self._option(p) for p in matching])
        self._spin = (self._spin + 1) % len(SPINNER)
        self.set_progress(f"{SPINNER[self._spin]} scanning · {summary}")

    def finish(self, summary: str) -> None:
        shown = f" · {len(self._shown):,} match" if self._filter else ""
        self.set_progress(f"{summary}{shown}")

    def set_progress(self, text: str) -> None:
        self.query_one("#partition-progress", Static).update(text)

    def select(self, partition: str) -> None:
        """Put the cursor on `partition` (adding it when the scan has not reached it yet)."""
        if partition not in self._shown:
            if partition not in self._known:
                self._known.add(partition)
                self._all.append(partition)
                self._decode(partition)
            self._shown.append(partition)
            self.options.add_option(self._option(partition))
        self.options.highlighted = self._shown.index(partition)

    def toggle_raw(self) -> None:
        """Raw partition keys, or decoded actor/workflow ones (the cursor stays on its partition)."""
        self.raw = not self.raw
        self._redraw()

    def label(self, partition: str) -> str:
        """What the option for `partition` says (tests read it)."""
        return str(self._option(partition).prompt)

    def title(self, partition: str) -> str:
        """`partition` as a title says it: decoded (`workflow order-1001 · app`) unless raw."""
        decoded = None if self.raw else self._labels.get(partition)
        if decoded is None:
            return terminal_safe(partition) if partition else "(empty partition key)"
        text, app, kind = decoded
        return terminal_safe(text + (f" · {app}" if kind in self._several_apps() else ""))

    # -- labels ---------------------------------------------------------------------------

    def _decode(self, partition: str) -> None:
        label = partition_label(partition)
        if label is None:
            return
        text, app, kind = label
        self._labels[partition] = (text, app, kind)
        self._apps.setdefault(kind, set()).add(app)
        self.add_class("decoded")

    def _several_apps(self) -> frozenset[str]:
        """The kinds of label (workflow, actor, …) whose partitions belong to more than one app:
        those labels name their app, the others need not."""
        return frozenset(kind for kind, apps in self._apps.items() if len(apps) > 1)

    def _option(self, partition: str) -> Option:
        decoded = None if self.raw else self._labels.get(partition)
        if decoded is None:
            return Option(_label(partition), id=_option_id(partition))
        text, app, kind = decoded
        label = safe_text(text, "" if kind in ("workflow", "actor") else "dim")
        if kind in self._several_apps():
            label.append(f" · {terminal_safe(app)}", style="dim")
        return Option(label, id=_option_id(partition))

    def _redraw(self) -> None:
        current = self._shown[self.options.highlighted] if self.options.highlighted is not None \
            and self.options.highlighted < len(self._shown) else None
        self._shown = [p for p in self._all if self._matches(p)]
        with self.prevent(OptionList.OptionHighlighted):
            self.options.clear_options()
            self.options.add_options([self._option(p) for p in self._shown])
            if current in self._shown:
                self.options.highlighted = self._shown.index(current)

    # -- filtering ----------------------------------------------------------------------

    def _matches(self, partition: str) -> bool:
        if not self._filter or self._filter in partition.casefold():
            return True
        decoded = self._labels.get(partition)
        return decoded is not None and self._filter in decoded[0].casefold()

    def action_filter(self) -> None:
        self.query_one("#partition-filter", Input).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#partition-filter", Input)
        if box.value:
            box.value = ""
        self.options.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter = event.value.strip().casefold()
        self._shown = [p for p in self._all if self._matches(p)]
        self.options.clear_options()
        self.options.add_options([self._option(p) for p in self._shown])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the filter opens the first match (k9s-style "/name⏎")."""
        event.stop()
        self.options.focus()
        if self._shown:
            self.options.highlighted = 0
            self.post_message(self.PartitionChosen(self._shown[0]))

    # -- what it tells the screen -------------------------------------------------------

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index < len(self._shown):
            self.post_message(self.PartitionHighlighted(self._shown[event.option_index]))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_index < len(self._shown):
            self.post_message(self.PartitionChosen(self._shown[event.option_index]))




def _label(partition: str) -> Text:
    return safe_text(partition) if partition else Text("(empty partition key)", style="dim italic")


def _option_id(partition: str) -> str:
    return "pk:" + partition
