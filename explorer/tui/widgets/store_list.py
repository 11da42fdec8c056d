"""The store list pane: every state store from component files and sidecars, with a doctor badge.

Renders `Store` rows and the doctor's verdict per store; posts
`StoreList.StoreHighlighted` when the cursor lands on a store and
`StoreList.FindingsRequested` for the badge. Never does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from explorer.core.listing import Store


@dataclass(frozen=True)
class Badge:
    """The doctor's verdict on one store, as the store list shows it."""

    errors: int = 0
    warnings: int = 0
    infos: int = 0
    checking: bool = False

    @classmethod
    def of(cls, findings: Sequence) -> Badge:
        by = [f.severity.name for f in findings]
        return cls(by.count("ERROR"), by.count("WARNING"), by.count("INFO"))

    def render(self) -> Text:
        if self.checking:
            return Text("… checking", style="dim")
        if self.errors:
            return Text(f"✖ {self.errors} error{'s' if self.errors > 1 else ''}", style="bold red")
        if self.warnings:
            return Text(f"⚠ {self.warnings} warning{'s' if self.warnings > 1 else ''}", style="bold yellow")
        if self.infos:
            return Text(f"✔ ok · {self.infos} note{'s' if self.infos > 1 else ''}", style="green")
        return Text("✔ ok", style="green")


class StoreList(DataTable):
    """One row per store: name, type, database/container, sidecar, capabilities, doctor badge."""

    BINDINGS = [
        Binding("f", "findings", "Doctor", tooltip="Open the doctor's findings for this store"),
    ]

    class StoreHighlighted(Message):
        def __init__(self, store: str) -> None:
            super().__init__()
            self.store = store

    class StoreChosen(Message):
        """Enter (or a click) on a store: browse it."""

        def __init__(self, store: str) -> None:
            super().__init__()
            self.store = store

    class FindingsRequested(Message):
        def __init__(self, store: str) -> None:
            super().__init__()
            self.store = store

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._names: list[str] = []

    def on_mount(self) -> None:
        self.add_column("Store", key="store")
        self.add_column("Doctor", key="doctor")
        self.add_column("Sidecar", key="sidecar")
        self.add_column("Database/container", key="location")
        self.add_column("Type", key="type")
        self.add_column("Capabilities", key="capabilities")

    @property
    def current_store(self) -> str | None:
        if not self._names or self.cursor_row < 0 or self.cursor_row >= len(self._names):
            return None
        return self._names[self.cursor_row]

    def set_badge(self, store: str, badge: Badge | None) -> None:
        """Redraw one store's doctor badge in place (the cursor and the open store stay as they are)."""
        if store in self._names:
            self.update_cell(store, "doctor", badge.render() if badge else Text("—", style="dim"), update_width=True)

    def show(self, stores: Sequence[Store], badges: Mapping[str, Badge]) -> None:
        """Redraw every row, keeping the cursor on the same store.

        The cursor passes over other rows while the table is rebuilt; those moves are not the
        user's, so no StoreHighlighted is posted for them (it would reopen another store)."""
        keep = self.current_store
        with self.prevent(DataTable.RowHighlighted):
            self._rebuild(stores, badges, keep)

    def _rebuild(self, stores: Sequence[Store], badges: Mapping[str, Badge], keep: str | None) -> None:
        self.clear()
        self._names = [s.name for s in stores]
        for store in stores:
            owner = Text(store.owner, style="dim italic" if not store.sidecars else "")
            badge = badges.get(store.name)
            self.add_row(
                store.name, badge.render() if badge else Text("—", style="dim"), owner, store.location or "—",
                store.type.removeprefix("state."), " ".join(store.capabilities) or "—",
                key=store.name,
            )
        if keep in self._names:
            self.move_cursor(row=self._names.index(keep))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.StoreHighlighted(str(event.row_key.value)))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.StoreChosen(str(event.row_key.value)))

    def action_findings(self) -> None:
        if self.current_store:
            self.post_message(self.FindingsRequested(self.current_store))
