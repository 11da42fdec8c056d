"""A line-drawn table of plain text rows: the workflow instances list and an instance's timeline.

What it is for: lists that grow a page at a time as the user scrolls (thousands of rows). It holds
each row as a tuple of short strings, draws only the lines on screen (Textual's Line API), keeps a
header line, colours a cell by what its row says (the screen's `tone` function: a runtime status
in red or green), and posts `Highlighted` (the cursor moved), `Chosen` (enter, or a click on the
cursor's row) and `NeedMore` (the cursor or the view is near the last row). A screen that holds a
window of pages (the timeline) drops rows at either end (`drop_front`, `drop_back`) and puts an
earlier page back in front (`prepend`), the cursor and the view staying on the same rows; with
`more_before` set it posts `NeedEarlier` when the cursor or the view moves up near the first row
(Home: `first`, the very first rows wanted). Moving, keeping the cursor on its rows and asking for
rows are the paged table engine's (explorer.tui.widgets.paged_table); this module draws the rows.

What it must never do: I/O, or hold anything but the rows' text (the screens keep details
elsewhere, a page at a time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip

from explorer.core.display import fit_cells, terminal_safe
from explorer.tui.widgets.paged_table import CHOOSE, NAVIGATION, PagedTable, table_css

Row = tuple[str, ...]


class RowTable(PagedTable):
    """Columns of (title, min width, max width); each column fits its longest cell within those."""

    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor", "row-table--cursor-blurred", "row-table--even"}
    DEFAULT_CSS = table_css("RowTable", "row-table")
    BINDINGS = [CHOOSE, *NAVIGATION]

    class Highlighted(PagedTable.Highlighted):
        """The cursor moved to row `index`."""

    class Chosen(PagedTable.Chosen):
        """Enter (or a click) on row `index`."""

    class NeedMore(PagedTable.NeedMore):
        """The cursor or the view is near the last row held, and more rows exist."""

    class NeedEarlier(PagedTable.NeedEarlier):
        """Moving up near the first row held while rows exist before it; `first`: Home."""

    def __init__(self, columns: Sequence[tuple[str, int, int]], tone: Callable[[int, str, Row], str] | None = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._columns = list(columns)
        self._widths = [max(low, cell_len(title)) for title, low, _ in columns]
        self._tone = tone
        self._rows: list[Row] = []
        self._styles: dict[tuple[str, str], Style] = {}
        self._parity = 0  # rows dropped from the front so far (mod 2): each row keeps its stripe

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
        return self.cursor_index

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
