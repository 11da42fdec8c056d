"""The one paged table engine the line-drawn tables share (the key table, the row table).

What it is for: a cursor over rows held a window at a time — moving it (arrows, pages, Home/End,
a click; a click on the cursor's row chooses it), keeping it on screen, keeping the view and the
cursor on their rows when rows are dropped or put back at either end, and asking for more rows
near either end. It posts `Highlighted` (the cursor moved), `Chosen` (enter, or a click on the
cursor's row), `NeedMore` (near the last row held, with `more` set) and `NeedEarlier` (near the
first row held, with `more_before` set; Home: `first`). Each table names these messages its own
way (subclasses in its namespace) and draws its rows itself.

What it must never do: I/O, draw a row, or hold anything but what its subclass gives it.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView

NEAR_END = 10  # ask for more rows when the cursor is this close to the last one

#: Enter on a row: `Chosen`.
CHOOSE = Binding("enter", "choose", "Open", show=False)
#: Moving through a line-drawn table: the actions the engine defines.
NAVIGATION = [
    Binding("up", "cursor(-1)", "Up", show=False),
    Binding("down", "cursor(1)", "Down", show=False),
    Binding("pageup", "page(-1)", "Page up", show=False),
    Binding("pagedown", "page(1)", "Page down", show=False),
    Binding("home,ctrl+home", "edge(0)", "First", show=False),
    Binding("end,ctrl+end", "edge(1)", "Last", show=False),
    Binding("left", "scroll_left", "Left", show=False),
    Binding("right", "scroll_right", "Right", show=False),
]


def table_css(widget: str, prefix: str, extra: str = "") -> str:
    """The CSS of a line-drawn table: its header, zebra rows and cursor (component classes
    `<prefix>--header` and so on), in theme colours; `extra` adds rules inside it."""
    return f"""
    {widget} {{
        background: $surface;
        color: $foreground;
        & > .{prefix}--header {{ text-style: bold; background: $panel; color: $foreground; }}
        & > .{prefix}--even {{ background: $surface-lighten-1 50%; }}
        &:dark > .{prefix}--even {{ background: $surface-darken-1 40%; }}
        & > .{prefix}--cursor {{
            background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
        }}
        & > .{prefix}--cursor-blurred {{
            background: $block-cursor-blurred-background; color: $block-cursor-blurred-foreground;
        }}{extra}
    }}
    """


class PagedTable(ScrollView, can_focus=True):
    """A cursor over `row_count` rows under a one-line header; the subclass holds and draws them
    (and calls `_resize` when their number or width changes), and binds CHOOSE and NAVIGATION with
    its own keys in the order its help lists them."""

    cursor_row: reactive[int] = reactive(0, always_update=True)
    header_height = 1

    class TableMessage(Message):
        """From this table (`control`, for `on_…` handlers), about row `index` when it says one."""

        def __init__(self, table: PagedTable, index: int = -1) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> PagedTable:
            return self.table

    class Highlighted(TableMessage):
        """The cursor moved to row `index`."""

    class Chosen(TableMessage):
        """Enter (or a click) on row `index`."""

    class NeedMore(TableMessage):
        """The cursor or the view is near the last row held, and more rows exist."""

    class NeedEarlier(TableMessage):
        """Moving up near the first row held while rows exist before it (`more_before`); `first`:
        Home, the very first rows are wanted (not only the page before)."""

        def __init__(self, table: PagedTable, first: bool = False) -> None:
            super().__init__(table)
            self.first = first

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.more = False  # rows exist past the last one held: NeedMore is posted near the end
        self.more_before = False  # rows exist before the first one held (dropped): NeedEarlier near the top
        self.near = NEAR_END  # how close to the last row counts as near (a screen with small pages sets less)
        self.near_before: int | None = None  # how close to the first row counts as near (None: `near`)
        self._shifting = False  # moving the view to follow dropped/prepended rows: not the user scrolling

    @property
    def row_count(self) -> int:
        raise NotImplementedError

    @property
    def cursor_index(self) -> int | None:
        """The index of the row under the cursor (None: no rows)."""
        return self.cursor_row if 0 <= self.cursor_row < self.row_count else None

    def move_cursor(self, row: int) -> None:
        self.cursor_row = row

    def _resize(self) -> None:
        raise NotImplementedError

    def _shift(self, delta: int) -> None:
        """The rows moved by `delta` (dropped in front: negative, prepended: positive, dropped at the
        back: 0): keep the view and the cursor on the same rows, quietly (no Highlighted, no
        NeedMore or NeedEarlier: the cursor's row has not changed and the user did not scroll)."""
        self._resize()
        self._shifting = True
        try:
            self.scroll_to(y=max(0, self.scroll_offset.y + delta), animate=False, immediate=True)
        finally:
            self._shifting = False
        row, count = self.cursor_row + delta, self.row_count
        if row < 0 and count:
            self.cursor_row = 0  # its row was dropped: the first one held, highlighted
        elif row >= count and count:
            self.cursor_row = count - 1  # the same at the other end
        else:
            self.set_reactive(PagedTable.cursor_row, max(0, min(row, count - 1)))
        self.refresh()

    # -- moving -------------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, self.row_count - 1)) if self.row_count else 0

    def watch_cursor_row(self, old: int, row: int) -> None:
        visible = max(1, self.size.height - self.header_height)
        top = int(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)
        self.refresh()
        count = self.row_count
        if count:
            self.post_message(self.Highlighted(self, row))
            if self.more and row >= count - self.near:
                self.post_message(self.NeedMore(self))
            near_before = self.near if self.near_before is None else self.near_before
            if self.more_before and row < near_before and row <= old:
                self.post_message(self.NeedEarlier(self))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._shifting:
            return
        if self.more and new_value >= self.max_scroll_y - 2 and new_value > old_value:  # scrolling down
            self.post_message(self.NeedMore(self))
        if self.more_before and new_value <= 2 and new_value < old_value:
            self.post_message(self.NeedEarlier(self))

    def action_cursor(self, delta: int) -> None:
        self.cursor_row += delta

    def action_page(self, direction: int) -> None:
        self.cursor_row += direction * max(1, self.size.height - self.header_height - 1)

    def action_edge(self, end: int) -> None:
        if not end and self.more_before:
            self.post_message(self.NeedEarlier(self, first=True))
        self.cursor_row = self.row_count - 1 if end else 0

    def action_choose(self) -> None:
        index = self.cursor_index
        if index is not None:
            self.post_message(self.Chosen(self, index))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on a row; a click on the cursor's row chooses it."""
        if event.y < self.header_height:
            return
        row = int(self.scroll_offset.y) + event.y - self.header_height
        if 0 <= row < self.row_count:
            if row == self.cursor_row:
                self.action_choose()
            else:
                self.cursor_row = row
