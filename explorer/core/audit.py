"""The audit log's records: what one write did, as one JSON line, and how to read them back.

What it is for: turning a decided write (explorer.core.writes.KeyChange), the value it replaced
and its outcome into one record — time, OS user, host, context, store, key, partition key, etag
before and after, the TTL sent, the identity used, and the value's SHA-256, size and a
size-capped diff — and parsing the log's lines and `--since` texts back. explorer.session.audit_log appends
the records; this module does no I/O and reads no clock (times are given).

What it must never do: hold a secret. A record carries the value's hash, size and a diff capped
at DIFF_CAP characters, never an account key or token (the session passes none here), and an
error is kept as the one line the user saw (explorer.errors.describe, which never holds one).
"""

from __future__ import annotations

import datetime as dt
import difflib
import enum
import functools
import hashlib
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from explorer.core.writes import KeyChange, ValueShape, WriteKind

#: A record's diff is cut to this many characters (the rest is counted, not kept).
DIFF_CAP = 2000
#: Lines of context around each change in a JSON diff.
DIFF_CONTEXT = 1


class Outcome(enum.Enum):
    """How a write ended, as the user was told."""

    DONE = "done"  # written (and read back, unless `unverified`)
    UNVERIFIED = "unverified"  # written through Dapr; reading it back from Cosmos failed
    CONFLICT = "conflict"  # the etag no longer matched (or the key appeared/vanished): nothing written
    SKIPPED = "skipped"  # a key of a confirmed dry run (bulk, import) changed or deleted since: nothing written
    REFUSED = "refused"  # refused before or by the store (no permission, not writable): nothing written
    FAILED = "failed"  # anything else: the sidecar or the account failed; maybe nothing written


@dataclass(frozen=True, slots=True)
class ValueFacts:
    """A value without the value: its SHA-256 and size (None: there was none)."""

    sha256: str | None
    bytes: int | None

    @classmethod
    def of(cls, data: bytes | None) -> ValueFacts:
        if data is None:
            return NO_VALUE
        return cls(hashlib.sha256(data).hexdigest(), len(data))


NO_VALUE = ValueFacts(None, None)


@dataclass(frozen=True, slots=True)
class Who:
    """Who wrote: the OS user and host, the named context (None: none), the identity to Cosmos."""

    user: str
    host: str
    context: str | None = None
    identity: str | None = None


@dataclass(slots=True)
class AuditRecord:
    """One write, as one line of the audit log. Not frozen: a bulk action makes hundreds a second,
    and a frozen dataclass sets each of its 22 fields through object.__setattr__ (3x slower); no
    code changes a record once made."""

    time: str  # ISO 8601, UTC, milliseconds
    user: str
    host: str
    context: str | None
    identity: str | None
    store: str
    operation: str  # save | create | delete
    key: str
    doc_id: str
    app_id: str | None
    partition_key: str
    etag_before: str | None
    etag_after: str | None
    ttl_in_seconds: str | None  # the ttlInSeconds metadata sent (None: none sent, the item keeps no ttl of ours)
    ttl_choice: str | None  # keep | restart | none | SECONDS, as chosen (None: not asked, e.g. a delete)
    outcome: str
    error: str | None
    value_before: ValueFacts
    value_after: ValueFacts
    diff: str
    diff_cut: int = 0  # characters of the diff left out past DIFF_CAP
    extra: Mapping[str, Any] = field(default_factory=dict)  # later writers (bulk, import) say more here

    def to_json_line(self) -> bytes:
        return orjson.dumps(self) + b"\n"  # orjson writes dataclasses itself, ~10x faster than asdict

    @property
    def epoch(self) -> float:
        return parse_time(self.time)


def operation_of(change: KeyChange) -> str:
    if change.kind is WriteKind.DELETE:
        return "delete"
    return "create" if change.create_only else "save"


def record_for(
    change: KeyChange,
    store: str,
    who: Who,
    now: float,
    outcome: Outcome,
    before: bytes | None = None,
    before_is_binary: bool = False,
    etag_after: str | None = None,
    ttl_choice: str | None = None,
    error: str | None = None,
) -> AuditRecord:
    """The record of one write: `before` is the value it replaced (None: new key, or not read)."""
    after = None if change.value is None else change.value.data
    after_is_binary = change.value is not None and change.value.shape is ValueShape.BYTES
    text, cut = value_diff(before, before_is_binary, after, after_is_binary)
    return AuditRecord(
        time=format_time(now), user=who.user, host=who.host, context=who.context, identity=who.identity,
        store=store, operation=operation_of(change), key=change.state_key.key, doc_id=change.state_key.doc_id,
        app_id=change.state_key.app_id, partition_key=change.partition,
        etag_before=change.etag, etag_after=etag_after, ttl_in_seconds=change.ttl_seconds, ttl_choice=ttl_choice,
        outcome=outcome.value, error=error,
        value_before=ValueFacts.of(before), value_after=ValueFacts.of(after), diff=text, diff_cut=cut,
    )


def _lines(data: bytes, is_binary: bool) -> list[str]:
    """A value as diffable lines: JSON pretty-printed with sorted keys, bytes as hex rows of 32."""
    if not is_binary:
        try:
            return orjson.dumps(orjson.loads(data), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode().splitlines()
        except (orjson.JSONDecodeError, orjson.JSONEncodeError, TypeError):
            try:
                return data.decode("utf-8").splitlines()
            except UnicodeDecodeError:
                pass
    return [data[i:i + 32].hex() for i in range(0, len(data), 32)] or [""]


def value_diff(before: bytes | None, before_is_binary: bool, after: bytes | None, after_is_binary: bool,
               cap: int = DIFF_CAP) -> tuple[str, int]:
    """A unified diff of two values (either may be None: created / deleted), cut to `cap`
    characters; returns the text and how many characters were cut."""
    if before is None and after is None:  # a delete of a key not read first: nothing to compare
        return "", 0
    old = [] if before is None else _lines(before, before_is_binary)
    new = [] if after is None else _lines(after, after_is_binary)
    if old == new and before is not None and after is not None:
        text = "" if before == after else "(same value; the bytes differ only in layout)"
    else:
        body = difflib.unified_diff(old, new, "before", "after", n=DIFF_CONTEXT, lineterm="")
        text = "\n".join(line for i, line in enumerate(body) if i >= 2)  # drop the ---/+++ header
    if len(text) <= cap:
        return text, 0
    return text[:cap], len(text) - cap


def format_time(epoch: float) -> str:
    """ISO 8601 in UTC with milliseconds (truncated, as datetime.isoformat does after rounding to the
    microsecond), e.g. 2027-01-15T08:00:00.000Z."""
    second = math.floor(epoch)
    micro = round((epoch - second) * 1_000_000)
    if micro == 1_000_000:
        second, micro = second + 1, 0
    return f"{_second_text(second)}.{micro // 1000:03d}Z"


@functools.lru_cache(maxsize=4)
def _second_text(second: int) -> str:
    """A second, formatted once: a bulk action writes hundreds of records a second (from the audit
    log's flush thread and the event loop alike: the cache is safe in both)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))


def parse_time(text: str) -> float:
    """An ISO 8601 time (a date alone is its midnight; no zone means UTC) as epoch seconds."""
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


_AGO = re.compile(r"^(\d{1,9})\s*(s|m|h|d|w)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float) -> float:
    """`--since`: a duration ago (90s, 15m, 2h, 3d, 1w) or an ISO date/time (UTC unless it says);
    epoch seconds. Raises ValueError with what to type instead."""
    value = text.strip().lower()
    match = _AGO.match(value)
    if match:
        return now - int(match.group(1)) * _UNIT[match.group(2)]
    try:
        return parse_time(text)
    except ValueError:
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise ValueError(f"--since {shown!r}: give a duration ago (30m, 2h, 7d) or a date/time "
                         "(2026-11-29 or 2026-11-29T14:00:00Z)") from None


@dataclass(frozen=True)
class ReadResult:
    records: list[AuditRecord]
    unreadable: int  # lines that were not records (a torn last line, a hand edit): counted, skipped


_FIELDS = {f for f in AuditRecord.__dataclass_fields__}


def parse_line(line: bytes | str) -> AuditRecord | None:
    """One log line as a record; None if it is not one."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or not {"time", "store", "operation", "outcome"} <= data.keys():
        return None
    try:
        data = {k: v for k, v in data.items() if k in _FIELDS}
        for side in ("value_before", "value_after"):
            facts = data.get(side) or {}
            data[side] = ValueFacts(facts.get("sha256"), facts.get("bytes"))
        record = AuditRecord(**data)
        parse_time(record.time)
    except (TypeError, ValueError, AttributeError):
        return None
    return record if _well_typed(record) else None


_TEXT = ("time", "user", "host", "store", "operation", "key", "doc_id", "partition_key", "outcome", "diff")
_TEXT_OR_NONE = ("context", "identity", "app_id", "etag_before", "etag_after", "ttl_in_seconds", "ttl_choice", "error")


def _well_typed(record: AuditRecord) -> bool:
    """Whether every field has the type the log writes (a hand-edited line may not): the readers of a record
    (`summary`, `diff_lines`, the audit view) rely on it."""
    def whole(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool)

    return (all(isinstance(getattr(record, name), str) for name in _TEXT)
            and all(getattr(record, name) is None or isinstance(getattr(record, name), str) for name in _TEXT_OR_NONE)
            and whole(record.diff_cut) and isinstance(record.extra, Mapping)
            and all((f.sha256 is None or isinstance(f.sha256, str)) and (f.bytes is None or whole(f.bytes))
                    for f in (record.value_before, record.value_after)))


def read_records(lines: Iterable[bytes | str], since: float | None = None) -> ReadResult:
    records, unreadable = [], 0
    for line in lines:
        if not line.strip():
            continue
        record = parse_line(line)
        if record is None:
            unreadable += 1
        elif since is None or record.epoch >= since:
            records.append(record)
    return ReadResult(records, unreadable)


def summary(record: AuditRecord) -> str:
    """One line for a listing: what happened to which key."""
    etags = f"{record.etag_before or '-'} → {record.etag_after or '-'}"
    size = record.value_after.bytes if record.operation != "delete" else record.value_before.bytes
    tail = f" ({record.error})" if record.error else ""
    return (f"{record.operation} {record.key} [{record.partition_key}] {record.outcome} · etag {etags}"
            f"{'' if size is None else f' · {size} B'}{tail}")


def diff_lines(record: AuditRecord) -> Iterator[str]:
    yield from record.diff.splitlines()
    if record.diff_cut:
        yield f"… {record.diff_cut} more characters of diff not kept"
