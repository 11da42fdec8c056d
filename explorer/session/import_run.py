"""Carrying out an import (explorer.core.import_plan) through the session's one write path.

What it is for: `dapr-explorer import` and the TUI's import view, which share all of it: the
export file read (`read_export_file`: a line too long, not UTF-8 or not JSON is refused with its
number), the dry run (`dry_run`: every line checked against `set`'s rules and the store's key
prefix before the store is read, then each key decided against what the store holds now), and the
run (`run_import`). For each exported key the dry run decided to write, the write goes through
`ExplorerSession.write` — daprd, Dapr's envelope, an etag check, an audit line — with the
recorded value in its recorded shape, the recorded partitionKey and the decided TTL. A key
created, changed or deleted by someone else since the dry run is skipped, never overwritten; the
report counts it skipped, and so it counts the keys the dry run skipped because they changed
since the export.

What it must never do: write without the etag the dry run read (or create over a key that
appeared meanwhile), send a TTL other than the decided one (the recorded expiry instant, or the
whole ttl), or write a line `set` would refuse.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import BinaryIO

from explorer.session.bulk import run_writes, unchanged_since_dry_run
from explorer.core.bulk import BulkReport, ItemOutcome
from explorer.core.model import TtlChoice, TtlMode
from explorer.core.import_plan import (
    MAX_LINE_BYTES,
    BadLine,
    Exported,
    ImportDecision,
    ImportPlan,
    ImportStep,
    decide_import,
    importable_problem,
    read_export,
    shown_id,
)
from explorer.core.writes import KeyChange, NewValue
from explorer.errors import EtagConflict, NotFound, UsageError


def export_lines(handle: BinaryIO) -> Iterator[bytes]:
    """The lines of an open export file, none held longer than the longest line read (a longer one
    comes as a piece that read_export refuses)."""
    return iter(partial(handle.readline, MAX_LINE_BYTES + 1), b"")


def export_records(path: str, strict: bool = True, partition: str | None = None) -> Iterator[Exported]:
    """Every record of the export file at `path` (`-`: stdin), in order, only `partition`'s when
    given, read a line at a time; a file that cannot be read or a bad line is a UsageError naming
    the file (and the line). `strict`: as an import reads it (explorer.core.import_plan.parse_export_line)."""
    try:
        handle = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder: give the path of a `dapr-explorer export` file") from None
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror or exc}") from None
    try:
        with handle:
            for exported in read_export(export_lines(handle), strict):
                if partition is None or exported.partition == partition:
                    yield exported
    except BadLine as exc:
        raise UsageError(f"{path}: {exc}" + ("; nothing was written" if strict else "")) from None
    except OSError as exc:  # a read that fails part-way (an unreadable device, a file gone)
        raise UsageError(f"{path}: {exc.strerror or exc}") from None


def read_export_file(path: str, partition: str | None = None) -> list[Exported]:
    """Every record an import of `path` writes or skips (see export_records), read whole before the
    store is: a bad line anywhere stops the import before anything is written."""
    return list(export_records(path, True, partition))


async def dry_run(session, location, exported: list[Exported], ttl_mode: str, overwrite: bool,
                  progress: Callable[[int], None] | None = None) -> ImportPlan:
    """The plan: each line checked against `set`'s rules for this store first (a line Dapr cannot
    write as the item it names is a UsageError naming it: nothing is read or written), then each
    key decided against what the store holds now."""
    for item in exported:
        problem = importable_problem(item, location.key_prefix, location.store)
        if problem:
            raise UsageError(f"line {item.line} ({shown_id(item.doc_id)}): {problem}; nothing was written")
    plan, now = ImportPlan(), time.time()
    for number, item in enumerate(exported, 1):
        try:
            current_etag, exists = (await session.read(location, item.doc_id, item.partition)).etag, True
        except NotFound:
            current_etag, exists = None, False
        plan.decisions.append(decide_import(item, current_etag, exists, location.key_prefix, location.store,
                                            ttl_mode, overwrite, now, location.default_ttl))
        if progress is not None:
            progress(number)
    return plan


def _ttl_choice(ttl_in_seconds: str | None) -> TtlChoice:
    """The audit log's name for the decided TTL (the change carries the exact metadata)."""
    if ttl_in_seconds is None:
        return TtlChoice(TtlMode.KEEP)
    if ttl_in_seconds == "-1":
        return TtlChoice(TtlMode.NONE)
    return TtlChoice(TtlMode.SET, int(ttl_in_seconds))


async def import_one(session, location, decision: ImportDecision, on_logged=None) -> tuple[ItemOutcome, str]:
    exported = decision.exported
    value = NewValue.raw(exported.data) if exported.is_binary else NewValue.json_bytes(exported.data)
    ttl_seconds, expired = decision.ttl_at(time.time())  # a recorded expiry instant: the seconds left now
    if expired:
        return ItemOutcome.SKIPPED, expired
    ttl = _ttl_choice(ttl_seconds)
    if decision.step is ImportStep.CREATE:
        change = dataclasses.replace(KeyChange.create(decision.state_key, exported.partition, value, TtlChoice()),
                                     ttl_seconds=ttl_seconds)
        before = None
    else:
        before, why = await unchanged_since_dry_run(session, location, exported.doc_id, exported.partition,
                                                    decision.current_etag)
        if before is None:
            return ItemOutcome.SKIPPED, why
        change = dataclasses.replace(KeyChange.save(before, value, TtlChoice(), time.time(), change_shape=True),
                                     ttl_seconds=ttl_seconds)
    try:
        await session.write(location, change, before=before, ttl_choice=ttl, on_logged=on_logged, planned=True)
    except EtagConflict:
        return ItemOutcome.SKIPPED, "written by someone else since the dry run"
    return ItemOutcome.DONE, ""


async def run_import(session, location, plan: ImportPlan, progress=None, cancel=None) -> BulkReport:
    """Write the plan's keys (explorer.session.bulk.run_writes); the report also counts as skipped the keys
    the dry run skipped because they changed since the export (so such an import exits 4)."""
    report = await run_writes(plan.writes, partial(import_one, session, location),
                              lambda d: (d.exported.doc_id, d.exported.partition), progress, cancel)
    changed = plan.changed
    report.plan_count += len(changed)
    for decision in changed:
        report.add(decision.exported.doc_id, decision.exported.partition, ItemOutcome.SKIPPED, decision.reason)
    return report


def refused_writes(decisions):
    """The writes an import would send, as ExplorerSession.record_refusals takes them (a production
    context's name not typed)."""
    return ((d.state_key, d.exported.partition, "create" if d.step is ImportStep.CREATE else "save", None,
             d.current_etag) for d in decisions)
