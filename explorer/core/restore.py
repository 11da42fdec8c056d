"""Restore and diff: export lines read back, the import's dry run, and the differences between two
sides (stores, contexts, export files).

What it is for: `dapr-explorer import` and `dapr-explorer diff`. An export line (explorer.commands
export_record) becomes an `Exported` key — its id, partitionKey, value in its shape (JSON or
bytes), ttl and the `_ts`/etag it had — and the import decides per key, against what the store
holds now: create it (absent), leave it (the same etag: unchanged since the export), or skip it
(changed since the export) unless overwriting was asked for. Its TTL is the recorded expiry
instant (`recorded`: what is left of it; a key whose expiry has passed is skipped) or the whole
ttl again (`restart`). `diff_sides` compares two sides key by key: only on one side, value, shape
or TTL different, with a value diff. No I/O here.

What it must never do: decide to overwrite a key that changed since the export without being asked,
turn a JSON value into bytes or back, or hand actor or workflow state to a write.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from explorer.core.audit import value_diff
from explorer.core.envelope import KeyPrefix, StateKey, parse_document_id

MAX_ISSUES_SHOWN = 20


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

    def ttl_for_import(self, mode: str, now: float) -> tuple[str | None, str | None]:
        """(ttlInSeconds to send or None for none, why the key cannot be imported or None)."""
        if self.ttl is None or self.ttl == -1:
            return (None if self.ttl is None else "-1"), None
        if mode == "restart" or self.ts is None:
            return str(self.ttl), None
        left = int(self.ts + self.ttl - now)
        if left <= 0:
            return None, "expired since the export"
        return str(left), None


def parse_export_line(line: bytes | str, number: int) -> Exported:
    """One line of `dapr-explorer export` output (raises BadLine naming the line)."""
    try:  # the standard library's parser: orjson reads integers past 64 bits as floats (Cosmos keeps them exact)
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else exc.__class__.__name__
        raise BadLine(f"line {number}: not JSON ({why}); is this a `dapr-explorer export` file?") from None
    if not isinstance(record, dict) or not isinstance(record.get("id"), str):
        raise BadLine(f"line {number}: not an export record (no string 'id')")
    doc_id = record["id"]
    shown = doc_id.replace("\r", "\\r").replace("\n", "\\n")  # the message stays one line
    partition = record.get("partitionKey")
    if not isinstance(partition, str):
        raise BadLine(f"line {number} ({shown}): no string partitionKey; Dapr cannot address such an item")
    if "document" in record or record.get("isBinary") not in (True, False):
        raise BadLine(f"line {number} ({shown}): the item was not written by Dapr (no value/isBinary); "
                      "it cannot be written back through Dapr")
    value = record.get("value")
    if record["isBinary"]:
        if not isinstance(value, dict) or not isinstance(value.get("base64"), str):
            raise BadLine(f"line {number} ({shown}): isBinary but the value is not {{\"base64\": …}}")
        try:
            data = base64.b64decode(value["base64"], validate=True)
        except (binascii.Error, ValueError):
            raise BadLine(f"line {number} ({shown}): the value's base64 is not valid") from None
    else:
        try:
            data = orjson.dumps(value)
        except orjson.JSONEncodeError:  # integers past 64 bits, or nesting deeper than orjson writes
            try:
                data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
            except UnicodeEncodeError:
                raise BadLine(f"line {number} ({shown}): the value holds half a surrogate pair (\\ud800-\\udfff "
                              "alone), which is not text Dapr can store") from None
    ttl, ts = record.get("ttl"), record.get("ts")
    ttl = ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None
    ts = ts if isinstance(ts, int) and not isinstance(ts, bool) else None
    etag = record.get("etag") if isinstance(record.get("etag"), str) else None
    return Exported(doc_id, partition, data, bool(record["isBinary"]), ttl, ts, etag)


class ImportStep(enum.Enum):
    CREATE = "create"  # absent now: created (only if still absent)
    OVERWRITE = "overwrite"  # changed since the export, and overwriting was asked for: etag-checked
    UNCHANGED = "unchanged"  # the same etag as exported: nothing to write
    SKIP = "skip"  # changed since the export (not asked to overwrite), expired, or not writable


@dataclass(frozen=True)
class ImportDecision:
    exported: Exported
    state_key: StateKey
    step: ImportStep
    ttl_in_seconds: str | None = None
    current_etag: str | None = None  # the etag the write is checked against (OVERWRITE)
    reason: str = ""


def decide_import(exported: Exported, current_etag: str | None, exists: bool, key_prefix: KeyPrefix, store: str,
                  ttl_mode: str, overwrite: bool, now: float) -> ImportDecision:
    """What the import does with one exported key, given what the store holds now."""
    state_key = parse_document_id(exported.doc_id, key_prefix, store)
    reason = state_key.read_only_reason
    if reason:
        return ImportDecision(exported, state_key, ImportStep.SKIP, reason=reason.split(":")[0])
    if exists and exported.etag is not None and current_etag == exported.etag:
        return ImportDecision(exported, state_key, ImportStep.UNCHANGED, reason="unchanged since the export")
    ttl, why = exported.ttl_for_import(ttl_mode, now)
    if why:
        return ImportDecision(exported, state_key, ImportStep.SKIP, reason=why)
    if not exists:
        return ImportDecision(exported, state_key, ImportStep.CREATE, ttl)
    if not overwrite:
        return ImportDecision(exported, state_key, ImportStep.SKIP, current_etag=current_etag,
                              reason="changed since the export (--overwrite-changed writes over it)")
    return ImportDecision(exported, state_key, ImportStep.OVERWRITE, ttl, current_etag)


@dataclass
class ImportPlan:
    decisions: list[ImportDecision] = field(default_factory=list)

    def of(self, step: ImportStep) -> list[ImportDecision]:
        return [d for d in self.decisions if d.step is step]

    @property
    def writes(self) -> list[ImportDecision]:
        return [d for d in self.decisions if d.step in (ImportStep.CREATE, ImportStep.OVERWRITE)]

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


def side_key(exported: Exported) -> SideKey:
    return SideKey(exported.doc_id, exported.partition, exported.data, exported.is_binary, exported.ttl)


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
    if (left.ttl if left.ttl != -1 else None) != (right.ttl if right.ttl != -1 else None):
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
    from explorer.core.model import value_bytes_of

    if document.get("isBinary") not in (True, False) or "value" not in document:
        return None
    ttl = document.get("ttl")
    return SideKey(str(document.get("id")), str(document.get("partitionKey")), value_bytes_of(document),
                   bool(document["isBinary"]), ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else None)


def read_export(lines: Iterable[bytes | str]) -> Iterator[Exported]:
    """Every record of an export file, in order; a bad line raises BadLine with its number."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield parse_export_line(line, number)
