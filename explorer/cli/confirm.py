"""The typed confirmations of the write commands: a production context's name, and the count of a
bulk or import run, each read from stdin before anything is sent.

What it is for: `set`, `delete`, `bulk` and `import` (and the entry point, for any other write
command) ask here. What it must never do: send a write itself, or let a write through when what
was typed is not what was asked (end of input refuses too).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal
import sys
import time

from explorer.cli.output import emit_json, print
from explorer.core.bulk import count_typed
from explorer.core.contexts import typed_name_matches
from explorer.core.display import terminal_safe
from explorer.core.model import StoreLocation
from explorer.errors import ReadOnlyRefusal, describe
from explorer.session.explorer_session import ExplorerSession


def confirm_or_refuse(session: ExplorerSession, args: argparse.Namespace, what: str, location: StoreLocation,
                      writes) -> None:
    """`confirm_typed_name`; when the name is not typed, the "refused" audit line of every write that
    would have been sent — `writes`, as ExplorerSession.record_refusals takes them — before it is said."""
    try:
        confirm_typed_name(args, what)
    except ReadOnlyRefusal as exc:
        session.record_refusals(location, writes, describe(exc))
        raise


def confirm_typed_name(args: argparse.Namespace, what: str) -> None:
    """In a production context opened with --allow-writes (`args.confirm_name`), ask on stderr for the
    context's name and read one line from stdin; anything but the name (or end of input) refuses the
    write before it is sent (exit 5)."""
    name = getattr(args, "confirm_name", None)
    if not name:
        return
    print(f"context '{name}' is PRODUCTION. About to {what}.\nType the context's name to write: ",
          end="", file=sys.stderr, flush=True)
    typed = sys.stdin.readline()
    if not typed:
        print(file=sys.stderr)
        raise ReadOnlyRefusal(f"no name was typed (end of input): the write to production context '{name}' is "
                              "refused. Nothing was sent.")
    if not typed_name_matches(name, typed):
        raise ReadOnlyRefusal(f"what was typed is not '{name}': the write to production context '{name}' is refused. "
                              "Nothing was sent.")


async def confirm_and_run(session: ExplorerSession, args: argparse.Namespace, location: StoreLocation, count: int,
                          prompt: str, what: str, writes, run) -> int:
    """The typed count (or --confirm), then in a production context its name (`what`: the run in words;
    not typed: the "refused" audit line of each of `writes`, as ExplorerSession.record_refusals takes
    them), then `run(progress, cancel)` with a progress line on stderr and Ctrl-C as a clean cancel
    between keys; the report, and the exit code: 0 all done, 4 some skipped, 1 some failed (or
    stopped), 130 cancelled; 5 when the count typed is not `count` or the name is not typed."""
    if args.confirm is not None:
        typed = args.confirm
    else:
        print(f"{prompt}: ", end="", file=sys.stderr, flush=True)
        typed = sys.stdin.readline()
    if not count_typed(count, typed):
        raise ReadOnlyRefusal(f"the count typed was not {count}: nothing was written.")
    confirm_or_refuse(session, args, what, location, writes)
    cancel = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, cancel.set)
    last = [0.0]

    def progress(report) -> None:
        now = time.monotonic()
        if now - last[0] >= 0.5 or report.tried == count:
            last[0] = now
            print(f"\r{report.tried:,}/{count:,} · {report.summary()}", end="", file=sys.stderr, flush=True)

    try:
        report = await run(progress, cancel)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        print(file=sys.stderr)
    if args.json:
        emit_json({"done": report.done, "skipped": [dataclasses.asdict(p) for p in report.skipped],
                   "failed": [dataclasses.asdict(p) for p in report.failed], "notTried": report.remaining,
                   "cancelled": report.cancelled, "stopped": report.stopped})
    for label, items in (("skipped", report.skipped), ("failed", report.failed)):
        for passed in items[:20]:
            print(f"{label}: {terminal_safe(passed.doc_id)} [{terminal_safe(str(passed.partition))}]: "
                  f"{terminal_safe(passed.reason)}", file=sys.stderr)
        if len(items) > 20:
            print(f"{label}: … and {len(items) - 20:,} more", file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    if report.cancelled:
        return 130
    if report.failed or report.stopped:
        return 1
    return 4 if report.skipped else 0
