"""The key table: one partition's keys — Dapr key, live TTL, etag, last modified, owning app.

A line-drawn table (Textual's Line API): it draws only the rows on screen,
straight from the entries it holds, so the one-second countdown of a thousand
visible rows costs a repaint, not a rebuild. Renders the rows of the screen's
`KeyWindow`; posts `KeyChosen` (open a key) and `NeedNextPage` /
`NeedPreviousPage` as the cursor or scroll nears an edge of the rows held (moving and paging are
the paged table engine's, explorer.tui.widgets.paged_table, under these names).
Actor and workflow keys show what tells them apart, not their common prefix:
`CartActor cart-42 · items` from the id alone, `history-000003 · TaskScheduled
reserve_inventory` once the screen hands over labels read from the values
(`set_labels`); `raw` shows the Dapr keys as stored. `space` marks the key under the cursor
and `ctrl+a` every key held (again: none) for a bulk action; the marks — each key as it was listed,
with its etag — survive paging and are forgotten by `reset` (a new partition); `MarksChanged`
tells the screen how many. Never does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.filter import ANSIToTruecolor, DimFilter, Monochrome, NoColor
from textual.geometry import Region, Size
from textual.message import Message
from textual.strip import Strip

from explorer.core.display import age_text, cut_cells, short_etag, terminal_safe
from explorer.core.envelope import KeyKind, StateKey
from explorer.core.expiry import Expiry, ExpiryKind, countdown_text
from explorer.tui.widgets.line_strip import LineStrip
from explorer.tui.widgets.paged_table import CHOOSE, NAVIGATION, PagedTable, table_css

PREFETCH_ROWS = 20  # ask for the next page when the cursor is this close to the last row held
KEY_WIDTH = (8, 48)  # the key column fits the longest key held, within these bounds
MARK = "●"  # a marked key's dot, drawn in the key cell's left padding (no column of its own)
FIXED = (("TTL", 23), ("Etag", 14), ("Modified", 8))
TTL_WIDTH, AGE_WIDTH = FIXED[0][1], FIXED[2][1]
STYLE_FILTERS = (ANSIToTruecolor, Monochrome, NoColor, DimFilter)  # Textual's own: each maps one segment's style


@dataclass(frozen=True)
class KeyEntry:
    """One row: the item's id, partition, etag, _ts, and what the id and ttl mean."""

    doc_id: str
    partition: str
    etag: str
    ts: int
    state_key: StateKey
    expiry: Expiry
    ttl: int | None = None  # the item's own ttl field, as listed (a bulk remove-TTL needs it)


def ttl_cell(entry: KeyEntry, now: float) -> tuple[str, str]:
    """The countdown text and its tone: "dim" (never), "expired", "soon" (< 1 min) or ""."""
    text = countdown_text(entry.expiry, now)
    if entry.expiry.kind is ExpiryKind.NEVER:
        return text, "dim"
    if text.startswith("expired"):
        return text, "expired"
    return text, "soon" if (entry.expiry.at or 0) - now < 60 else ""


class KeyTable(PagedTable):
    COMPONENT_CLASSES = {
        "key-table--header", "key-table--cursor", "key-table--cursor-blurred", "key-table--even",
        "key-table--dim", "key-table--soon", "key-table--expired", "key-table--actor", "key-table--workflow",
    }
    DEFAULT_CSS = table_css("KeyTable", "key-table", """
        & > .key-table--dim { color: $text-muted; }
        & > .key-table--soon { color: $warning; }
        & > .key-table--expired { color: $error; text-style: bold; }
        & > .key-table--actor { color: $text-accent; }
        & > .key-table--workflow { color: $text-primary; }""")
    BINDINGS = [  # the engine's, with marking after enter (the help lists them in this order)
        CHOOSE,
        Binding("space", "toggle_mark", "Mark", show=False, tooltip="Mark or unmark the key under the cursor (for a bulk action)"),
        Binding("ctrl+a", "mark_all", "Mark all", show=False,
                tooltip="Mark every key of the partition loaded so far (again: unmark them all)"),
        *NAVIGATION,
    ]
    show_header = True

    class KeyHighlighted(PagedTable.Highlighted):
        """The cursor moved to row `index`."""

    class KeyChosen(PagedTable.Chosen):
        """Enter (or a click) on a key: `entry`."""

        def __init__(self, table: KeyTable, index: int) -> None:
            super().__init__(table, index)
            self.entry = table._entries[index]

    class NeedNextPage(PagedTable.NeedMore):
        """The cursor or the view is near the last key held, and more keys exist."""

    class NeedPreviousPage(PagedTable.NeedEarlier):
        """The cursor is on the first key held, and keys exist before it."""

    Highlighted, Chosen, NeedMore, NeedEarlier = KeyHighlighted, KeyChosen, NeedNextPage, NeedPreviousPage

    class MarksChanged(Message):
        def __init__(self, count: int) -> None:
            super().__init__()
            self.count = count

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._entries: list[KeyEntry] = []
        self._ttl_text: dict[str, str] = {}
        self._ttl_tone: dict[str, str] = {}
        self._age_text: dict[str, str] = {}
        self._fixed: dict[str, tuple[str, str, str]] = {}  # doc_id -> padded key, its tone, padded etag
        self._drawn: dict[str, dict[tuple[str, bool], tuple[str, Segment, Segment]]] = {}  # doc_id -> row style -> age, cells
        self._app_cells: dict[str, str] = {}  # app-id -> its cell padded to the end of the line
        self._styles: dict[tuple[str, str, bool], Style] = {}
        # What the cached cells and styles were made for: column widths, view width, line filters and
        # background. Any change empties the caches it touches (render_lines).
        self._made_for: tuple = ()
        self._style_filters: tuple = ()  # the app's line filters, when they can be folded into the styles
        self._frame = (0, 0, 0, 0, False, 0, 0)
        self._row_length = 0
        self._key_width = KEY_WIDTH[0]
        self._app_width = 3
        self.near, self.near_before = PREFETCH_ROWS, 1  # the next page near the end; the one before at the top
        self._labels: dict[str, str] = {}  # doc_id -> what its value says (workflow state), from the screen
        self.raw = False  # the Dapr keys as stored, instead of the labels
        self.marked: dict[str, KeyEntry] = {}  # doc_id -> the key as last listed, for a bulk action
        self.markable = True  # the screen sets False where nothing may be written (read-only)

    @property
    def entries(self) -> list[KeyEntry]:
        return list(self._entries)

    @property
    def row_count(self) -> int:
        return len(self._entries)

    @property
    def current(self) -> KeyEntry | None:
        index = self.cursor_index
        return self._entries[index] if index is not None else None

    # -- what the screen tells it -------------------------------------------------------

    def reset(self, keep_marks: bool = False) -> None:
        """Empty the table; the marks too unless `keep_marks` (the same partition, reloaded)."""
        if self.marked and not keep_marks:
            self.marked = {}
            self.post_message(self.MarksChanged(0))
        self._labels = {}
        self._entries, self._ttl_text, self._age_text = [], {}, {}
        self._ttl_tone, self._fixed, self._drawn = {}, {}, {}
        self._key_width, self._app_width = KEY_WIDTH[0], 3
        self.more = self.more_before = False
        self.cursor_row = 0
        self.scroll_to(0, 0, animate=False, immediate=True)
        self._resize()

    def append(self, entries: Sequence[KeyEntry], now: float) -> None:
        for entry in entries:
            self._measure(entry, now)
            if entry.doc_id in self.marked:  # listed again: the mark holds its etag now
                self.marked[entry.doc_id] = entry
        self._entries.extend(entries)
        self._resize()

    def drop_front(self, count: int) -> None:
        """Forget the first `count` rows (they left the window); the view and cursor stay on their keys."""
        if count <= 0:
            return
        for entry in self._entries[:count]:
            for cache in (self._ttl_text, self._ttl_tone, self._age_text, self._fixed, self._drawn, self._labels):
                cache.pop(entry.doc_id, None)
        del self._entries[:count]
        self._shift(-count)

    def replace(self, entries: Sequence[KeyEntry], now: float, cursor: int) -> None:
        """Redraw with `entries` (scrolling back up re-fetched an earlier page)."""
        more, more_before = self.more, self.more_before
        if self._labels:  # workflow state: keep the labels of the rows still held
            held = {entry.doc_id for entry in entries}
            self._labels = {doc_id: label for doc_id, label in self._labels.items() if doc_id in held}
        self._entries, self._ttl_text, self._age_text = [], {}, {}
        self._ttl_tone, self._fixed, self._drawn = {}, {}, {}
        self.append(entries, now)
        self.more, self.more_before = more, more_before
        if entries:
            self.move_cursor(row=cursor)

    def set_labels(self, labels: dict[str, str]) -> None:
        """What the values of these rows say (doc_id -> label): drawn in the key column."""
        held = {entry.doc_id for entry in self._entries}
        labels = {doc_id: label for doc_id, label in labels.items() if doc_id in held}
        if not labels:
            return
        self._labels.update(labels)
        for doc_id in labels:
            self._fixed.pop(doc_id, None)
            self._drawn.pop(doc_id, None)
        self._remeasure()

    def label(self, entry: KeyEntry) -> str:
        """The key column's text for `entry` (tests read it)."""
        return self._key_text(entry)[0]

    def toggle_raw(self) -> None:
        self.raw = not self.raw
        self._fixed, self._drawn = {}, {}
        self._remeasure()

    def _remeasure(self) -> None:
        width = KEY_WIDTH[0]
        for entry in self._entries:
            width = max(width, cell_len(self._key_text(entry)[0]))
        self._key_width = min(KEY_WIDTH[1], width)
        self._resize()

    def _measure(self, entry: KeyEntry, now: float) -> None:
        self._ttl_text[entry.doc_id], self._ttl_tone[entry.doc_id] = ttl_cell(entry, now)
        self._age_text[entry.doc_id] = age_text(entry.ts, now)
        self._key_width = min(KEY_WIDTH[1], max(self._key_width, cell_len(self._key_text(entry)[0])))
        self._app_width = max(self._app_width, cell_len(terminal_safe(entry.state_key.app_id or "—")))

    def _columns(self) -> list[tuple[str, int]]:
        return [("Key", self._key_width), *FIXED, ("App", self._app_width)]

    def _resize(self) -> None:
        self._row_length = width = sum(w + 2 for _, w in self._columns())
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
            ttl, tone = ttl_cell(entry, now)
            if self._ttl_text.get(entry.doc_id) != ttl:
                self._ttl_text[entry.doc_id] = ttl
                self._ttl_tone[entry.doc_id] = tone
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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()  # theme or CSS changed: look the component styles up again
        self._drawn.clear()

    def _style(self, name: str, tone: str = "") -> Style:
        """A row's style (with a cell's tone on top) after the app's line filters, looked up once per theme.

        The filters Textual ships (ANSI to truecolor, no-colour, monochrome, dim) each map a segment's
        style on its own, so applying them to the style once gives the line the filters would give
        it, without a filtered copy of every line on every repaint.
        """
        key = (name, tone, self._frame[4])
        style = self._styles.get(key)
        if style is None:
            style = self.rich_style + (self.get_component_rich_style(name) if name else Style())
            if tone:
                style += self.get_component_rich_style(f"key-table--{tone}")
            if self._style_filters:
                segments = [Segment(" ", style)]
                for line_filter in self._style_filters:
                    segments = line_filter.apply(segments, self._made_for[-1])
                style = segments[0].style or Style()
            self._styles[key] = style
        return style

    def _fixed_cells(self, entry: KeyEntry) -> tuple[str, str, str]:
        """The cells that never tick (key, its tone, etag), padded once per column width."""
        cells = self._fixed.get(entry.doc_id)
        if cells is None:
            key, tone = self._key_text(entry)
            mark = MARK if entry.doc_id in self.marked else " "
            cells = (mark + set_cell_size(key, self._key_width) + " ", tone,
                     " " + set_cell_size(short_etag(entry.etag), FIXED[1][1]) + " ")
            self._fixed[entry.doc_id] = cells
        return cells

    def _app_cell(self, entry: KeyEntry) -> str:
        """The app cell, padded to the end of the line when the line is narrower than the table."""
        app = terminal_safe(entry.state_key.app_id or "—")
        cell = self._app_cells.get(app)
        if cell is None:
            width = self._app_width + max(0, self._frame[6] - self._row_length)
            cell = self._app_cells[app] = " " + set_cell_size(app, width) + " "
        return cell

    def render_lines(self, crop: Region) -> list[Strip]:
        """Every line in `crop`, drawn straight from the entries.

        Textual's generic path (the styles cache) handles borders, padding and opacity this widget
        does not have, and copies every line for the line filters. This draws the lines itself and
        applies only what that path would still do here: the app's line filters (folded into the
        cached styles when they are Textual's own), and the crop. See docs/tui.md for the figures.
        """
        # `view`: the columns not under the vertical scrollbar (Textual draws it over the widget's
        # last columns and cuts every line there; a cut inside a segment is a costly split).
        view = self.scrollable_content_region.width
        self._frame = (*self.scroll_offset, self.size.width, self.cursor_row, self.has_focus, self._row_length, view)
        filters = tuple(self.get_line_filters())
        background = self.background_colors[1]
        made_for = (self._key_width, self._app_width, view, filters, background)
        if made_for != self._made_for:
            if made_for[-2:] != self._made_for[-2:]:
                folded = all(isinstance(f, STYLE_FILTERS) for f in filters)
                self._style_filters = filters if folded else ()
                self._styles.clear()
            self._made_for = made_for
            self._fixed, self._app_cells, self._drawn = {}, {}, {}
        line_filters = () if self._style_filters else filters
        render_line = self.render_line
        strips = []
        for y in crop.line_range:
            strip = render_line(y)
            for line_filter in line_filters:
                strip = strip.apply_filter(line_filter, background)
            strips.append(strip)
        if crop.column_span != (0, self.size.width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y, width, cursor_row, focus, length, view = self._frame
        if y == 0:
            style = self._style("key-table--header")
            return self._line([(" " + set_cell_size(label, w) + " ", w + 2, style) for label, w in self._columns()],
                              style)
        index = scroll_y + y - 1
        if index >= len(self._entries):
            return Strip.blank(width, self._style(""))
        entry = self._entries[index]
        doc_id = entry.doc_id
        cursor = index == cursor_row
        if cursor:
            name = "key-table--cursor" if focus else "key-table--cursor-blurred"
        else:
            name = "key-table--even" if index % 2 else ""
        # The key and the etag/modified/app cells are kept as segments between repaints (modified
        # changes once a minute): a tick makes one new segment a line, the countdown's.
        age = self._age_text.get(doc_id, "")
        drawn = self._drawn.setdefault(doc_id, {})
        cells = drawn.get((name, focus))
        if cells is None or cells[0] != age:
            row = self._style(name)
            key, key_tone, etag = self._fixed_cells(entry)
            cells = drawn[name, focus] = (
                age,
                Segment(key, row if cursor else self._style(name, key_tone)),
                Segment(etag + " " + age.ljust(AGE_WIDTH)[:AGE_WIDTH] + " " + self._app_cell(entry), row),
            )
        ttl = Segment(" " + self._ttl_text.get(doc_id, "").ljust(TTL_WIDTH)[:TTL_WIDTH] + " ",
                      self._style(name, "" if cursor else self._ttl_tone.get(doc_id, "")))
        if scroll_x == 0 and length <= view:
            if view == width:
                return LineStrip([cells[1], ttl, cells[2]], width)
            return LineStrip([cells[1], ttl, cells[2], Segment(" " * (width - view), cells[2].style)], width)
        key_cells, ttl_cells = self._key_width + 2, TTL_WIDTH + 2
        return self._line([(cells[1].text, key_cells, cells[1].style), (ttl.text, ttl_cells, ttl.style),
                           (cells[2].text, max(length, view) - key_cells - ttl_cells, cells[2].style)],
                          cells[2].style)

    def _line(self, cells: list[tuple[str, int, Style]], pad: Style) -> Strip:
        """The part of a row of cells (text, its width, style) the view shows, padded under the scrollbar.

        Cut here rather than by Strip.crop: Rich's splitter caches each segment it cuts, and rows
        of unique keys scrolled through a narrow table kept ~15 MB of long-gone rows in that cache.
        """
        scroll_x, width, view = self._frame[0], self._frame[2], self._frame[6]
        start, end = scroll_x, scroll_x + view
        segments = []
        position = 0
        for text, cell_count, style in cells:
            after = position + cell_count
            if after > start and position < end:
                if position >= start and after <= end:
                    segments.append(Segment(text, style))
                else:
                    segments.append(Segment(cut_cells(text, max(start, position) - position,
                                                      min(end, after) - position), style))
            position = after
        if position < end:
            segments.append(Segment(" " * (end - max(position, start)), pad))
        if width > view:
            segments.append(Segment(" " * (width - view), pad))
        return LineStrip(segments, width)

    # -- marking ------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"toggle_mark", "mark_all"}:
            return self.markable  # False: not offered at all (no binding, nothing in the palette)
        return True

    def _marks_changed(self, doc_ids) -> None:
        for doc_id in doc_ids:
            self._fixed.pop(doc_id, None)
            self._drawn.pop(doc_id, None)
        self.refresh()
        self.post_message(self.MarksChanged(len(self.marked)))

    def action_toggle_mark(self) -> None:
        """Mark or unmark the key under the cursor, then move down (space, space, space marks a run)."""
        entry = self.current
        if entry is None or not self.markable:
            return
        if self.marked.pop(entry.doc_id, None) is None:
            self.marked[entry.doc_id] = entry
        self._marks_changed([entry.doc_id])
        self.cursor_row += 1

    def action_mark_all(self) -> None:
        """Mark every key held; when all of them are marked already, unmark every key."""
        if not self._entries or not self.markable:
            return
        if all(entry.doc_id in self.marked for entry in self._entries):
            changed, self.marked = list(self.marked), {}
        else:
            changed = [entry.doc_id for entry in self._entries if entry.doc_id not in self.marked]
            self.marked.update((entry.doc_id, entry) for entry in self._entries)
        self._marks_changed(changed)

    def _key_text(self, entry: KeyEntry) -> tuple[str, str]:
        """The key column's text and tone: actor and workflow keys by what tells them apart; store text
        terminal-safe (a newline in a key is ⏎, never a second line across the panes)."""
        text, tone = self._key_words(entry)
        return terminal_safe(text), tone

    def _key_words(self, entry: KeyEntry) -> tuple[str, str]:
        key = entry.state_key
        kind = key.kind
        if kind is KeyKind.PLAIN:
            return key.key, ""
        if self.raw:
            return key.key, kind.value
        if kind is KeyKind.ACTOR:
            return f"{key.actor_type} {key.actor_id} · {key.actor_key}", "actor"
        return self._labels.get(entry.doc_id) or key.actor_key or key.key, "workflow"
