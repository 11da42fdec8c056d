"""Restore and diff: export lines read back, the import's dry run, and the differences between two
sides (stores, contexts, export files).

What it is for: `dapr-explorer import` and `dapr-explorer diff`. An export line (explorer.cli.commands
export_record) becomes an `Exported` key — its id, partitionKey, value in its shape (JSON or
bytes), ttl and the `_ts`/etag it had. For an import a line holds exactly the rules of `set`
(`parse_export_line` strict, `importable_problem`): the value through the editor's own checker, a
ttl Cosmos DB keeps, a key Dapr can write as the very item the line names; a line that breaks one,
or names an item a second time, stops the import before anything is written. The import decides
per key, against what the store holds now: create it (absent), leave it (the same etag: unchanged
since the export), or skip it (changed since the export) unless overwriting was asked for. Its TTL
is the recorded expiry instant (`recorded`: the seconds left, rounded up at write time; a key whose
expiry has passed is skipped) or the whole ttl again (`restart`). `diff_sides` compares two sides
key by key: only on one side, value, shape, TTL (the same ttl or the same expiry instant) or
partition different, with a value diff. No I/O here.

What it must never do: decide to overwrite a key that changed since the export without being asked,
turn a JSON value into bytes or back, hand actor or workflow state to a write, pass a line `set`
would refuse, or raise anything but BadLine on what a file holds.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import enum
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from explorer.core.audit import value_diff
from explorer.core.display import InvalidEdit, check_json_text
from explorer.core.envelope import KeyKind, KeyPrefix, KeyPrefixMode, StateKey, compact_json, document_id, parse_document_id
from explorer.core.expiry import Expiry, ExpiryKind, item_ttl_problem, ttl_to_keep_instant
from explorer.core.model import value_bytes_of, whole_number
from explorer.core.writes import key_problem

#: The longest export line read: no Cosmos DB item (2 MB at most) exports to more, even with every
#: character escaped. A longer line is refused without being held whole.
MAX_LINE_BYTES = 32 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
_NOT_AN_EXPORT = "; is this a `dapr-explorer export` file?"


class BadLine(ValueError):
    """An export line that cannot be imported: says which line and why."""


@dataclass(frozen=True)
class Exported:
    """One key as an export recorded it."""

    doc_id: str
    partition: str
    data: bytes  # the value as the app reads it: JSON text, or the bytes
    is_binary: bool
    ttl: int | None
    ts: int | None
    etag: str | None
    line: int = 0  # its line in the file

    def expires_at(self) -> int | None:
        """The instant Cosmos DB expired the key at, as recorded (`_ts` + ttl), or None."""
        if self.ttl is None or self.ttl == -1 or self.ts is None:
            return None
        return self.ts + self.ttl


def shown_id(doc_id: str) -> str:
    """An id for a message: cut to 60 characters, its line breaks shown (the message stays one line)."""
    cut = doc_id if len(doc_id) <= 60 else doc_id[:59] + "…"
    return cut.replace("\r", "\\r").replace("\n", "\\n")


def _text_of(line: bytes | str, number: int) -> str:
    if isinstance(line, str):
        return line[1:] if number == 1 and line.startswith("\ufeff") else line
    if len(line) > MAX_LINE_BYTES:
        raise BadLine(f"line {number}: longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB, more than any Cosmos DB "
                      "item (2 MB at most) exports to; is this a `dapr-explorer export` file?")
    if number == 1 and line.startswith(_BOM):
        line = line[len(_BOM):]  # a UTF-8 byte order mark, as some editors write: not part of the JSON
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        utf16 = number == 1 and line.startswith((b"\xff\xfe", b"\xfe\xff"))  # e.g. Windows PowerShell 5's `>`
        raise BadLine(f"line {number}, column {exc.start + 1}: not UTF-8 text (byte 0x{line[exc.start]:02x})"
                      + ("; it is UTF-16: save the export as UTF-8" if utf16 else _NOT_AN_EXPORT)) from None


def _not_json(number: int, why: str, column: int | None = None) -> BadLine:
    where = f"line {number}" + (f", column {column}" if column is not None else "")
    return BadLine(f"{where}: not JSON ({why}){_NOT_AN_EXPORT}")


def _unicode_or_refuse(number: int, field_name: str, text: str, name: str) -> None:
    """BadLine when `text` holds half a surrogate pair (strict lines are refused at its column before):
    no Cosmos DB item has such an id or partition key, and it cannot be shown or sent as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise BadLine(f"{name}: the {field_name} holds half of a surrogate pair (\\u{ord(text[exc.start]):04x}) at "
                      f"character {exc.start + 1}: not Unicode text, so no Cosmos DB item has it") from None


def parse_export_line(line: bytes | str, number: int, strict: bool = True) -> Exported:
    """One line of `dapr-explorer export` output (raises BadLine naming the line, and nothing else).

    `strict` (what an import writes): the line holds exactly `set`'s rules — the value (and the rest
    of the line) is checked by the editor's own checker (`core.display.check_json_text`: an integer
    past 2^53, a key twice in one object, half a surrogate pair, NaN, nesting past Cosmos DB's
    depth are refused at their column), and the ttl is one Cosmos DB keeps. Not strict (what `diff`
    compares): the value is read as it is, digit for digit, and compared safely."""
    text = _text_of(line, number)
    try:  # syntax only first: no number is converted, nothing is built
        json.loads(text, parse_int=str, parse_float=str, parse_constant=str, object_pairs_hook=lambda pairs: None)
    except json.JSONDecodeError as exc:
        raise _not_json(number, exc.msg, exc.colno) from None
    except RecursionError:
        if not strict:
            raise _not_json(number, "nested too deeply to read") from None
    if strict:
        try:
            check_json_text(text, levels_around=1)
        except InvalidEdit as exc:
            where = f", column {exc.column}" if exc.column is not None else ""
            hint = f" ({exc.hint})" if exc.hint else ""
            message = exc.message.replace("first at line 1, column ", "first at column ")  # one line: its columns
            raise BadLine(f"line {number}{where}: {message}{hint}") from None
    try:  # the standard library's parser: orjson reads integers past 64 bits as floats (Cosmos keeps them exact)
        record = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise _not_json(number, exc.__class__.__name__) from None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise BadLine(f"line {number}: not an export record (no string 'id')")
    doc_id = record["id"]
    _unicode_or_refuse(number, "id", doc_id, f"line {number}")
    name = f"line {number} ({shown_id(doc_id)})"
    partition = record.get("partitionKey")
    if not isinstance(partition, str):
        raise BadLine(f"{name}: no string partitionKey; Dapr cannot address such an item")
    _unicode_or_refuse(number, "partitionKey", partition, name)
    if "document" in record or record.get("isBinary") not in (True, False):
        raise BadLine(f"{name}: the item was not written by Dapr (no value/isBinary); "
                      "it cannot be written back through Dapr")
    if "value" not in record:
        raise BadLine(f"{name}: no value recorded (the export could not read it: see the line's warnings)")
    value = record["value"]
    if record["isBinary"]:
        if not isinstance(value, dict) or not isinstance(value.get("base64"), str):
            raise BadLine(f"{name}: isBinary but the value is not {{\"base64\": …}}")
        try:
            data = base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise BadLine(f"{name}: the value's base64 is not valid") from None
    else:
        try:
            data = orjson.dumps(value)
        except orjson.JSONEncodeError:  # (not strict) integers past 64 bits, half a surrogate pair, deep nesting
            try:
                data = compact_json(value)
            except (RecursionError, ValueError):
                raise _not_json(number, "nested too deeply to read") from None
    ttl, ts = record.get("ttl"), record.get("ts")
    problem = item_ttl_problem(ttl)
    if problem and strict:
        raise BadLine(f"{name}: {problem}")
    ttl = whole_number(ttl)  # (not strict) a ttl Cosmos would refuse is compared as it is
    if ts is not None and not (isinstance(ts, int) and not isinstance(ts, bool) and 0 <= ts < 2**53):
        if strict:
            raise BadLine(f"{name}: ts {str(ts)[:24]!s} is not a Cosmos DB _ts (whole seconds since 1970)")
        ts = None
    etag = record.get("etag") if isinstance(record.get("etag"), str) else None
    return Exported(doc_id, partition, data, bool(record["isBinary"]), ttl, ts, etag, number)


def importable_problem(exported: Exported, key_prefix: KeyPrefix, store: str) -> str | None:
    """Why `set` would refuse to write this line's key into `store` as the item the line names
    (None: it would not). Actor and workflow state are not refused here: the import leaves them."""
    state_key = parse_document_id(exported.doc_id, key_prefix, store)
    if state_key.kind is not KeyKind.PLAIN:
        return None
    mode = key_prefix.mode
    try:
        written = document_id(state_key.key, key_prefix, state_key.app_id or "", store, state_key.namespace)
    except ValueError:  # the key holds '||': the import leaves it (Dapr's state API refuses such keys)
        written = exported.doc_id
    if written != exported.doc_id or (state_key.prefix is None and mode is not KeyPrefixMode.NONE):
        shape = {KeyPrefixMode.APPID: "<app-id>||<key>", KeyPrefixMode.NAMESPACE: "<namespace>.<app-id>||<key>",
                 KeyPrefixMode.NAME: f"{store}||<key>", KeyPrefixMode.CUSTOM: f"{key_prefix.custom}||<key>",
                 KeyPrefixMode.NONE: "<key>"}[mode]
        return (f"the id is not one Dapr writes in {store} (keyPrefix {mode.value}: every id is {shape}), so a write "
                "through Dapr would create another item than the one the line names; import it into a store with "
                "the keyPrefix it was exported from")
    if state_key.read_only_reason:
        return None
    problem = key_problem(state_key.key, exported.doc_id)
    return f"the key {problem}" if problem else None


def _blank(line: bytes | str, number: int) -> bool:
    """A line of JSON whitespace only (after line 1's byte order mark, if any): no record."""
    if number == 1:
        line = line.removeprefix(_BOM if isinstance(line, bytes) else "\ufeff")  # type: ignore[arg-type]
    return not line.strip(b" \t\r\n" if isinstance(line, bytes) else " \t\r\n")  # type: ignore[arg-type]


def read_export(lines: Iterable[bytes | str], strict: bool = True) -> Iterator[Exported]:
    """Every record of an export file, in order; a bad line raises BadLine with its number, and so
    does an item (id and partitionKey) named twice, with both line numbers."""
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(lines, 1):
        if _blank(line, number):
            continue
        try:
            exported = parse_export_line(line, number, strict)
        except BadLine as exc:
            if line.endswith(b"\n" if isinstance(line, bytes) else "\n") or _NOT_AN_EXPORT not in str(exc):
                raise
            raise BadLine(str(exc).replace(_NOT_AN_EXPORT, "; the file ends in the middle of this line: was the "
                                           "export cut short?")) from None
        first = seen.setdefault((exported.doc_id, exported.partition), number)
        if first != number:
            raise BadLine(f"line {number} ({shown_id(exported.doc_id)}): the same item (id and partitionKey) as line "
                          f"{first}; an export names each item once: remove one of the two lines")
        yield exported


class ImportStep(enum.Enum):
    CREATE = "create"  # absent now: created (only if still absent)
    OVERWRITE = "overwrite"  # changed since the export, and overwriting was asked for: etag-checked
    UNCHANGED = "unchanged"  # the same etag as exported: nothing to write
    SKIP = "skip"  # changed since the export (not asked to overwrite), expired, or not writable


CHANGED = "changed since the export (--overwrite-changed writes over it)"


@dataclass(frozen=True)
class ImportDecision:
    exported: Exported
    state_key: StateKey
    step: ImportStep
    ttl_in_seconds: str | None = None  # as the dry run computed it (with expires_at: at the dry run's time)
    current_etag: str | None = None  # the etag the write is checked against (OVERWRITE)
    reason: str = ""
    expires_at: int | None = None  # --ttl recorded: the recorded expiry instant, kept (ttl computed at write time)

    @property
    def changed_since_export(self) -> bool:
        """Skipped because another writer changed the key since the export (exit 4, as bulk's skips)."""
        return self.step is ImportStep.SKIP and self.reason == CHANGED

    def ttl_at(self, now: float) -> tuple[str | None, str | None]:
        """(ttlInSeconds to send at `now`, why the key is not written or None). With a recorded
        expiry instant: the seconds left, rounded up, so the key expires at that instant, never
        before (Cosmos sets `_ts` to the write's second: at most a second after it)."""
        if self.expires_at is None:
            return self.ttl_in_seconds, None
        expiry = Expiry(ExpiryKind.AT, self.expires_at, "recorded")
        if self.expires_at <= now:
            return None, "expired since the export"
        return str(ttl_to_keep_instant(expiry, now)), None


def decide_import(exported: Exported, current_etag: str | None, exists: bool, key_prefix: KeyPrefix, store: str,
                  ttl_mode: str, overwrite: bool, now: float, default_ttl: int | None = -1) -> ImportDecision:
    """What the import does with one exported key, given what the store holds now. `default_ttl`:
    the container's (None: TTL off, where Cosmos DB ignores every item ttl and nothing expires)."""
    state_key = parse_document_id(exported.doc_id, key_prefix, store)
    reason = state_key.read_only_reason
    if reason:
        return ImportDecision(exported, state_key, ImportStep.SKIP, reason=reason.split(":")[0])
    if exists and exported.etag is not None and current_etag == exported.etag:
        return ImportDecision(exported, state_key, ImportStep.UNCHANGED, reason="unchanged since the export")
    ttl = None if exported.ttl is None else str(exported.ttl)
    at = None
    if ttl_mode != "restart" and default_ttl is not None and exported.ttl not in (None, -1):
        at = exported.expires_at()  # None without a recorded _ts: the whole ttl again
    decision = ImportDecision(exported, state_key, ImportStep.CREATE, ttl, expires_at=at)
    ttl, why = decision.ttl_at(now)
    if why:
        return ImportDecision(exported, state_key, ImportStep.SKIP, reason=why)
    decision = dataclasses.replace(decision, ttl_in_seconds=ttl)
    if not exists:
        return decision
    if not overwrite:
        return ImportDecision(exported, state_key, ImportStep.SKIP, current_etag=current_etag, reason=CHANGED)
    return dataclasses.replace(decision, step=ImportStep.OVERWRITE, current_etag=current_etag)


@dataclass
class ImportPlan:
    decisions: list[ImportDecision] = field(default_factory=list)

    def of(self, step: ImportStep) -> list[ImportDecision]:
        return [d for d in self.decisions if d.step is step]

    @property
    def writes(self) -> list[ImportDecision]:
        return [d for d in self.decisions if d.step in (ImportStep.CREATE, ImportStep.OVERWRITE)]

    @property
    def changed(self) -> list[ImportDecision]:
        """Keys skipped because they changed since the export: reported as skipped by the run."""
        return [d for d in self.decisions if d.changed_since_export]

    def summary(self) -> str:
        counts = {step: len(self.of(step)) for step in ImportStep}
        return (f"{len(self.writes):,} to write ({counts[ImportStep.CREATE]:,} to create, "
                f"{counts[ImportStep.OVERWRITE]:,} to overwrite), {counts[ImportStep.UNCHANGED]:,} unchanged, "
                f"{counts[ImportStep.SKIP]:,} skipped")


# -- diff ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SideKey:
    """One key of one side, as compared: value in its shape and the ttl it was written with."""

    doc_id: str
    partition: str
    data: bytes
    is_binary: bool
    ttl: int | None
    ts: int | None = None  # the `_ts` it had: with ttl, when it expires

    def expires_at(self) -> int | None:
        if self.ttl is None or self.ttl == -1 or self.ts is None:
            return None
        return self.ts + self.ttl


def side_key(exported: Exported) -> SideKey:
    return SideKey(exported.doc_id, exported.partition, exported.data, exported.is_binary, exported.ttl, exported.ts)


#: Seconds two expiry instants may differ by and still be the same TTL: an import with `--ttl
#: recorded` rounds the seconds left up, so the restored key expires at the recorded second or the next.
SAME_EXPIRY_SECONDS = 1


def same_ttl(left: SideKey, right: SideKey) -> bool:
    """The same ttl value (none and -1 alike), or the same expiry instant (within a second): what an
    import leaves, with `--ttl restart` (the same ttl, from the import) or `recorded` (the same instant,
    ttl re-based on the import's `_ts`)."""
    if (left.ttl if left.ttl != -1 else None) == (right.ttl if right.ttl != -1 else None):
        return True
    at_left, at_right = left.expires_at(), right.expires_at()
    return at_left is not None and at_right is not None and abs(at_left - at_right) <= SAME_EXPIRY_SECONDS


@dataclass(frozen=True)
class KeyDifference:
    doc_id: str
    what: tuple[str, ...]  # "value", "shape", "ttl", "partition"
    left: SideKey
    right: SideKey

    def value_diff(self) -> tuple[str, int]:
        return value_diff(self.left.data, self.left.is_binary, self.right.data, self.right.is_binary)


@dataclass
class DiffReport:
    only_left: list[SideKey] = field(default_factory=list)
    only_right: list[SideKey] = field(default_factory=list)
    different: list[KeyDifference] = field(default_factory=list)
    same: int = 0

    @property
    def identical(self) -> bool:
        return not (self.only_left or self.only_right or self.different)

    def summary(self, left: str, right: str) -> str:
        return (f"{len(self.only_left):,} only in {left}, {len(self.only_right):,} only in {right}, "
                f"{len(self.different):,} different, {self.same:,} the same")


def _same_json(a: bytes, b: bytes) -> bool:
    try:
        return orjson.loads(a) == orjson.loads(b)
    except orjson.JSONDecodeError:
        return a == b


def compare(left: SideKey, right: SideKey) -> tuple[str, ...]:
    """What differs between one key's two sides (empty: nothing). JSON values compare as values."""
    what = []
    if left.partition != right.partition:
        what.append("partition")
    if left.is_binary != right.is_binary:
        what.append("shape")
    elif (left.data != right.data) if left.is_binary else not _same_json(left.data, right.data):
        what.append("value")
    if not same_ttl(left, right):
        what.append("ttl")
    return tuple(what)


def diff_sides(left: Iterable[SideKey], right: Iterable[SideKey]) -> DiffReport:
    """Key by key (document id): what only one side has and what differs. Holds the left side in
    memory, streams the right."""
    held: dict[str, SideKey] = {}
    for key in left:
        held[key.doc_id] = key
    report = DiffReport()
    for key in right:
        other = held.pop(key.doc_id, None)
        if other is None:
            report.only_right.append(key)
            continue
        what = compare(other, key)
        if what:
            report.different.append(KeyDifference(key.doc_id, what, other, key))
        else:
            report.same += 1
    report.only_left.extend(held.values())
    for listing in (report.only_left, report.only_right):
        listing.sort(key=lambda k: k.doc_id)
    report.different.sort(key=lambda d: d.doc_id)
    return report


def document_side_key(document: Mapping[str, Any]) -> SideKey | None:
    """A store's document as a side of the diff (None: not one Dapr wrote)."""
    if document.get("isBinary") not in (True, False) or "value" not in document:
        return None
    return SideKey(str(document.get("id")), str(document.get("partitionKey")), value_bytes_of(document),
                   bool(document["isBinary"]), whole_number(document.get("ttl")), whole_number(document.get("_ts")))
