"""A line-drawn table of plain text rows: the workflow instances list and an instance's timeline.

What it is for: lists that grow a page at a time as the user scrolls (thousands of rows). It holds
each row as a tuple of short strings, draws only the lines on screen (Textual's Line API), keeps a
header line, colours a cell by what its row says (the screen's `tone` function: a runtime status
in red or green), and posts `Highlighted` (the cursor moved), `Chosen` (enter, or a click on the
cursor's row) and `NeedMore` (the cursor or the view is near the last row). A screen that holds a
window of pages (the timeline) drops rows at either end (`drop_front`, `drop_back`) and puts an
earlier page back in front (`prepend`), the cursor and the view staying on the same rows; with
`more_before` set it posts `NeedEarlier` when the cursor or the view moves up near the first row
(Home: `first`, the very first rows wanted).

What it must never do: I/O, or hold anything but the rows' text (the screens keep details
elsewhere, a page at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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

from explorer.core.display import fit_cells, terminal_safe

NEAR_END = 10  # ask for more rows when the cursor is this close to the last one

Row = tuple[str, ...]

#: Moving through a line-drawn table (this one and the key table): the actions each defines.
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


class RowTable(ScrollView, can_focus=True):
    """Columns of (title, min width, max width); each column fits its longest cell within those."""

    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor", "row-table--cursor-blurred", "row-table--even"}
    DEFAULT_CSS = table_css("RowTable", "row-table")
    BINDINGS = [Binding("enter", "choose", "Open", show=False), *NAVIGATION]

    cursor_row: reactive[int] = reactive(0, always_update=True)

    class TableMessage(Message):
        """From this table (`control`, for `on_row_table_…` handlers), about row `index` when it says one."""

        def __init__(self, table: RowTable, index: int = -1) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> RowTable:
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

        def __init__(self, table: RowTable, first: bool = False) -> None:
            super().__init__(table)
            self.first = first

    def __init__(self, columns: Sequence[tuple[str, int, int]], tone: Callable[[int, str, Row], str] | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._columns = list(columns)
        self._widths = [max(low, cell_len(title)) for title, low, _ in columns]
        self._tone = tone
        self._rows: list[Row] = []
        self._styles: dict[tuple[str, str], Style] = {}
        self.more = False  # rows exist past the last one held: NeedMore is posted near the end
        self.more_before = False  # rows exist before the first one held (dropped): NeedEarlier near the top
        self.near = NEAR_END  # how close to an end counts as near (a screen with small pages sets less)
        self._parity = 0  # rows dropped from the front so far (mod 2): each row keeps its stripe
        self._shifting = False  # moving the view to follow dropped/prepended rows: not the user scrolling

    # -- what the screen tells it -------------------------------------------------------

    @property
    def rows(self) -> list[Row]:
        return list(self._rows)

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def current(self) -> int | None:
        """The index of the row under the cursor (None: no rows)."""
        return self.cursor_row if 0 <= self.cursor_row < len(self._rows) else None

    def set_rows(self, rows: Sequence[Row], cursor: int = 0) -> None:
        self._rows = list(rows)
        self._parity = 0
        self._widths = [max(low, cell_len(title)) for title, low, _ in self._columns]
        self._measure(self._rows)
        self._resize()
        self.cursor_row = min(cursor, max(0, len(self._rows) - 1))
        if not self._rows:
            self.scroll_to(0, 0, animate=False, immediate=True)

    def append(self, rows: Sequence[Row]) -> None:
        first = not self._rows
        self._rows.extend(rows)
        self._measure(rows)
        self._resize()
        if first and rows:
            self.cursor_row = 0  # says which row is highlighted

    def drop_front(self, count: int) -> None:
        """Forget the first `count` rows (they left the window): the view and the cursor stay on
        their rows (a cursor on a dropped row goes to the first one left, and says so)."""
        count = min(count, len(self._rows))
        if count <= 0:
            return
        del self._rows[:count]
        self._parity = (self._parity + count) % 2
        self._shift(-count)

    def drop_back(self, count: int) -> None:
        """Forget the last `count` rows (an earlier page came back in front)."""
        count = min(count, len(self._rows))
        if count <= 0:
            return
        del self._rows[len(self._rows) - count:]
        self._shift(0)

    def prepend(self, rows: Sequence[Row]) -> None:
        """`rows` in front of the first row (an earlier page read again); the view and the cursor
        stay on the rows they were on."""
        if not rows:
            return
        self._rows[:0] = rows
        self._parity = (self._parity - len(rows)) % 2
        self._measure(rows)
        self._shift(len(rows))

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
        row = self.cursor_row + delta
        if row < 0 and self._rows:
            self.cursor_row = 0  # its row was dropped: the first one held, highlighted
        elif row >= len(self._rows) and self._rows:
            self.cursor_row = len(self._rows) - 1  # the same at the other end
        else:
            self.set_reactive(RowTable.cursor_row, max(0, min(row, len(self._rows) - 1)))
        self.refresh()

    def _measure(self, rows: Sequence[Row]) -> None:
        widths = self._widths
        for row in rows:
            for n, cell in enumerate(row[:len(widths)]):
                cell = terminal_safe(cell)
                if len(cell) > widths[n]:
                    widths[n] = min(self._columns[n][2], max(widths[n], cell_len(cell)))

    def _resize(self) -> None:
        self.virtual_size = Size(sum(w + 2 for w in self._widths), len(self._rows) + 1)
        self.refresh()

    # -- drawing ------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()

    def _style(self, name: str, tone: str = "") -> Style:
        """A row's style, with a cell's tone (a Rich style such as "bold red") on top; made once."""
        style = self._styles.get((name, tone))
        if style is None:
            style = self.rich_style + (self.get_component_rich_style(name) if name else Style())
            if tone:
                style += Style.parse(tone)
            self._styles[name, tone] = style
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            style = self._style("row-table--header")
            cells = [(title, style) for title, _, _ in self._columns]
            pad = style
        else:
            index = scroll_y + y - 1
            if index >= len(self._rows):
                return Strip.blank(width, self._style(""))
            if index == self.cursor_row:
                name = "row-table--cursor" if self.has_focus else "row-table--cursor-blurred"
            else:
                name = "row-table--even" if (index + self._parity) % 2 else ""
            pad = self._style(name)
            row = self._rows[index]
            cells = []
            for n, text in enumerate(row[:len(self._columns)]):
                tone = self._tone(n, text, row) if self._tone is not None and name != "row-table--cursor" else ""
                cells.append((text, self._style(name, tone)))
        segments = []
        for (text, style), cell_width in zip(cells, self._widths):
            text = fit_cells(terminal_safe(text), cell_width)  # store text: no control reaches the terminal
            segments.append(Segment(" " + set_cell_size(text, cell_width) + " ", style))
        total = sum(w + 2 for w in self._widths)
        if total < scroll_x + width:
            segments.append(Segment(" " * (scroll_x + width - total), pad))
        return Strip(segments).crop(scroll_x, scroll_x + width)

    # -- moving -------------------------------------------------------------------------

    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, len(self._rows) - 1)) if self._rows else 0

    def watch_cursor_row(self, old: int, row: int) -> None:
        visible = max(1, self.size.height - 1)
        top = int(self.scroll_offset.y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)
        self.refresh()
        if self._rows:
            self.post_message(self.Highlighted(self, row))
            if self.more and row >= len(self._rows) - self.near:
                self.post_message(self.NeedMore(self))
            if self.more_before and row < self.near and row <= old:
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
        self.cursor_row += direction * max(1, self.size.height - 2)

    def action_edge(self, end: int) -> None:
        if not end and self.more_before:
            self.post_message(self.NeedEarlier(self, first=True))
        self.cursor_row = len(self._rows) - 1 if end else 0

    def action_choose(self) -> None:
        if self.current is not None:
            self.post_message(self.Chosen(self, self.current))

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        """A click puts the cursor on a row; a click on the cursor's row opens it."""
        if event.y < 1:
            return
        row = int(self.scroll_offset.y) + event.y - 1
        if 0 <= row < len(self._rows):
            if row == self.cursor_row:
                self.action_choose()
            else:
                self.cursor_row = row
