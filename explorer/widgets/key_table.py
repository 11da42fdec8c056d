"""The key table: one partition's keys — Dapr key, live TTL, etag, last modified, owning app.

A line-drawn table (Textual's Line API): it draws only the rows on screen,
straight from the entries it holds, so the one-second countdown of a thousand
visible rows costs a repaint, not a rebuild. Renders the rows of the screen's
`KeyWindow`; posts `KeyChosen` (open a key) and `NeedNextPage` /
`NeedPreviousPage` as the cursor or scroll nears an edge of the rows held.
Never does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from explorer.core.display import age_text, short_etag
from explorer.core.envelope import KeyKind, StateKey
from explorer.core.expiry import Expiry, ExpiryKind, countdown_text

PREFETCH_ROWS = 20  # ask for the next page when the cursor is this close to the last row held
KEY_WIDTH = (8, 48)  # the key column fits the longest key held, within these bounds
FIXED = (("TTL", 23), ("Etag", 14), ("Modified", 8))


@dataclass(frozen=True)
class KeyEntry:
    """One row: the item's id, partition, etag, _ts, and what the id and ttl mean."""

    doc_id: str
    partition: str
    etag: str
    ts: int
    state_key: StateKey
    expiry: Expiry


def ttl_cell(entry: KeyEntry, now: float) -> tuple[str, str]:
    """The countdown text and its tone: "dim" (never), "expired", "soon" (< 1 min) or ""."""
    text = countdown_text(entry.expiry, now)
    if entry.expiry.kind is ExpiryKind.NEVER:
        return text, "dim"
    if text.startswith("expired"):
        return text, "expired"
    return text, "soon" if (entry.expiry.at or 0) - now < 60 else ""


class KeyTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "key-table--header", "key-table--cursor", "key-table--cursor-blurred", "key-table--even",
        "key-table--dim", "key-table--soon", "key-table--expired", "key-table--actor", "key-table--workflow",
    }
    DEFAULT_CSS = """
    KeyTable {
        background: $surface;
        color: $foreground;
        &:focus { background-tint: $foreground 5%; }
        & > .key-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .key-table--even { background: $surface-lighten-1 50%; }
        &:dark > .key-table--even { background: $surface-darken-1 40%; }
        & > .key-table--cursor {
            background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
        }
        & > .key-table--cursor-blurred {
            background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
        }
        & > .key-table--dim { color: $text-muted; }
        & > .key-table--soon { color: $warning; }
        & > .key-table--expired { color: $error; text-style: bold; }
        & > .key-table--actor { color: $accent; }
        & > .key-table--workflow { color: $secondary; }
    }
    """
    BINDINGS = [
        Binding("enter", "open_key", "Open", show=False),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,ctrl+home", "edge(0)", "First", show=False),
        Binding("end,ctrl+end", "edge(1)", "Last", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
    ]

    cursor_row: reactive[int] = reactive(0, always_update=True)
    header_height = 1
    show_header = True

    class KeyChosen(Message):
        def __init__(self, entry: KeyEntry) -> None:
            super().__init__()
            self.entry = entry

    class NeedNextPage(Message):
        pass

    class NeedPreviousPage(Message):
        pass

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._entries: list[KeyEntry] = []
        self._ttl_text: dict[str, str] = {}
        self._age_text: dict[str, str] = {}
        self._key_width = KEY_WIDTH[0]
        self._app_width = 3
        self.more_after = False  # rows exist past the last one held
        self.more_before = False  # rows exist before the first one held (dropped from the window)

    @property
    def entries(self) -> list[KeyEntry]:
        return list(self._entries)

    @property
    def row_count(self) -> int:
        return len(self._entries)

    @property
    def current(self) -> KeyEntry | None:
        if 0 <= self.cursor_row < len(self._entries):
            return self._entries[self.cursor_row]
        return None

    # -- what the screen tells it -------------------------------------------------------

    def reset(self) -> None:
        self._entries, self._ttl_text, self._age_text = [], {}, {}
        self._key_width, self._app_width = KEY_WIDTH[0], 3
        self.more_after = self.more_before = False
        self.cursor_row = 0
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._resize()

    def append(self, entries: Sequence[KeyEntry], now: float) -> None:
        for entry in entries:
            self._measure(entry, now)
        self._entries.extend(entries)
        self._resize()

    def drop_front(self, count: int) -> None:
        """Forget the first `count` rows (they left the window); the view and cursor stay on their keys."""
        if count <= 0:
            return
        for entry in self._entries[:count]:
            self._ttl_text.pop(entry.doc_id, None)
            self._age_text.pop(entry.doc_id, None)
        del self._entries[:count]
        self._resize()
        self.scroll_to(y=max(0, self.scroll_offset.y - count), animate=False, immediate=True)
        self.set_reactive(KeyTable.cursor_row, max(0, self.cursor_row - count))
        self.refresh()

    def replace(self, entries: Sequence[KeyEntry], now: float, cursor: int) -> None:
        """Redraw with `entries` (scrolling back up re-fetched an earlier page)."""
        more_after, more_before = self.more_after, self.more_before
        self._entries, self._ttl_text, self._age_text = [], {}, {}
        self.append(entries, now)
        self.more_after, self.more_before = more_after, more_before
        if entries:
            self.move_cursor(row=cursor)

    def move_cursor(self, row: int, animate: bool = False) -> None:
        self.cursor_row = row

    def _measure(self, entry: KeyEntry, now: float) -> None:
        self._ttl_text[entry.doc_id] = ttl_cell(entry, now)[0]
        self._age_text[entry.doc_id] = age_text(entry.ts, now)
        self._key_width = min(KEY_WIDTH[1], max(self._key_width, cell_len(_key_text(entry)[0])))
        self._app_width = max(self._app_width, cell_len(entry.state_key.app_id or "—"))

    def _columns(self) -> list[tuple[str, int]]:
        return [("Key", self._key_width), *FIXED, ("App", self._app_width)]

    def _resize(self) -> None:
        width = sum(w + 2 for _, w in self._columns())
        self.virtual_size = Size(width, len(self._entries) + self.header_height)
        self.refresh()

    def tick(self, now: float) -> int:
        """Redraw the rows on screen if a countdown or an age changed; returns how many cells changed."""
        if not self._entries:
            return 0
        first = max(0, int(self.scroll_offset.y))
        last = min(len(self._entries), first + self.size.height)
        changed = 0
        for entry in self._entries[first:last]:
            ttl = ttl_cell(entry, now)[0]
            if self._ttl_text.get(entry.doc_id) != ttl:
                self._ttl_text[entry.doc_id] = ttl
                changed += 1
            age = age_text(entry.ts, now)
            if self._age_text.get(entry.doc_id) != age:
                self._age_text[entry.doc_id] = age
                changed += 1
        if changed:
            self.refresh()
        return changed

    def ttl_text(self, doc_id: str) -> str | None:
        """The TTL cell as last drawn (tests and the status bar read it)."""
        return self._ttl_text.get(doc_id)

    # -- drawing ------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        base = self.rich_style
        if y == 0:
            cells = [(label, width_, "") for label, width_ in self._columns()]
            style = base + self.get_component_rich_style("key-table--header")
            return self._strip(cells, style, scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self._entries):
            return Strip.blank(width, base)
        entry = self._entries[index]
        if index == self.cursor_row:
            row_style = self.get_component_rich_style(
                "key-table--cursor" if self.has_focus else "key-table--cursor-blurred")
        elif index % 2:
            row_style = self.get_component_rich_style("key-table--even")
        else:
            row_style = Style()
        key, kind = _key_text(entry)
        widths = [w for _, w in self._columns()]
        cells = [
            (key, widths[0], kind),
            (self._ttl_text.get(entry.doc_id, ""), widths[1], ttl_cell(entry, self.app.now())[1]),
            (short_etag(entry.etag), widths[2], ""),
            (self._age_text.get(entry.doc_id, ""), widths[3], ""),
            (entry.state_key.app_id or "—", widths[4], ""),
        ]
        return self._strip(cells, base + row_style, scroll_x, width, cursor=index == self.cursor_row)

    def _strip(self, cells, style: Style, scroll_x: int, width: int, cursor: bool = False) -> Strip:
        segments = []
        for text, cell_width, tone in cells:
            cell_style = style
            if tone and not cursor:
                cell_style = style + self.get_component_rich_style(f"key-table--{tone}")
            segments.append(Segment(" " + set_cell_size(text, cell_width) + " ", cell_style))
        strip = Strip(segments)
        return strip.crop_extend(scroll_x, scroll_x + width, style)

    # -- moving -------------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._entries) - 1)) if self._entries else 0

    def watch_cursor_row(self, row: int) -> None:
        visible = max(1, self.size.height - self.header_height)
        top = int(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)
        self.refresh()
        self._near_edges()

    def action_cursor(self, delta: int) -> None:
        if delta < 0 and self.cursor_row == 0 and self.more_before:
            self.post_message(self.NeedPreviousPage())
        self.cursor_row += delta

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * max(1, self.size.height - self.header_height - 1)

    def action_edge(self, end: int) -> None:
        self.cursor_row = len(self._entries) - 1 if end else 0

    def _near_edges(self) -> None:
        if not self._entries:
            return
        if self.more_after and self.cursor_row >= len(self._entries) - PREFETCH_ROWS:
            self.post_message(self.NeedNextPage())
        elif self.more_before and self.cursor_row <= 0:
            self.post_message(self.NeedPreviousPage())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.more_after and self._entries and new_value >= self.max_scroll_y - 2:
            self.post_message(self.NeedNextPage())

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on a row; a click on the row under the cursor opens it."""
        if event.y < self.header_height:
            return
        row = int(self.scroll_offset.y) + event.y - self.header_height
        if 0 <= row < len(self._entries):
            if row == self.cursor_row:
                self.action_open_key()
            else:
                self.cursor_row = row

    def action_open_key(self) -> None:
        if self.current is not None:
            self.post_message(self.KeyChosen(self.current))


def _key_text(entry: KeyEntry) -> tuple[str, str]:
    kind = entry.state_key.kind
    if kind is KeyKind.ACTOR:
        return "actor " + entry.state_key.key, "actor"
    if kind is KeyKind.WORKFLOW:
        return "workflow " + entry.state_key.key, "workflow"
    return entry.state_key.key, ""
