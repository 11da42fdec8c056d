"""The audit log's records (explorer.core.audit; pure): what a write's line says, its diff and its
cap, and reading lines and `--since` back. Hand-made documents; no Cosmos, no Dapr (the log's
lines for real writes through daprd are checked in tests/integration/test_audit_log.py)."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.audit import (
    DIFF_CAP,
    Outcome,
    Who,
    format_time,
    parse_line,
    parse_since,
    read_records,
    record_for,
    summary,
    value_diff,
)
from explorer.core.envelope import KeyPrefix, parse_document_id
from explorer.core.expiry import effective_expiry
from explorer.core.model import KeyValue, TtlChoice, value_bytes_of
from explorer.core.writes import KeyChange, NewValue, WriteKind

NOW = 1_800_000_000.0
WHO = Who("ana", "laptop", "prod", "managed identity, client id 1f3c")


def _key(value, binary=False, doc_id="app||cart-1", partition="pk-1", ttl=None) -> KeyValue:
    document = {"id": doc_id, "partitionKey": partition, "_etag": '"e1"', "_ts": int(NOW) - 10,
                "value": base64.b64encode(value).decode() if binary else value, "isBinary": binary}
    if ttl is not None:
        document["ttl"] = ttl
    state_key = parse_document_id(doc_id, KeyPrefix.from_metadata(None))
    return KeyValue(state_key, document, value_bytes_of(document), '"e1"', effective_expiry(ttl, -1, document["_ts"]))


def test_a_save_records_who_what_where_and_the_change_without_the_value():
    key = _key({"items": 2, "user": "u1"})
    change = KeyChange.save(key, NewValue.json_text('{"items": 3, "user": "u1"}'), TtlChoice.parse("3600"), NOW)
    record = record_for(change, "statestore", WHO, NOW, Outcome.DONE, before=key.value_bytes, etag_after='"e2"',
                        ttl_choice="3600")
    assert (record.user, record.host, record.context, record.identity) == ("ana", "laptop", "prod", WHO.identity)
    assert (record.store, record.operation, record.key, record.doc_id, record.app_id) == (
        "statestore", "save", "cart-1", "app||cart-1", "app")
    assert (record.partition_key, record.etag_before, record.etag_after) == ("pk-1", '"e1"', '"e2"')
    assert (record.ttl_in_seconds, record.ttl_choice, record.outcome, record.error) == ("3600", "3600", "done", None)
    after = change.value.data  # what was sent: the editor's compact form of the typed text
    assert record.value_after.sha256 == hashlib.sha256(after).hexdigest() and record.value_after.bytes == len(after)
    assert record.value_before.sha256 == hashlib.sha256(key.value_bytes).hexdigest()
    assert '-  "items": 2,' in record.diff and '+  "items": 3,' in record.diff
    assert record.time == "2027-01-15T08:00:00.000Z" == format_time(NOW)


def test_a_create_has_no_value_before_and_a_delete_no_value_after():
    state_key = parse_document_id("app||new", KeyPrefix.from_metadata(None))
    created = record_for(KeyChange.create(state_key, "p", NewValue.json_text("[1]"), TtlChoice()), "s", WHO, NOW,
                         Outcome.DONE)
    assert created.operation == "create" and created.value_before.sha256 is None and created.value_after.bytes == 3
    assert created.etag_before is None and created.ttl_in_seconds is None
    key = _key([1, 2])
    deleted = record_for(KeyChange.delete(key), "s", WHO, NOW, Outcome.CONFLICT, before=key.value_bytes,
                         error="the etag no longer matches")
    assert deleted.operation == "delete" and deleted.value_after.sha256 is None and deleted.etag_before == '"e1"'
    assert deleted.outcome == "conflict" and deleted.error == "the etag no longer matches"
    assert deleted.diff.splitlines()[1:] == ["-[", "-  1,", "-  2", "-]"]


def test_bytes_are_diffed_as_hex_rows_and_a_json_value_laid_out_otherwise_is_the_same_value():
    text, cut = value_diff(b"\x00" * 40, True, b"\x00" * 32 + b"\x01" * 8, True)
    assert "-" + "00" * 8 in text and "+" + "01" * 8 in text and cut == 0
    assert value_diff(b'{"a":1,"b":2}', False, b'{"b": 2, "a": 1}', False) == (
        "(same value; the bytes differ only in layout)", 0)
    assert value_diff(b"[1]", False, b"[1]", False) == ("", 0)


def test_the_diff_is_cut_at_the_cap_and_says_how_much_was_left_out():
    big = orjson.dumps({f"k{i}": "x" * 50 for i in range(200)})
    text, cut = value_diff(None, False, big, False)
    assert len(text) == DIFF_CAP and cut > 10_000
    assert len(text) + cut == len(value_diff(None, False, big, False, cap=10**9)[0])


@given(before=st.one_of(st.none(), st.binary(max_size=300)), after=st.one_of(st.none(), st.binary(max_size=300)),
       binary=st.booleans())
def test_any_value_pair_gives_a_record_that_reads_back_the_same(before, after, binary):
    state_key = parse_document_id("app||k", KeyPrefix.from_metadata(None))
    if after is None:
        change = KeyChange(WriteKind.DELETE, state_key, "p", '"e"')
    else:
        change = KeyChange.create(state_key, "p", NewValue.raw(after), TtlChoice())
    record = record_for(change, "s", WHO, NOW, Outcome.FAILED, before=before, before_is_binary=binary, error="x")
    assert parse_line(record.to_json_line()) == record
    assert len(record.diff) <= DIFF_CAP


def test_reading_skips_torn_and_foreign_lines_and_keeps_those_since_a_time():
    key = _key({"a": 1})
    lines = [record_for(KeyChange.delete(key), "s", WHO, NOW + i * 3600, Outcome.DONE).to_json_line() for i in range(3)]
    read = read_records([lines[0], b"{not json", b'{"some": "other"}', b"\n", lines[1], lines[2][:20]])
    assert [r.time for r in read.records] == [format_time(NOW), format_time(NOW + 3600)] and read.unreadable == 3
    assert [r.time for r in read_records(lines, since=NOW + 3600).records] == [format_time(NOW + 3600),
                                                                               format_time(NOW + 7200)]
    assert summary(read.records[0]).startswith("delete cart-1 [pk-1] done · etag \"e1\" → -")


@pytest.mark.parametrize("text,expected", [("90s", NOW - 90), ("15m", NOW - 900), ("2h", NOW - 7200),
                                           ("3d", NOW - 3 * 86400), ("1w", NOW - 604800),
                                           ("2027-01-15", NOW - 8 * 3600), ("2027-01-15T08:00:00Z", NOW),
                                           ("2027-01-15T09:00:00+01:00", NOW)])
def test_since_takes_a_duration_ago_or_a_date(text, expected):
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["yesterday", "5 minutes", "-1h", "", "2027-13-01"])
def test_since_refuses_anything_else_and_says_what_to_type(text):
    with pytest.raises(ValueError, match="give a duration ago .* or a date/time"):
        parse_since(text, NOW)


async def test_concurrent_appends_all_reach_the_file_and_share_their_fsyncs(tmp_path, monkeypatch):
    """The audit log's own file (a temp folder; its durable writes counted, not faked away): 50 writes
    appending at once each return only once their line is on disk, and they needed far fewer than 50
    durable writes (each one a write to disk)."""
    import asyncio

    import explorer.session.audit_log
    from explorer.session.audit_log import AuditLog

    syncs = []
    real_write = explorer.session.audit_log._write_durably
    monkeypatch.setattr(explorer.session.audit_log, "_write_durably", lambda fd, lines: (syncs.append(fd), real_write(fd, lines)))
    log = AuditLog(tmp_path / "audit.jsonl")
    key = _key({"a": 1})
    records = [record_for(KeyChange.delete(key), f"s{i}", WHO, NOW + i, Outcome.DONE) for i in range(50)]

    async def one(record):
        await log.append_async(record)
        assert record in log.read().records  # on disk when it returns

    await asyncio.gather(*(one(r) for r in records))
    assert [r.store for r in log.read().records] == [f"s{i}" for i in range(50)]
    assert 1 <= len(syncs) < 10


async def test_an_append_that_cannot_reach_the_file_raises_for_every_writer(tmp_path):
    import asyncio

    from explorer.session.audit_log import AuditLog, AuditUnavailable

    (tmp_path / "file").write_text("a file where the folder should be")
    log = AuditLog(tmp_path / "file" / "audit.jsonl")
    record = record_for(KeyChange.delete(_key([1])), "s", WHO, NOW, Outcome.DONE)
    results = await asyncio.gather(*(log.append_async(record) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, AuditUnavailable) and "could not be written" in str(r) for r in results)


@given(st.floats(min_value=0, max_value=2**33, allow_nan=False, allow_infinity=False)
       | st.integers(min_value=1_600_000_000, max_value=2_100_000_000).map(lambda s: s + 0.9999995)
       | st.integers(min_value=1_600_000_000, max_value=2_100_000_000).map(lambda s: s + 0.0005))
def test_record_times_read_as_datetime_writes_them(epoch):
    """format_time (each second formatted once, for a bulk action's hundreds of records a second)
    writes what datetime's isoformat writes: rounded to the microsecond, then cut to milliseconds —
    also just below a second, where the rounding carries into the next one."""
    import datetime as dt

    expected = dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="milliseconds")
    assert format_time(epoch) == expected.replace("+00:00", "Z")
    assert format_time(epoch) == format_time(epoch)  # the cached second gives the same text


async def test_a_lone_write_is_flushed_at_once_and_a_burst_waits_for_more_lines(tmp_path, monkeypatch):
    """The audit log's own file (a temp folder), with the linger made 30 s long. A lone write (the
    TUI's save) is written without waiting for company. Once writes arrive together (a bulk action),
    the next flush lingers for more lines, and goes as soon as LINGER_LINES are waiting rather than
    waiting out the linger — so the linger never caps a bulk action's rate."""
    import asyncio

    import explorer.session.audit_log
    from explorer.session.audit_log import LINGER_LINES, AuditLog

    monkeypatch.setattr(explorer.session.audit_log, "LINGER_SECONDS", 30.0)
    log = AuditLog(tmp_path / "audit.jsonl")
    key = _key({"a": 1})

    def line(store):
        return log.append_async(record_for(KeyChange.delete(key), store, WHO, NOW, Outcome.DONE))

    await asyncio.wait_for(line("lone"), 10)  # not held back by the 30 s linger
    await asyncio.wait_for(asyncio.gather(*(line(f"s{i}") for i in range(5))), 10)  # together: now lingering
    few = asyncio.ensure_future(asyncio.gather(*(line(f"t{i}") for i in range(LINGER_LINES - 1))))
    await asyncio.sleep(0.2)
    assert not few.done()  # fewer than LINGER_LINES: still waiting for company
    await asyncio.wait_for(asyncio.gather(few, line("enough")), 10)  # the LINGER_LINES-th line ends the wait
    assert len(log.read().records) == 1 + 5 + LINGER_LINES


def test_a_log_removed_while_a_bulk_action_keeps_it_open_is_written_anew(tmp_path):
    """The audit log's own file (a temp folder): the flusher keeps the file open between flushes of
    a burst; if the file is removed meanwhile, the next lines go to a new file at the same path, not
    into the removed one."""
    from explorer.session.audit_log import AuditLog

    log = AuditLog(tmp_path / "audit.jsonl")
    key = _key({"a": 1})
    fd = log._write_lines(record_for(KeyChange.delete(key), "before", WHO, NOW, Outcome.DONE).to_json_line(), None, True)
    (tmp_path / "audit.jsonl").unlink()
    fd = log._write_lines(record_for(KeyChange.delete(key), "after", WHO, NOW, Outcome.DONE).to_json_line(), fd, True)
    try:
        assert [r.store for r in log.read().records] == ["after"]
        assert (tmp_path / "audit.jsonl").stat().st_mode & 0o777 == 0o600
    finally:
        import os

        os.close(fd)


async def test_a_record_made_in_the_flush_thread_that_fails_fails_its_write_instead_of_hanging(tmp_path):
    """The audit log's own file (a temp folder): a record queued as a function is made in the flusher's
    thread; if making it raises, its write (and its flush's others) get AuditUnavailable — a bulk
    action then stops and says why — and nothing waits forever."""
    import asyncio

    from explorer.session.audit_log import AuditLog, AuditUnavailable

    log = AuditLog(tmp_path / "audit.jsonl")
    key = _key({"a": 1})

    def broken():
        raise ValueError("no such field")

    good = log.append_soon(lambda: record_for(KeyChange.delete(key), "s", WHO, NOW, Outcome.DONE))
    bad = log.append_soon(broken)
    results = await asyncio.wait_for(asyncio.gather(good, bad, return_exceptions=True), 10)
    assert all(isinstance(r, AuditUnavailable) for r in results)
    assert "a record could not be made: ValueError: no such field" in str(results[1])
    assert not log.writable
    await log.append_async(record_for(KeyChange.delete(key), "after", WHO, NOW, Outcome.DONE))  # usable again
    assert [r.store for r in log.read().records] == ["after"]


@pytest.mark.parametrize("field, value", [("diff", None), ("diff", 5), ("key", ["k"]), ("outcome", None),
                                          ("error", 3), ("diff_cut", "3"), ("extra", "x"), ("value_after", {"bytes": "9"})])
def test_a_line_whose_fields_have_the_wrong_type_is_unreadable_not_a_crash(field, value):
    """Found by bench/fuzz_inputs.py: a hand-edited line with `"diff": null` was read as a record, and listing
    it (`diff_lines`) raised AttributeError. Such a line is counted unreadable, as a torn one is."""
    key = _key({"a": 1})
    change = KeyChange.save(key, NewValue.json_text('{"a": 2}'), TtlChoice(), NOW)
    good = orjson.loads(record_for(change, "statestore", WHO, NOW, Outcome.DONE, before=key.value_bytes).to_json_line())
    assert parse_line(orjson.dumps(good)) is not None
    result = read_records([orjson.dumps({**good, field: value})])
    assert (result.records, result.unreadable) == ([], 1)
