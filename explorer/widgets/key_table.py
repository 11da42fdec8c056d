"""The key table: one partition's keys — Dapr key, owning app, etag, last modified, live TTL.

Renders the rows of the screen's `KeyWindow` and keeps every visible TTL cell
ticking from one timer the screen drives (`tick`). Posts `KeyChosen` (open a
key), `NeedNextPage` / `NeedPreviousPage` as the cursor or scroll nears an
edge of the rows held. Never does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable

from explorer.core.display import age_text, short_etag
from explorer.core.envelope import KeyKind, StateKey
from explorer.core.expiry import Expiry, ExpiryKind, countdown_text

PREFETCH_ROWS = 20  # ask for the next page when the cursor is this close to the last row held


@dataclass(frozen=True)
class KeyEntry:
    """One row: the item's id, partition, etag, _ts, and what the id and ttl mean."""

    doc_id: str
    partition: str
    etag: str
    ts: int
    state_key: StateKey
    expiry: Expiry


def _key_cell(entry: KeyEntry) -> Text:
    kind = entry.state_key.kind
    text = Text(entry.state_key.key)
    if kind is KeyKind.ACTOR:
        text = Text.assemble(("actor ", "magenta"), entry.state_key.key)
    elif kind is KeyKind.WORKFLOW:
        text = Text.assemble(("workflow ", "cyan"), entry.state_key.key)
    return text


def _ttl_cell(entry: KeyEntry, now: float) -> Text:
    text = countdown_text(entry.expiry, now)
    if entry.expiry.kind is ExpiryKind.NEVER:
        return Text(text, style="dim")
    if text.startswith("expired"):
        return Text(text, style="bold red")
    left = (entry.expiry.at or 0) - now
    return Text(text, style="yellow" if left < 60 else "")


class KeyTable(DataTable):
    BINDINGS = [
        Binding("enter", "open_key", "Open", show=False),
    ]

    class KeyChosen(Message):
        def __init__(self, entry: KeyEntry) -> None:
            super().__init__()
            self.entry = entry

    class NeedNextPage(Message):
        pass

    class NeedPreviousPage(Message):
        pass

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._entries: list[KeyEntry] = []
        self._ttl_text: dict[str, str] = {}
        self._age_text: dict[str, str] = {}
        self.more_after = False  # rows exist past the last one held
        self.more_before = False  # rows exist before the first one held (dropped from the window)

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        self.add_column("Key", key="key")
        self.add_column("TTL", key="ttl", width=23)
        self.add_column("Etag", key="etag", width=14)
        self.add_column("Modified", key="modified", width=8)
        self.add_column("App", key="app")

    @property
    def entries(self) -> list[KeyEntry]:
        return list(self._entries)

    @property
    def current(self) -> KeyEntry | None:
        if 0 <= self.cursor_row < len(self._entries):
            return self._entries[self.cursor_row]
        return None

    # -- what the screen tells it -------------------------------------------------------

    def reset(self) -> None:
        self.clear(columns=True)  # columns too: widths fitted to another partition's keys would stay
        self._add_columns()
        self._entries, self._ttl_text, self._age_text = [], {}, {}
        self.more_after = self.more_before = False

    def append(self, entries: Sequence[KeyEntry], now: float) -> None:
        for entry in entries:
            self._add(entry, now)
        self._entries.extend(entries)

    def drop_front(self, count: int) -> None:
        """Forget the first `count` rows (they left the window), keeping the cursor on its key."""
        if count <= 0:
            return
        cursor = max(0, self.cursor_row - count)
        for entry in self._entries[:count]:
            self.remove_row(entry.doc_id)
            self._ttl_text.pop(entry.doc_id, None)
            self._age_text.pop(entry.doc_id, None)
        del self._entries[:count]
        self.move_cursor(row=cursor, animate=False)

    def replace(self, entries: Sequence[KeyEntry], now: float, cursor: int) -> None:
        """Redraw with `entries` (scrolling back up re-fetched an earlier page)."""
        more_after, more_before = self.more_after, self.more_before
        self.reset()
        self.more_after, self.more_before = more_after, more_before
        self.append(entries, now)
        if entries:
            self.move_cursor(row=min(max(cursor, 0), len(entries) - 1), animate=False)

    def _add(self, entry: KeyEntry, now: float) -> None:
        ttl = _ttl_cell(entry, now)
        self._ttl_text[entry.doc_id] = ttl.plain
        self._age_text[entry.doc_id] = age = age_text(entry.ts, now)
        app = entry.state_key.app_id or "—"
        self.add_row(
            _key_cell(entry), ttl, short_etag(entry.etag), age, app, key=entry.doc_id,
        )

    def tick(self, now: float) -> int:
        """Update the TTL and "modified" cells of the rows on screen; returns how many cells changed."""
        if not self._entries:
            return 0
        first = max(0, int(self.scroll_y))
        last = min(len(self._entries), first + self.size.height)
        changed = 0
        for entry in self._entries[first:last]:
            ttl = _ttl_cell(entry, now)
            if self._ttl_text.get(entry.doc_id) != ttl.plain:
                self._ttl_text[entry.doc_id] = ttl.plain
                self.update_cell(entry.doc_id, "ttl", ttl)
                changed += 1
            age = age_text(entry.ts, now)
            if self._age_text.get(entry.doc_id) != age:
                self._age_text[entry.doc_id] = age
                self.update_cell(entry.doc_id, "modified", age)
                changed += 1
        return changed

    def ttl_text(self, doc_id: str) -> str | None:
        """The TTL cell as last drawn (tests and the status bar read it)."""
        return self._ttl_text.get(doc_id)

    # -- what it tells the screen -------------------------------------------------------

    def _near_edges(self) -> None:
        if not self._entries:
            return
        if self.more_after and self.cursor_row >= len(self._entries) - PREFETCH_ROWS:
            self.post_message(self.NeedNextPage())
        elif self.more_before and self.cursor_row <= 0:
            self.post_message(self.NeedPreviousPage())

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self._near_edges()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.more_after and self._entries and new_value >= self.max_scroll_y - 2:
            self.post_message(self.NeedNextPage())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_key()

    def action_open_key(self) -> None:
        if self.current is not None:
            self.post_message(self.KeyChosen(self.current))
