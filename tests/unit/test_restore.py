"""Restore and diff decided without I/O (explorer.core.import_plan; pure): export lines read back in
their shape, what an import does with each key, and what differs between two sides. Hand-made
records; the round trip through the real daprd and server is tests/integration/test_restore.py."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.envelope import KeyPrefix
from explorer.core.import_plan import (
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
    (b"{not json", "line 3, column 2: not JSON"),
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
    assert compare(document_side_key(document), side_key(parse_export_line(record, 1, strict=False))) == ()


# -- an export line holds the rules of `set` (issue 19) ------------------------------------------------

from explorer.core.display import InvalidEdit, parse_json_edit  # noqa: E402
from explorer.core.expiry import ITEM_TTL_RULE  # noqa: E402
from explorer.core.import_plan import (  # noqa: E402
    MAX_LINE_BYTES,
    importable_problem,
    read_export,
    same_ttl,
)


def raw_line(value_text: str, **fields) -> bytes:
    """A line whose value is `value_text` exactly as typed (what json.dumps cannot write: a key twice)."""
    return line(value="VALUE", **fields).replace(b'"VALUE"', value_text.encode("utf-8", "surrogatepass"))


def set_says(value_text: str) -> str:
    """What `set` says about the same value text (the editor's checker)."""
    with pytest.raises(InvalidEdit) as refused:
        parse_json_edit(value_text)
    return refused.value.message


@pytest.mark.parametrize("value_text", [
    '{"name": "\\ud800"}',  # half a surrogate pair, escaped (as the export writes one)
    '{"n": 9223372036854775809}',  # past 2^53: Dapr would keep 9223372036854775808
    '{"a": 1, "a": 2}',  # a key twice: Dapr would keep the last
    '{"x": NaN}',
])
def test_a_value_set_would_refuse_is_refused_at_its_line_and_column_with_sets_words(value_text):
    with pytest.raises(BadLine) as refused:
        parse_export_line(raw_line(value_text), 7)
    said = str(refused.value)
    assert said.startswith("line 7, column ") and set_says(value_text).split(" (first at")[0] in said


def test_half_a_surrogate_pair_raw_in_a_line_is_refused_too():
    with pytest.raises(BadLine, match=r"line 2, column \d+: not UTF-8 text \(byte 0xed\)"):
        parse_export_line(raw_line('{"name": "\ud800"}'), 2)  # in a file: bytes no UTF-8 decoder reads
    with pytest.raises(BadLine, match=r"line 2, column \d+: U\+D800 is half of a surrogate pair"):
        parse_export_line(raw_line('{"name": "\ud800"}').decode("utf-8", "surrogatepass"), 2)  # as text


def test_diff_reads_such_values_as_recorded_and_compares_them_without_a_crash():
    surrogate = parse_export_line(raw_line('{"name": "\\ud800"}'), 1, strict=False)
    big = parse_export_line(raw_line('{"n": 9223372036854775809}'), 2, strict=False)
    assert big.data == b'{"n":9223372036854775809}'  # digit for digit
    assert compare(side_key(surrogate), side_key(surrogate)) == ()
    difference = compare(side_key(surrogate), side_key(big))
    assert difference == ("value",)
    report = diff_sides([side_key(surrogate)], [side_key(dataclass_replace(big, doc_id=surrogate.doc_id))])
    text, _ = report.different[0].value_diff()  # shown, not raised
    assert isinstance(text, str)
    for strict in (True, False):  # no item has such an id: said without printing the half pair raw
        with pytest.raises(BadLine, match=r"line 3.*the id holds half of a surrogate pair|line 3, column") as refused:
            parse_export_line(json.dumps({"id": "app||\ud800", "partitionKey": "p", "isBinary": False, "value": 1}), 3,
                              strict)
        str(refused.value).encode("utf-8")


def dataclass_replace(obj, **changes):
    import dataclasses
    return dataclasses.replace(obj, **changes)


@pytest.mark.parametrize("ttl", [0, -2, 10**12, 2**31, "600", True, 1.5])
def test_a_ttl_cosmos_would_refuse_is_refused_never_taken_as_expired(ttl):
    with pytest.raises(BadLine, match="ttl .* is not one Cosmos DB keeps"):
        parse_export_line(line(ttl=ttl), 4)
    assert ITEM_TTL_RULE == "a whole number of seconds from 1 to 2147483647, or -1 (never expires)"


def test_an_id_dapr_would_not_write_as_named_is_refused_with_sets_words():
    def problem(doc_id, prefix=PREFIX, store="s"):
        return importable_problem(parse_export_line(line(id=doc_id), 1), prefix, store)

    assert problem("app||k") is None
    assert "not one Dapr writes in s (keyPrefix appid: every id is <app-id>||<key>)" in problem("k")
    assert "not one Dapr writes" in problem("||k")
    assert problem("app||a||b") is None and decide(parse_export_line(line(id="app||a||b"), 1)).step is ImportStep.SKIP
    assert problem("app||") == "the key is empty: Dapr state keys have at least one character"
    assert "is too long: its item id would be 1,024 bytes, and Cosmos DB ids are at most 1,023" in problem(
        "app||" + "k" * 1019)
    assert problem("app||" + "k" * 1018) is None
    assert "keyPrefix name: every id is s||<key>" in problem("other||k", KeyPrefix.from_metadata("name"))
    assert problem("s||k", KeyPrefix.from_metadata("name")) is None
    assert problem("k", KeyPrefix.from_metadata("none")) is None
    assert problem("app||CartActor||c1||items") is None  # actor state: left by the import, not refused


def test_the_same_item_twice_in_one_file_is_refused_naming_both_lines():
    with pytest.raises(BadLine, match=r"line 3 \(app\|\|k\): the same item \(id and partitionKey\) as line 1"):
        list(read_export([line() + b"\n", line(id="app||j") + b"\n", line(value=2) + b"\n"]))
    assert len(list(read_export([line() + b"\n", line(partitionKey="q") + b"\n"]))) == 2  # another item


def test_files_as_editors_and_shells_leave_them_are_read_and_broken_ones_named():
    assert len(list(read_export([b"\xef\xbb\xbf" + line() + b"\r\n", b"\r\n", line(id="app||j") + b"\r\n"]))) == 2
    assert list(read_export([])) == [] and list(read_export([b"\n", b"  \r\n"])) == []
    with pytest.raises(BadLine, match="line 2, column [0-9]+: not JSON .*; the file ends in the middle of this line: was the export cut"):
        list(read_export([line() + b"\n", line()[:-10]]))
    with pytest.raises(BadLine, match=r"line 1, column 3: not UTF-8 text \(byte 0xff\)"):
        list(read_export([b"{\"\xff\xfe\"}\n"]))
    with pytest.raises(BadLine, match="line 1, column 1: not UTF-8 text .*; it is UTF-16: save the export as UTF-8"):
        list(read_export([line().decode().encode("utf-16")]))
    with pytest.raises(BadLine, match="line 1: longer than 32 MiB"):
        list(read_export([b"x" * (MAX_LINE_BYTES + 1)]))
    with pytest.raises(BadLine, match="no value recorded"):
        parse_export_line(json.dumps({"id": "app||k", "partitionKey": "p", "isBinary": False,
                                      "warnings": ["could not read"]}), 1)


@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_line_is_read_or_refused_as_a_bad_line_never_anything_else(data):
    for strict in (True, False):
        try:
            parse_export_line(data, 1, strict)
        except BadLine:
            pass


def test_recorded_keeps_the_expiry_instant_rounding_up_and_a_container_without_ttl_expires_nothing():
    exported = parse_export_line(line(ttl=600, ts=NOW - 100), 1)  # expires at NOW + 500
    decision = decide_import(exported, None, False, PREFIX, "s", "recorded", False, NOW + 0.5)
    assert decision.ttl_in_seconds == "500"  # 499.5 seconds left: 500, so it never expires a second early
    for now in (NOW + 0.001, NOW + 0.999, NOW + 10.3):
        ttl, _ = decision.ttl_at(now)
        assert int(now) + int(ttl) == NOW + 500  # _ts is the write's second: the recorded instant exactly
    assert decision.ttl_at(NOW + 500) == (None, "expired since the export")
    off = decide_import(parse_export_line(line(ttl=60, ts=NOW - 100), 1), None, False, PREFIX, "s", "recorded",
                        False, NOW, default_ttl=None)
    assert (off.step, off.ttl_in_seconds) == (ImportStep.CREATE, "60")  # ignored there, as it was: not expired


def test_a_key_changed_since_the_export_is_counted_as_changed():
    from explorer.core.import_plan import ImportPlan

    exported = parse_export_line(line(), 1)
    plan = ImportPlan([decide(exported, '"e9"', True), decide(parse_export_line(line(id="app||j"), 2)),
                       decide(parse_export_line(line(id="app||A||b||c"), 3))])
    assert [d.exported.doc_id for d in plan.changed] == ["app||k"]  # not the actor state it leaves


def test_a_faithful_restore_has_the_same_ttl_whether_recorded_or_restarted():
    exported = key(ttl=600)
    exported = SideKey("a", "p", b"1", False, 600, NOW - 100)
    recorded = SideKey("a", "p", b"1", False, 500, NOW)  # the same instant, re-based on the import's _ts
    late = SideKey("a", "p", b"1", False, 501, NOW)  # rounded up across a second: still the same
    restarted = SideKey("a", "p", b"1", False, 600, NOW)  # the same ttl, from the import
    assert same_ttl(exported, recorded) and same_ttl(exported, late) and same_ttl(exported, restarted)
    assert compare(exported, recorded) == ()
    assert compare(exported, SideKey("a", "p", b"1", False, 400, NOW)) == ("ttl",)
    assert compare(exported, SideKey("a", "p", b"1", False, None, NOW)) == ("ttl",)


def test_a_refusal_naming_an_id_with_a_line_break_stays_one_line():
    with pytest.raises(BadLine, match=r"^line 4 \(app\|\|a\\nb\): no string partitionKey") as broken:
        parse_export_line('{"id": "app||a\\nb", "isBinary": false, "value": 1}', 4)
    assert "\n" not in str(broken.value)


def test_an_export_line_with_half_a_surrogate_pair_or_an_id_with_a_newline_is_one_bad_line():
    """Found by bench/fuzz_inputs.py: a value holding a lone surrogate (which orjson refuses) raised
    UnicodeEncodeError out of parse_export_line, and an id with a line break made the refusal two lines."""
    with pytest.raises(BadLine, match=r"^line 3, column \d+: \\ud800 is half of a surrogate pair") as lone:
        parse_export_line('{"id": "app||k", "partitionKey": "p", "isBinary": false, "value": ["\\ud800"]}', 3)
    with pytest.raises(BadLine, match=r"^line 4 \(app\|\|a\\nb\): no string partitionKey") as broken:
        parse_export_line('{"id": "app||a\\nb", "isBinary": false, "value": 1}', 4)
    for refused in (lone, broken):
        assert "\n" not in str(refused.value)
