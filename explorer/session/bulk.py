"""Carrying out a bulk action's plan (explorer.core.bulk) through the session's one write path.

What it is for: the many-keys half of the explorer's writes. Each key of the plan is written by
`ExplorerSession.write` — so each is etag-checked, goes through daprd with Dapr's envelope, and
leaves its audit line — a few at a time; a key changed or gone since the dry run is skipped,
reported and audited as `skipped`, never overwritten and never counted done (a delete is checked
by the store against the listed etag: a key someone else deleted is KeyGone, not deleted by us).
Progress is reported after every key, once its audit line is on disk; a cancel stops cleanly
between keys: writes already sent finish and are counted, none is started after it.

What it must never do: write a key with an etag other than the one the dry run listed, retry a
refused write, write in a read-only session (the session refuses before anything is sent), report
a key before its audit line is on disk, or hold more than the plan, the few keys in flight and
the lines waiting for the disk (LINES_AHEAD at most).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from explorer.core.bulk import BulkAction, BulkPlan, BulkReport, ItemOutcome, Target
from explorer.core.envelope import parse_document_id
from explorer.core.model import TtlChoice, TtlMode
from explorer.core.writes import KeyChange, NewValue, WriteKind
from explorer.session.audit_log import AuditUnavailable
from explorer.errors import EtagConflict, ExplorerError, KeyGone, NotFound, ReadOnlyRefusal, describe

#: Writes in flight at once (daprd and Cosmos take them in parallel; the audit log stays in order
#: per key, not across keys).
CONCURRENCY = 8

#: Audit lines of answered writes that may wait for the disk at once before a worker waits too: the
#: most keys that can be written between an audit log failing and the run stopping (each then
#: reported "written, but its audit line was lost"). Four flushes' worth (explorer.session.audit_log.LINGER_LINES):
#: 64, with a linger that only timed out, capped the rate at ~2,400 keys a second (measured: 70-74 %
#: of a bare client doing 3,300-3,400).
LINES_AHEAD = 256

Progress = Callable[[BulkReport], None]
Logged = Callable[[asyncio.Future], None]  # takes a write's audit line (see ExplorerSession.write)
T = TypeVar("T")


#: Why a key of a confirmed dry run was not written: reported, and kept in its `skipped` audit line.
GONE = "deleted by someone else since the dry run"


def changed(etag: str | None, now: str | None = None) -> str:
    return f"changed by someone else since the dry run (etag {etag} → {now})" if now else \
        f"changed by someone else since the dry run (etag {etag} no longer matches)"


async def unchanged_since_dry_run(session, location, doc_id: str, partition: str, etag: str | None, on_logged=None):
    """The key as it is now, if it still has the etag the dry run saw: (key, ""), else (None, why)
    once its `skipped` audit line is on disk (or handed to `on_logged`, as ExplorerSession.write does)."""
    try:
        now = await session.read(location, doc_id, partition)
    except NotFound:
        why = GONE
    else:
        if now.etag == etag:
            return now, ""
        why = changed(etag, now.etag)
    state_key = parse_document_id(doc_id, location.key_prefix, location.store)
    await session.record_skip(location, KeyChange(WriteKind.SAVE, state_key, partition, etag), why, on_logged)
    return None, why


async def _write_one(session, location, plan: BulkPlan, target: Target, on_logged=None) -> tuple[ItemOutcome, str]:
    listed = target.listed
    if plan.action is BulkAction.DELETE:
        # Checked by the store against the listed etag: a key deleted meanwhile is KeyGone, never "done".
        change = KeyChange(WriteKind.DELETE, target.state_key, listed.partition, listed.etag)
        before = None
        ttl = None
    else:
        before, why = await unchanged_since_dry_run(session, location, listed.doc_id, listed.partition, listed.etag,
                                                    on_logged)
        if before is None:
            return ItemOutcome.SKIPPED, why
        ttl = TtlChoice(TtlMode.SET, plan.ttl_seconds) if plan.action is BulkAction.SET_TTL else TtlChoice(TtlMode.NONE)
        value = NewValue.raw(before.value_bytes) if before.is_binary else NewValue.json_bytes(before.value_bytes)
        change = KeyChange.save(before, value, ttl, time.time())
    try:
        await session.write(location, change, before=before, ttl_choice=ttl, on_logged=on_logged, planned=True)
    except KeyGone:
        return ItemOutcome.SKIPPED, GONE
    except EtagConflict:
        return ItemOutcome.SKIPPED, changed(listed.etag)
    return ItemOutcome.DONE, ""


def refused_writes(plan: BulkPlan):
    """The writes a plan would send, as ExplorerSession.record_refusals takes them (its name not typed)."""
    operation = "delete" if plan.action is BulkAction.DELETE else "save"
    return ((t.state_key, t.listed.partition, operation, None, t.listed.etag) for t in plan.targets)


async def run_writes(items: Sequence[T], write_one: Callable[[T, Logged], Awaitable[tuple[ItemOutcome, str]]],
                     where: Callable[[T], tuple[str, str]], on_progress: Progress | None = None,
                     cancel: asyncio.Event | None = None, concurrency: int = CONCURRENCY) -> BulkReport:
    """Run `write_one(item, on_logged)` for every item, `concurrency` at a time; the report of what
    was done, skipped and failed (`where` names an item's document id and partition).

    `write_one` passes `on_logged` to ExplorerSession.write, which hands it the write's audit line
    (a future) instead of waiting for the disk: the worker sends its next key at once, as a bare
    client would, and the key is reported only once its line is on disk (at most LINES_AHEAD lines
    wait at once). What stops every write alike (read-only, an audit log that cannot be written)
    stops the run: raised if nothing was written, else the report says so (`stopped`) and counts
    the rest as not tried."""
    report = BulkReport(len(items))
    pending = iter(items)
    fatal: list[BaseException] = []
    syncing: set[asyncio.Future] = set()  # audit lines of keys answered by daprd, not yet on disk
    lost_lines: list[asyncio.Future] = []  # lines of keys answered by daprd that never reached the disk

    def stopping() -> bool:
        return (cancel is not None and cancel.is_set()) or bool(fatal)

    def finish(item: T, outcome: ItemOutcome, reason: str) -> None:
        report.add(*where(item), outcome, reason)
        if on_progress is not None:
            on_progress(report)

    def logged(item: T, outcome: ItemOutcome, reason: str, line: asyncio.Future) -> None:
        syncing.discard(line)
        if line.cancelled():
            finish(item, ItemOutcome.FAILED, "cancelled before its audit line was confirmed on disk")
        elif (error := line.exception()) is not None:  # daprd answered, but the line could not be kept: the log is unusable now
            fatal.append(error)
            lost_lines.append(line)
            what = "written" if outcome is ItemOutcome.DONE else "not written"
            finish(item, ItemOutcome.FAILED, f"{what}, but its audit line was lost: {describe(error)}")
        else:
            finish(item, outcome, reason)

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item is taken by one worker
            if stopping():
                return
            lines: list[asyncio.Future] = []
            try:
                outcome, reason = await write_one(item, lines.append)
            except (ReadOnlyRefusal, AuditUnavailable) as exc:  # every later write would fail alike
                fatal.append(exc)
                outcome, reason = ItemOutcome.FAILED, describe(exc)
            except ExplorerError as exc:
                outcome, reason = ItemOutcome.FAILED, describe(exc)
            if not lines:  # nothing was sent (or skipped before writing): nothing to wait for
                finish(item, outcome, reason)
                continue
            line = lines[-1]
            syncing.add(line)
            line.add_done_callback(partial(logged, item, outcome, reason))
            if len(syncing) >= LINES_AHEAD:  # the disk is slower than daprd: wait for it
                await asyncio.wait([line])

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(items) or 1)))))
    while syncing:  # the keys in flight when the run stopped: each is reported once its line is on disk
        await asyncio.wait(list(syncing))
    if fatal and report.done == 0 and len(report.failed) == report.tried and not lost_lines:
        raise fatal[0]  # nothing was sent: one error, as for a single write
    if fatal:
        report.stopped = describe(fatal[0])
    report.cancelled = cancel is not None and cancel.is_set() and report.remaining > 0
    return report


async def run_plan(session, location, plan: BulkPlan, on_progress: Progress | None = None,
                   cancel: asyncio.Event | None = None, concurrency: int = CONCURRENCY) -> BulkReport:
    """Write every key of a bulk plan (see run_writes)."""
    return await run_writes(plan.targets, partial(_write_one, session, location, plan),
                            lambda t: (t.listed.doc_id, t.listed.partition), on_progress, cancel, concurrency)
