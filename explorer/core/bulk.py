"""Bulk actions on many keys, decided before any write: the dry run, its confirmation, the report.

What it is for: turning the keys a user picked (a partition, a search's results, marked rows) into
a `BulkPlan` — each key with the etag it had when it was listed, and the keys that cannot take
the action with the reason (actor and workflow state, a key without a TTL to remove, an id Dapr
cannot delete on Cosmos DB) — that the
dry run shows and the user confirms by typing its count; and the `BulkReport` of what was done,
skipped (changed or gone since the dry run: never overwritten) and failed. explorer.session.bulk carries
a plan out through the session's one write path; this module does no I/O.

What it must never do: decide a write without the etag the key had when it was listed (a key
changed since then must be skipped, not overwritten), or accept a confirmation that is not the
exact count.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from explorer.core.envelope import KeyPrefix, StateKey, parse_document_id
from explorer.core.expiry import MAX_TTL
from explorer.core.writes import undeletable_reason


class BulkAction(enum.Enum):
    DELETE = "delete"
    SET_TTL = "set-ttl"  # save each value again, unchanged, with ttlInSeconds N (the countdown restarts)
    REMOVE_TTL = "remove-ttl"  # save each value again, unchanged, with ttlInSeconds -1 (never expires)

    def verb(self, ttl_seconds: int | None = None) -> str:
        if self is BulkAction.DELETE:
            return "delete"
        if self is BulkAction.SET_TTL:
            return f"set a TTL of {ttl_seconds:,} s on"
        return "remove the TTL of"


@dataclass(frozen=True)
class Listed:
    """A key as it was listed: enough to write it with its etag (the value is read when needed)."""

    doc_id: str
    partition: str
    etag: str
    ttl: int | None = None


@dataclass(frozen=True)
class Target:
    listed: Listed
    state_key: StateKey


@dataclass(frozen=True)
class Passed:
    """A listed key the action does not apply to, and why."""

    doc_id: str
    partition: str
    reason: str


@dataclass
class BulkPlan:
    """What a bulk action would change: the dry run."""

    store: str
    action: BulkAction
    targets: list[Target]
    passed: list[Passed]
    ttl_seconds: int | None = None

    @property
    def count(self) -> int:
        return len(self.targets)

    def summary(self) -> str:
        """One line: what, how many, where, and how many keys it leaves alone and why."""
        text = self.in_words()
        if self.passed:
            reasons = Counter(p.reason for p in self.passed)
            text += f"; {len(self.passed):,} left alone (" + ", ".join(f"{n:,} {r}" for r, n in reasons.most_common()) + ")"
        return text

    def in_words(self) -> str:
        """What confirming it does, e.g. for a production context's name prompt."""
        return f"{self.action.verb(self.ttl_seconds)} {self.count:,} key{'' if self.count == 1 else 's'} in {self.store}"

    def confirmation_prompt(self) -> str:
        return f"Type {self.count} to {self.action.verb(self.ttl_seconds)} {self.count:,} keys in {self.store}"


def make_plan(store: str, key_prefix: KeyPrefix, action: BulkAction, listed: Iterable[Listed],
              ttl_seconds: int | None = None) -> BulkPlan:
    """The dry run of `action` over `listed` keys (each key once, in the order given)."""
    if action is BulkAction.SET_TTL and (ttl_seconds is None or not 0 < ttl_seconds <= MAX_TTL):
        raise ValueError(f"a TTL is a whole number of seconds from 1 to {MAX_TTL}")
    targets: list[Target] = []
    passed: list[Passed] = []
    seen: set[tuple[str, str]] = set()
    for item in listed:
        if (item.doc_id, item.partition) in seen:
            continue
        seen.add((item.doc_id, item.partition))
        state_key = parse_document_id(item.doc_id, key_prefix, store)
        reason = state_key.read_only_reason
        if reason:
            passed.append(Passed(item.doc_id, item.partition, reason.split(":")[0]))
        elif action is BulkAction.DELETE and (undeletable := undeletable_reason(item.doc_id)):
            passed.append(Passed(item.doc_id, item.partition, undeletable))
        elif action is BulkAction.REMOVE_TTL and (item.ttl is None or item.ttl == -1):
            passed.append(Passed(item.doc_id, item.partition, "no TTL to remove"))
        else:
            targets.append(Target(item, state_key))
    return BulkPlan(store, action, targets, passed, ttl_seconds if action is BulkAction.SET_TTL else None)


_COUNT = re.compile(r"^\s*(\d{1,3}(?:,\d{3})+|\d+)\s*$")


def count_typed(count: int, typed: str) -> bool:
    """Whether `typed` is `count` (digits, thousands commas allowed); 0 keys is never confirmed."""
    match = _COUNT.match(typed)
    return count > 0 and match is not None and int(match.group(1).replace(",", "")) == count


def confirmed(plan: BulkPlan, typed: str) -> bool:
    return count_typed(plan.count, typed)


class ItemOutcome(enum.Enum):
    DONE = "done"
    SKIPPED = "skipped"  # changed or gone since the dry run: left as it is
    FAILED = "failed"


@dataclass
class BulkReport:
    """What a bulk action did; `remaining` keys were not tried (cancelled, or stopped by a failure)."""

    plan_count: int
    done: int = 0
    skipped: list[Passed] = field(default_factory=list)
    failed: list[Passed] = field(default_factory=list)
    cancelled: bool = False
    stopped: str | None = None  # why the run stopped before the end (every later write would have failed)

    @property
    def tried(self) -> int:
        return self.done + len(self.skipped) + len(self.failed)

    @property
    def remaining(self) -> int:
        return self.plan_count - self.tried

    def add(self, doc_id: str, partition: str, outcome: ItemOutcome, reason: str = "") -> None:
        if outcome is ItemOutcome.DONE:
            self.done += 1
        else:
            (self.skipped if outcome is ItemOutcome.SKIPPED else self.failed).append(Passed(doc_id, partition, reason))

    def summary(self) -> str:
        text = f"{self.done:,} done, {len(self.skipped):,} skipped, {len(self.failed):,} failed"
        if self.cancelled:
            text += f"; cancelled with {self.remaining:,} not tried"
        elif self.stopped:
            text += f"; stopped with {self.remaining:,} not tried: {self.stopped}"
        elif self.remaining:
            text += f"; {self.remaining:,} not tried"
        return text
