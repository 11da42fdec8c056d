"""Carrying out a bulk action's plan (explorer.core.bulk) through the session's one write path.

What it is for: the many-keys half of the explorer's writes. Each key of the plan is written by
`ExplorerSession.write` — so each is etag-checked, goes through daprd with Dapr's envelope, and
leaves its audit line — a few at a time; a key changed or gone since the dry run is skipped and
reported, never overwritten. Progress is reported after every key; a cancel stops cleanly
between keys: writes already sent finish and are counted, none is started after it.

What it must never do: write a key with an etag other than the one the dry run listed, retry a
refused write, write in a read-only session (the session refuses before anything is sent), or
hold more than the plan and the few keys in flight.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import TypeVar

from explorer.core.bulk import BulkAction, BulkPlan, BulkReport, ItemOutcome, Target
from explorer.core.model import TtlChoice, TtlMode
from explorer.core.writes import KeyChange, NewValue, WriteKind
from explorer.audit import AuditUnavailable
from explorer.errors import EtagConflict, ExplorerError, NotFound, ReadOnlyRefusal, describe

#: Writes in flight at once (daprd and Cosmos take them in parallel; the audit log stays in order
#: per key, not across keys).
CONCURRENCY = 8

#: Workers per write at daprd: a worker whose write was answered waits for its audit line without
#: holding a place at daprd, so while lines wait for a shared flush (explorer.audit: up to its linger)
#: the other workers keep daprd busy.
WAITING_PER_WRITE = 8

Progress = Callable[[BulkReport], None]
T = TypeVar("T")


class _Places:
    """At most `n` holders at once; a place given back goes straight to the longest waiter.

    What asyncio.Semaphore does, without its cost per call that grows with the waiters (it scans
    them on every acquire and release): a bulk action has dozens of workers waiting for a place at
    daprd, and takes and gives back a place for every key."""

    def __init__(self, n: int) -> None:
        self._free = n
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    async def take(self) -> None:
        if self._free and not self._waiters:
            self._free -= 1
            return
        place = asyncio.get_running_loop().create_future()
        self._waiters.append(place)
        try:
            await place  # handed over by give_back: the count of free places was not raised for it
        except asyncio.CancelledError:
            if place.done() and not place.cancelled():
                self.give_back()  # handed over just as this waiter was cancelled: pass it on
            raise

    def give_back(self) -> None:
        while self._waiters:
            place = self._waiters.popleft()
            if not place.done():
                place.set_result(None)
                return
        self._free += 1


async def unchanged_since_dry_run(session, location, doc_id: str, partition: str, etag: str | None):
    """The key as it is now, if it still has the etag the dry run saw: (key, ""), else (None, why)."""
    try:
        now = await session.read(location, doc_id, partition)
    except NotFound:
        return None, "deleted since the dry run"
    if now.etag != etag:
        return None, f"changed since the dry run (etag {etag} → {now.etag})"
    return now, ""


async def _write_one(session, location, plan: BulkPlan, target: Target, sent=None) -> tuple[ItemOutcome, str]:
    listed = target.listed
    if plan.action is BulkAction.DELETE:
        change = KeyChange(WriteKind.DELETE, target.state_key, listed.partition, listed.etag)
        before = None
        ttl = None
    else:
        before, why = await unchanged_since_dry_run(session, location, listed.doc_id, listed.partition, listed.etag)
        if before is None:
            return ItemOutcome.SKIPPED, why
        ttl = TtlChoice(TtlMode.SET, plan.ttl_seconds) if plan.action is BulkAction.SET_TTL else TtlChoice(TtlMode.NONE)
        value = NewValue.raw(before.value_bytes) if before.is_binary else NewValue.json_bytes(before.value_bytes)
        change = KeyChange.save(before, value, ttl, time.time())
    try:
        await session.write(location, change, before=before, ttl_choice=ttl, sent=sent)
    except EtagConflict:
        return ItemOutcome.SKIPPED, f"changed or gone since the dry run (etag {listed.etag} no longer matches)"
    return ItemOutcome.DONE, ""


async def run_writes(items: Sequence[T], write_one: Callable[[T], Awaitable[tuple[ItemOutcome, str]]],
                     where: Callable[[T], tuple[str, str]], on_progress: Progress | None = None,
                     cancel: asyncio.Event | None = None, concurrency: int = CONCURRENCY) -> BulkReport:
    """Run `write_one(item, sent)` for every item, `concurrency` writes at daprd at a time (`sent()`,
    called once the write is answered, frees its place while its audit line reaches the disk, so
    the disk's fsync does not hold the next write back); the report of what was done, skipped
    and failed (`where` names an item's document id and partition). What stops every write alike
    (read-only, an audit log that cannot be written) stops the run: raised if nothing was written,
    else the report says so (`stopped`) and counts the rest as not tried."""
    report = BulkReport(len(items))
    pending = iter(items)
    fatal: list[BaseException] = []

    slots = _Places(concurrency)  # writes at daprd at once; a write waiting for its audit line holds none

    def stopping() -> bool:
        return (cancel is not None and cancel.is_set()) or bool(fatal)

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item is taken by one worker
            if stopping():
                return
            await slots.take()
            held = [True]

            def sent() -> None:  # the write is answered: its slot goes to the next key while its line is synced
                if held[0]:
                    held[0] = False
                    slots.give_back()

            try:
                if stopping():  # cancelled while waiting for a slot: this key is not tried
                    return
                outcome, reason = await write_one(item, sent)
            except (ReadOnlyRefusal, AuditUnavailable) as exc:  # every later write would fail alike
                fatal.append(exc)
                outcome, reason = ItemOutcome.FAILED, describe(exc)
            except ExplorerError as exc:
                outcome, reason = ItemOutcome.FAILED, describe(exc)
            finally:
                sent()
            report.add(*where(item), outcome, reason)
            if on_progress is not None:
                on_progress(report)

    workers = max(1, min(WAITING_PER_WRITE * concurrency, len(items) or 1))
    await asyncio.gather(*(worker() for _ in range(workers)))
    if fatal and report.done == 0 and len(report.failed) == report.tried:
        raise fatal[0]  # nothing was written: one error, as for a single write
    if fatal:
        report.stopped = describe(fatal[0])
    report.cancelled = cancel is not None and cancel.is_set() and report.remaining > 0
    return report


async def run_plan(session, location, plan: BulkPlan, on_progress: Progress | None = None,
                   cancel: asyncio.Event | None = None, concurrency: int = CONCURRENCY) -> BulkReport:
    """Write every key of a bulk plan (see run_writes)."""
    return await run_writes(plan.targets, partial(_write_one, session, location, plan),
                            lambda t: (t.listed.doc_id, t.listed.partition), on_progress, cancel, concurrency)
