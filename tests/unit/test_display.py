"""What the key editor draws and accepts: pretty JSON, hex dumps, edits parsed back, diffs, ages."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.display import (
    cut_cells,
    CountSummary, InvalidEdit, age_text, edit_text_for, hex_dump, parse_base64_edit, parse_json_edit,
    pretty_json_bytes, short_etag, size_text, value_diff,
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(json_values)
def test_an_unchanged_json_edit_sends_the_same_value(value):
    shown = edit_text_for(json.dumps(value).encode(), is_binary=False)
    assert json.loads(parse_json_edit(shown)) == value


@given(st.binary(max_size=300))
def test_an_unchanged_binary_edit_sends_the_same_bytes(data):
    assert parse_base64_edit(edit_text_for(data, is_binary=True)) == data


def test_invalid_json_names_line_and_column_and_says_nothing_was_sent():
    with pytest.raises(InvalidEdit) as caught:
        parse_json_edit('{\n  "a": 1,\n  "b": tru\n}')
    assert (caught.value.line, caught.value.column) == (3, 8)
    assert str(caught.value).endswith("at line 3, column 8; nothing was sent")


def test_empty_and_bad_base64_edits_are_refused():
    with pytest.raises(InvalidEdit, match="empty"):
        parse_json_edit("   \n")
    with pytest.raises(InvalidEdit, match="base64"):
        parse_base64_edit("not base64!")


def test_non_ascii_json_is_kept_readable():
    assert pretty_json_bytes('{"k":"données-clé 🤖"}'.encode()) == '{\n  "k": "données-clé 🤖"\n}'
    assert pretty_json_bytes(b"\xff\xfe") is None


def test_hex_dump_shows_offsets_bytes_and_printables_and_stops_at_the_limit():
    dump = hex_dump(b"\x89PNG\r\n\x1a\n" + bytes(range(250, 256)), limit=8)
    assert dump.splitlines()[0] == "00000000  89 50 4e 47 0d 0a 1a 0a" + " " * 24 + "  .PNG...."
    assert dump.splitlines()[-1] == "… 6 more bytes"


def test_diff_marks_changed_lines_and_is_empty_without_change():
    diff = value_diff('{\n  "a": 1\n}', '{\n  "a": 2\n}')
    assert '-  "a": 1' in diff and '+  "a": 2' in diff
    assert value_diff("x", "x") == ""


@pytest.mark.parametrize(("ts", "now", "text"), [
    (1000, 1012, "12s ago"), (1000, 1000 + 300, "5m ago"), (1000, 1000 + 7200, "2h ago"),
    (1000, 1000 + 3 * 86400, "3d ago"), (1000, 998, "just now"), (1000, 900, "in the future"), (0, 5, "unknown"),
])
def test_age_text(ts, now, text):
    assert age_text(ts, now) == text


def test_small_formatters():
    assert short_etag('"a9d2e43e-1b5c-444b-886f-1afa"') == "a9d2e43e-1b5c…"
    assert short_etag("abc") == "abc"
    assert [size_text(n) for n in (24, 2048, 3 * 1024 * 1024)] == ["24 B", "2.0 KiB", "3.0 MiB"]
    assert str(CountSummary(1, "partition", 10, 1.0)) == "1 partition · 10 items · 1.00 RU"
    assert str(CountSummary(1234, "partition")) == "1,234 partitions"


CELL_TEXT = st.text(alphabet=st.sampled_from(list("ab-. …—é") + ["漢", "字", "\u0301"]), max_size=30)


@given(CELL_TEXT, st.data())
def test_cutting_a_cell_keeps_exactly_the_cells_asked_for_as_textual_would_crop_them(text, data):
    from rich.cells import cell_len
    from rich.segment import Segment
    from textual.strip import Strip

    length = cell_len(text)
    start = data.draw(st.integers(0, length))
    end = data.draw(st.integers(start, length))
    cut = cut_cells(text, start, end)
    assert cell_len(cut) == end - start
    if "\u0301" not in text:  # a combining mark stays with its letter here; Textual's crop may drop it
        assert cut == Strip([Segment(text)], length).crop(start, end).text


def test_cutting_ascii_is_slicing_and_a_halved_wide_character_becomes_a_space():
    assert cut_cells("expires in 2m 13s", 3, 10) == "ires in"
    assert cut_cells("漢字", 1, 4) == " 字"
    assert cut_cells("ab漢", 0, 3) == "ab "
