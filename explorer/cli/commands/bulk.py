"""`dapr-explorer bulk`: delete, set or remove the TTL of every key of some partitions, after a dry run
and the count typed.

What it is for: many keys changed at once, each through the one write path with its own etag.
What it must never do: write before the count is typed, or write a key that changed since it was
listed (it is skipped).
"""

from __future__ import annotations

import argparse
import sys

from explorer.cli.confirm import confirm_and_run
from explorer.cli.commands.keys import partition_arg
from explorer.cli.output import emit_json, print
from explorer.core.bulk import BulkAction, Listed, make_plan
from explorer.core.display import terminal_safe
from explorer.core.model import StoreLocation
from explorer.errors import UsageError
from explorer.session.bulk import refused_writes, run_plan
from explorer.session.explorer_session import ExplorerSession


async def _bulk_listing(session: ExplorerSession, location: StoreLocation, args: argparse.Namespace):
    """The keys a bulk action picks: every key of the given partitions, as listed (with etags)."""
    for text in args.partition:
        pk = partition_arg(text)
        async for row in session.listed_keys(location, pk):
            yield Listed(row.id, row.partition_key, row.etag, row.ttl)


async def cmd_bulk(session: ExplorerSession, args: argparse.Namespace) -> int:
    """`dapr-explorer bulk STORE ACTION --partition PK…`: a dry run, the typed count, then each key
    through the one write path with its own etag; a report of what was done, skipped and failed."""
    action = BulkAction(args.action)
    if action is BulkAction.SET_TTL and args.ttl is None:
        raise UsageError("set-ttl needs --ttl SECONDS")
    if action is not BulkAction.SET_TTL and args.ttl is not None:
        raise UsageError(f"--ttl is for set-ttl; {action.value} takes none")
    location = await session.location(args.store)
    listed = [item async for item in _bulk_listing(session, location, args)]
    try:
        plan = make_plan(location.store, location.key_prefix, action, listed, args.ttl)
    except ValueError as exc:
        raise UsageError(f"--ttl: {exc}") from None
    if args.json and args.dry_run:
        for target in plan.targets:
            emit_json({"key": target.state_key.key, "id": target.listed.doc_id, "partitionKey": target.listed.partition,
                       "etag": target.listed.etag, "ttl": target.listed.ttl, "action": action.value})
    elif args.dry_run:
        for target in plan.targets[:args.show]:
            print(f"  {terminal_safe(target.state_key.key)}  [{terminal_safe(str(target.listed.partition))}]  "
                  f"etag {target.listed.etag}")
        if plan.count > args.show:
            print(f"  … and {plan.count - args.show:,} more (--show N lists more)")
    print(f"dry run: would {plan.summary()}", file=sys.stderr)
    if args.dry_run or plan.count == 0:
        return 0
    return await confirm_and_run(session, args, location, plan.count, plan.confirmation_prompt(), plan.in_words(),
                                 refused_writes(plan),
                                 lambda progress, cancel: run_plan(session, location, plan, progress, cancel))
