"""Restore and diff decided without I/O (explorer.core.restore; pure): export lines read back in
their shape, what an import does with each key, and what differs between two sides. Hand-made
records; the round trip through the real daprd and server is tests/integration/test_restore.py."""

from __future__ import annotations

import base64
import json

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.envelope import KeyPrefix
from explorer.core.restore import (
    BadLine,
    ImportStep,
    SideKey,
    compare,
    decide_import,
    diff_sides,
    document_side_key,
    parse_export_line,
    side_key,
)

NOW = 1_800_000_000
PREFIX = KeyPrefix.from_metadata(None)


def line(**fields) -> bytes:
    record = {"id": "app||k", "key": "k", "partitionKey": "p", "etag": '"e1"', "ts": NOW - 100, "ttl": None,
              "isBinary": False, "value": {"a": 1}}
    record.update(fields)
    return json.dumps(record).encode()  # as the export writes values orjson cannot (integers past 64 bits)


def test_a_json_value_and_bytes_come_back_in_their_shape():
    json_key = parse_export_line(line(value=[1, "x"]), 1)
    assert (json_key.data, json_key.is_binary, json_key.partition, json_key.etag) == (b'[1,"x"]', False, "p", '"e1"')
    raw = parse_export_line(line(isBinary=True, value={"base64": base64.b64encode(b"\x00\xff").decode(), "size": 2}), 1)
    assert (raw.data, raw.is_binary) == (b"\x00\xff", True)
    big = parse_export_line(line(value="BIG").replace(b'"BIG"', b'{"n":1180591620717411303424}'), 1)
    assert big.data == b'{"n":1180591620717411303424}'  # past 64 bits: kept digit for digit, as Cosmos keeps it


@pytest.mark.parametrize(("text", "says"), [
    (b"{not json", "line 3: not JSON"),
    (b"[1]", "line 3: not an export record"),
    (line(partitionKey=None), "no string partitionKey"),
    (line(isBinary=None, document={"x": 1}), "not written by Dapr"),
    (line(isBinary=True, value="AAEC"), "isBinary but the value is not"),
    (line(isBinary=True, value={"base64": "!!"}), "base64 is not valid"),
])
def test_a_bad_line_says_which_and_why(text, says):
    with pytest.raises(BadLine, match=says):
        parse_export_line(text, 3)


def decide(exported, current_etag=None, exists=False, ttl_mode="recorded", overwrite=False):
    return decide_import(exported, current_etag, exists, PREFIX, "s", ttl_mode, overwrite, NOW)


def test_an_absent_key_is_created_an_unchanged_one_left_and_a_changed_one_skipped_unless_asked():
    exported = parse_export_line(line(), 1)
    assert decide(exported).step is ImportStep.CREATE
    assert decide(exported, '"e1"', True).step is ImportStep.UNCHANGED
    skipped = decide(exported, '"e9"', True)
    assert skipped.step is ImportStep.SKIP and "changed since the export" in skipped.reason
    over = decide(exported, '"e9"', True, overwrite=True)
    assert (over.step, over.current_etag) == (ImportStep.OVERWRITE, '"e9"')


def test_the_ttl_is_what_was_left_or_the_whole_ttl_again_and_an_expired_key_is_skipped():
    exported = parse_export_line(line(ttl=600, ts=NOW - 100), 1)
    assert decide(exported).ttl_in_seconds == "500"
    assert decide(exported, ttl_mode="restart").ttl_in_seconds == "600"
    gone = decide(parse_export_line(line(ttl=60, ts=NOW - 100), 1))
    assert gone.step is ImportStep.SKIP and gone.reason == "expired since the export"
    assert decide(parse_export_line(line(ttl=-1), 1)).ttl_in_seconds == "-1"
    assert decide(parse_export_line(line(ttl=None), 1)).ttl_in_seconds is None


def test_actor_and_workflow_state_is_never_imported():
    exported = parse_export_line(line(id="app||CartActor||c1||items", partitionKey="app||CartActor||c1"), 1)
    decision = decide(exported)
    assert decision.step is ImportStep.SKIP and decision.reason == "actor state"


def key(doc_id="a", data=b'{"x":1}', binary=False, ttl=None, partition="p") -> SideKey:
    return SideKey(doc_id, partition, data, binary, ttl)


def test_differences_are_named_and_json_compares_as_values():
    assert compare(key(), key(data=b'{ "x" : 1 }')) == ()
    assert compare(key(), key(data=b'{"x":2}')) == ("value",)
    assert compare(key(), key(data=b"\x01", binary=True)) == ("shape",)
    assert compare(key(ttl=60), key(ttl=None)) == ("ttl",)
    assert compare(key(ttl=-1), key(ttl=None)) == ()
    assert compare(key(partition="p"), key(partition="q")) == ("partition",)


def test_diff_sides_reports_each_side_and_the_differences_in_id_order():
    report = diff_sides([key("b"), key("a"), key("c", ttl=5)], [key("c", ttl=6), key("d"), key("a")])
    assert [k.doc_id for k in report.only_left] == ["b"] and [k.doc_id for k in report.only_right] == ["d"]
    assert [(d.doc_id, d.what) for d in report.different] == [("c", ("ttl",))] and report.same == 1
    assert report.summary("L", "R") == "1 only in L, 1 only in R, 1 different, 1 the same"


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=10))
def test_an_exported_document_and_its_line_are_the_same_key(value):
    document = {"id": "app||k", "partitionKey": "p", "value": value, "isBinary": False, "_etag": '"e"', "_ts": NOW}
    record = line(value=value)
    assert compare(document_side_key(document), side_key(parse_export_line(record, 1))) == ()


def test_an_export_line_with_half_a_surrogate_pair_or_an_id_with_a_newline_is_one_bad_line():
    """Found by bench/fuzz_inputs.py: a value holding a lone surrogate (which orjson refuses) raised
    UnicodeEncodeError out of parse_export_line, and an id with a line break made the refusal two lines."""
    with pytest.raises(BadLine, match=r"^line 3 \(app\|\|k\): the value holds half a surrogate pair") as lone:
        parse_export_line('{"id": "app||k", "partitionKey": "p", "isBinary": false, "value": ["\\ud800"]}', 3)
    with pytest.raises(BadLine, match=r"^line 4 \(app\|\|a\\nb\): no string partitionKey") as broken:
        parse_export_line('{"id": "app||a\\nb", "isBinary": false, "value": 1}', 4)
    for refused in (lone, broken):
        assert "\n" not in str(refused.value)
