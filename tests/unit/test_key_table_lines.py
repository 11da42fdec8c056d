"""The key table's own line drawing: what a user reads in a row, under every line filter.

The key table draws its lines itself (it folds the app's line filters into its styles and makes
light `LineStrip`s), so these check that the result is what Textual's own path would have drawn.
Uses hand-made (FAKE) key entries in a bare app with no I/O; browsing real keys is tested on the
real stack in tests/integration/test_tui.py.
"""

from __future__ import annotations

import pytest
from rich.segment import Segment
from rich.style import Style
from textual.app import App, ComposeResult
from textual.filter import LineFilter, Monochrome
from textual.strip import Strip

from explorer.core.envelope import KeyPrefix, parse_document_id
from explorer.core.expiry import effective_expiry
from explorer.tui.widgets.key_table import KeyEntry, KeyTable
from explorer.tui.widgets.line_strip import LineStrip

NOW = 1_780_000_000.0


def entry(i: int, ttl: int | None = 1200) -> KeyEntry:
    doc_id = f"chat-api||session-{i:04d}"
    return KeyEntry(doc_id, "tenant-a", f'"0000{i:04d}-0000-0000-0000-000000000000"', int(NOW) - 120,
                    parse_document_id(doc_id, KeyPrefix.from_metadata(None), "statestore"),
                    effective_expiry(ttl, -1, int(NOW) - 120))


class TableApp(App):
    def __init__(self, entries: list[KeyEntry], extra_filter: LineFilter | None = None) -> None:
        super().__init__()
        self.entries = entries
        if extra_filter is not None:
            self._filters.append(extra_filter)

    def compose(self) -> ComposeResult:
        yield KeyTable()

    def on_mount(self) -> None:
        self.query_one(KeyTable).append(self.entries, NOW)


def line_text(table: KeyTable, y: int) -> str:
    return table.render_lines(table.region.reset_offset)[y].text


def drawn(table: KeyTable) -> list[list[tuple[str, object]]]:
    return [[(s.text, s.style) for s in strip] for strip in table.render_lines(table.region.reset_offset)]


async def test_a_row_shows_key_countdown_etag_and_app_and_the_countdown_ticks():
    app = TableApp([entry(1), entry(2, ttl=None)])
    async with app.run_test(size=(100, 10)):
        table = app.query_one(KeyTable)
        first = line_text(table, 1)
        assert "session-0001" in first and "expires in 18m 00s" in first and "chat-api" in first
        assert "never" in line_text(table, 2)
        assert len(first) == table.size.width
        table.tick(NOW + 1)
        assert "expires in 17m 59s" in line_text(table, 1)
        table.tick(NOW + 1200)
        assert "expired" in line_text(table, 1)


async def test_a_narrow_table_scrolled_right_still_draws_whole_lines():
    app = TableApp([entry(i) for i in range(5)])
    async with app.run_test(size=(40, 10)):
        table = app.query_one(KeyTable)
        table.scroll_to(x=30, animate=False, immediate=True)
        lines = table.render_lines(table.region.reset_offset)
        assert {strip.cell_length for strip in lines} == {40}
        assert "session-0001" not in lines[2].text  # the key column has scrolled out of view


class OpaqueMonochrome(LineFilter):
    """Monochrome, but not a class the key table knows: forces Textual's per-line filtering."""

    def apply(self, segments: list[Segment], background):
        return Monochrome().apply(segments, background)


@pytest.mark.parametrize("cursor_row", [0, 3])
async def test_filters_folded_into_styles_draw_what_per_line_filtering_draws(cursor_row):
    entries = [entry(i, ttl=None if i % 3 == 0 else 30 + 600 * i) for i in range(8)]
    results = []
    for line_filter in (Monochrome(), OpaqueMonochrome()):
        app = TableApp(entries, line_filter)
        async with app.run_test(size=(90, 12)):
            table = app.query_one(KeyTable)
            table.cursor_row = cursor_row
            table.focus()
            results.append(drawn(table))
    folded, per_line = results
    assert folded == per_line
    colours = {style.color.triplet for line in folded for _, style in line if style and style.color}
    assert colours and all(r == g == b for r, g, b in colours)  # NO_COLOR's monochrome applied


def test_a_line_strip_is_a_strip_for_every_use_textual_makes_of_one():
    segments = [Segment("key ", Style(bold=True)), Segment("expires in 2m 13s", Style(color="red")), Segment(" etag", Style())]
    light, plain = LineStrip(list(segments), 26), Strip(segments, 26)
    assert light == plain and light.text == plain.text
    assert light.crop(3, 10) == plain.crop(3, 10)
    assert light.divide([4, 26]) == plain.divide([4, 26])
    assert light.divide([26]) == [light]
    assert light.crop_extend(2, 30, None) == plain.crop_extend(2, 30, None)
    assert light.apply_filter(Monochrome(), None) == plain.apply_filter(Monochrome(), None)
    assert light.extend_cell_length(30) == plain.extend_cell_length(30)
    # Every slot Textual's Strip has is either set by LineStrip or made on first use: a Textual
    # upgrade that adds one fails here, not on a user's screen.
    for slot in Strip.__slots__:
        getattr(LineStrip([], 0), slot)


def test_a_thousand_lines_leave_no_caches_behind_for_the_garbage_collector():
    import gc

    segments = [Segment("x" * 10, None)]
    before = len(gc.get_objects())
    lines = [LineStrip([*segments], 10) for _ in range(1000)]
    for line in lines:
        line.divide([10])
    tracked = len(gc.get_objects()) - before
    assert tracked < 2100, tracked  # the strip and its segment list; a Strip brings seven caches more


@pytest.mark.parametrize("height", [320, 40])  # all rows on screen; a vertical scrollbar over the last columns
async def test_drawing_unique_rows_leaves_nothing_in_rich_s_segment_cache(height):
    """The etag cell's '…' made every row cut by a crop, or by the scrollbar's edge, a non-ASCII
    split, which Rich caches (16,384 of them): scrolling a 100,000-key partition kept ~15 MB of
    rows long gone."""
    app = TableApp([entry(i) for i in range(300)])
    before = Segment._split_cells.cache_info().currsize
    async with app.run_test(size=(60, height)) as pilot:
        table = app.query_one(KeyTable)
        table.focus()
        for scroll_x in (0, 17, 31):
            table.scroll_to(x=scroll_x, animate=False, immediate=True)
            lines = table.render_lines(table.region.reset_offset)
            assert {strip.cell_length for strip in lines} == {60}
            await pilot.press("pagedown")
            await pilot.pause()
        assert Segment._split_cells.cache_info().currsize - before < 10


async def test_marks_show_a_dot_survive_paging_follow_a_new_etag_and_go_with_reset():
    """Marking (space, ctrl+a) on hand-made (FAKE) entries: what a bulk action will take."""
    import dataclasses

    app = TableApp([entry(i) for i in range(5)])
    async with app.run_test(size=(100, 10)) as pilot:
        table = app.query_one(KeyTable)
        changes: list[int] = []
        table.post_message = lambda message: changes.append(message.count) if isinstance(  # type: ignore[method-assign]
            message, KeyTable.MarksChanged) else KeyTable.post_message(table, message)
        table.focus()
        await pilot.press("space", "down", "space")  # rows 0 and 2: space moves down after marking
        assert sorted(table.marked) == [entry(0).doc_id, entry(2).doc_id] and changes == [1, 2]
        assert line_text(table, 1).startswith("●session-0000") and line_text(table, 2).startswith(" session-0001")
        assert len(line_text(table, 1)) == len(line_text(table, 2))  # the dot takes no column of its own
        table.drop_front(3)  # paging on: marked rows left the window, the marks stay
        assert sorted(table.marked) == [entry(0).doc_id, entry(2).doc_id]
        newer = dataclasses.replace(entry(2), etag='"newer"')
        table.append([newer], NOW)  # listed again with another etag: the mark follows it
        assert table.marked[newer.doc_id].etag == '"newer"'
        await pilot.press("ctrl+a")  # every key held marked too
        assert len(table.marked) == 4
        await pilot.press("ctrl+a")  # all held were marked: unmark every key
        assert table.marked == {} and changes[-1] == 0
        await pilot.press("space")
        table.reset(keep_marks=True)
        assert len(table.marked) == 1
        table.reset()
        assert table.marked == {} and changes[-1] == 0
        table.markable = False  # a read-only session: not offered, and nothing marks
        table.append([entry(7)], NOW)
        await pilot.press("space", "ctrl+a")
        assert table.marked == {}
