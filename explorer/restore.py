"""Carrying out an import (explorer.core.restore) through the session's one write path.

What it is for: `dapr-explorer import`. For each exported key the dry run decided to write, the
write goes through `ExplorerSession.write` — daprd, Dapr's envelope, an etag check, an audit line
— with the recorded value in its recorded shape, the recorded partitionKey and the decided TTL. A
key created, changed or deleted by someone else since the dry run is skipped, never overwritten.

What it must never do: write without the etag the dry run read (or create over a key that
appeared meanwhile), or send a TTL other than the decided one.
"""

from __future__ import annotations

import dataclasses
import time

from explorer.bulk import unchanged_since_dry_run
from explorer.core.bulk import ItemOutcome
from explorer.core.model import TtlChoice, TtlMode
from explorer.core.restore import ImportDecision, ImportStep
from explorer.core.writes import KeyChange, NewValue
from explorer.errors import EtagConflict


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
    ttl = _ttl_choice(decision.ttl_in_seconds)
    if decision.step is ImportStep.CREATE:
        change = dataclasses.replace(KeyChange.create(decision.state_key, exported.partition, value, TtlChoice()),
                                     ttl_seconds=decision.ttl_in_seconds)
        before = None
    else:
        before, why = await unchanged_since_dry_run(session, location, exported.doc_id, exported.partition,
                                                    decision.current_etag)
        if before is None:
            return ItemOutcome.SKIPPED, why
        change = dataclasses.replace(KeyChange.save(before, value, TtlChoice(), time.time(), change_shape=True),
                                     ttl_seconds=decision.ttl_in_seconds)
    try:
        await session.write(location, change, before=before, ttl_choice=ttl, on_logged=on_logged, planned=True)
    except EtagConflict:
        return ItemOutcome.SKIPPED, "written by someone else since the dry run"
    return ItemOutcome.DONE, ""


def refused_writes(decisions):
    """The writes an import would send, as ExplorerSession.record_refusals takes them (a production
    context's name not typed)."""
    return ((d.state_key, d.exported.partition, "create" if d.step is ImportStep.CREATE else "save", None,
             d.current_etag) for d in decisions)
