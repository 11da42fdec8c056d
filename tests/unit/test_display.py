"""What the key editor draws and accepts: pretty JSON, hex dumps, edits parsed back, diffs, ages."""

from __future__ import annotations

import json

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.display import (
    cut_cells,
    CountSummary, InvalidEdit, age_text, edit_text_for, failure_line, hex_dump, parse_base64_edit, parse_json_edit,
    pretty_json_bytes, short_etag, size_text, value_diff,
)
from explorer.errors import CosmosUnreachable, NotFound

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


# -- what the editor refuses to send: JSON Dapr (Go) and Cosmos DB would not keep as typed --------


def _refusal(text: str) -> InvalidEdit:
    with pytest.raises(InvalidEdit) as caught:
        parse_json_edit(text)
    return caught.value


@pytest.mark.parametrize(("text", "words", "where"), [
    # Go's encoding/json turns a lone surrogate into U+FFFD: the stored value would not be the typed one.
    ('{"s": "\\ud800"}', "surrogate", (1, 8)),
    ('{\n  "s": "ok \\udc00"\n}', "surrogate", (2, 12)),
    ('["\\ud83d\\u0041"]', "surrogate", (1, 3)),  # a high half followed by something else
    ('{"s": "\ud800"}', "surrogate", (1, 8)),  # pasted: the character itself, not an escape
    # Not JSON at all for Dapr (Go): the whole value would be stored as base64 bytes.
    ('{"a": NaN}', "NaN", (1, 7)),
    ('[1, -Infinity]', "Infinity", (1, 5)),
    ('{"big": 1e400}', "too large", (1, 9)),
    # Go reads numbers as 64-bit floats: this integer would be stored as 12345678901234567000.
    ('{"id": 12345678901234567891}', "12345678901234567000", (1, 8)),
    # Dapr keeps one of two equal keys (the last): the other would be dropped without a word.
    ('{"a": 1,\n "b": {"a": 2},\n "a": 3}', 'key "a" appears twice', (3, 2)),
    ('{"\\u0061": 1, "a": 2}', 'key "a" appears twice', (1, 15)),
    # Deeper than Cosmos DB keeps (and than orjson, which the explorer compares values with, reads).
    ("[" * 200 + "]" * 200, "nested", (1, 128)),
    ('{"v": ' + "[" * 5000 + "]" * 5000 + "}", "nested", (1, 133)),
], ids=["surrogate-escape", "low-surrogate-escape", "high-surrogate-unpaired", "surrogate-pasted", "nan",
        "infinity", "overflow", "integer-past-float64", "duplicate-key", "duplicate-key-escaped", "deep",
        "deeper-than-python"])
def test_json_the_store_would_not_keep_as_typed_is_refused_at_its_place(text, words, where):
    refusal = _refusal(text)
    assert words in refusal.message, refusal.message
    assert (refusal.line, refusal.column) == where
    assert f"at line {where[0]}, column {where[1]}; nothing was sent" in str(refusal)


@pytest.mark.parametrize("text", [
    '{"s": "\\ud83d\\ude00 \\\\ud800"}',  # a whole pair, and an escaped backslash before "ud800"
    '{"n": 9007199254740993.5, "m": 1e308, "k": 1152921504606846976, "t": 1e-400}',
    '{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}',  # equal keys in different objects
    "[" * 127 + "]" * 127,
])
def test_json_dapr_keeps_as_typed_is_accepted(text):
    assert orjson.loads(parse_json_edit(text)) == json.loads(text)


def test_a_huge_integer_is_refused_without_reaching_pythons_digit_limit():
    refusal = _refusal('{"n": ' + "7" * 5000 + "}")
    assert "too large" in refusal.message and (refusal.line, refusal.column) == (1, 7)


JSONISH = st.text(alphabet=st.sampled_from(list('{}[]",:\\ \n0123456789.eE+-uabcdfDNIntrulsy') + ["\ud800", "é"]),
                  max_size=60)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(alphabet=st.characters(codec=None, exclude_categories=())), JSONISH,
                 json_values.map(lambda v: json.dumps(v, indent=1)).flatmap(
                     lambda s: st.tuples(st.just(s), st.integers(0, len(s)), JSONISH).map(
                         lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:]))))
def test_arbitrary_text_is_sent_as_strict_json_or_refused_with_invalid_edit_only(text):
    try:
        data = parse_json_edit(text)
    except InvalidEdit as refusal:
        assert refusal.line is None or (refusal.line >= 1 and refusal.column >= 1)
        return
    assert orjson.loads(data) == json.loads(text)  # strict UTF-8 JSON, the value the user typed


def test_a_stored_half_surrogate_is_shown_as_its_escape_and_an_unchanged_edit_is_refused():
    shown = pretty_json_bytes(b'{"s": "a\\ud800b"}')
    assert shown == '{\n  "s": "a\\ud800b"\n}'  # drawable, and no raw surrogate in the edit box
    with pytest.raises(InvalidEdit, match="surrogate"):
        parse_json_edit(shown)


@pytest.mark.parametrize(("error", "line"), [
    (CosmosUnreachable("reading the key failed: no answer"), "Cosmos DB not reachable: reading the key failed: "
                                                             "no answer — r retries"),
    (NotFound("container a/b not found. Check the component's database and collection fields."),
     "Cosmos DB: container a/b not found. Check the component's database and collection fields."),
    (RuntimeError("boom\n  traceback"), "RuntimeError: boom"),
])
def test_a_failure_line_offers_r_only_when_asking_again_can_help(error, line):
    assert failure_line(error) == line


def test_moment_text_writes_one_time_format_for_every_face():
    from datetime import datetime, timezone

    from explorer.core.display import moment_text

    at = datetime(2026, 12, 7, 22, 0, 5, 123456, tzinfo=timezone.utc)
    assert moment_text(at) == "2026-12-07 22:00:05"
    assert moment_text(at, date=False) == "12-07 22:00:05"
    assert moment_text(at, date=False, millis=True) == "12-07 22:00:05.123"
    assert moment_text(None) == "—" and moment_text(None, missing="") == ""
