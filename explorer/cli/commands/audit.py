"""`dapr-explorer audit`: the audit log of this user's writes, oldest first, with each write's diff on
request.

What it is for: the log alone (no component files, sidecar or Cosmos). What it must never do:
write the log, or print a record's text without `markup_safe`.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

from rich.console import Console

from explorer.cli.output import emit_json, print
from explorer.core.audit import diff_lines, parse_since
from explorer.core.display import markup_safe
from explorer.errors import UsageError
from explorer.session.audit_log import AuditLog


def cmd_audit(args: argparse.Namespace) -> int:
    """`dapr-explorer audit`: the audit log's records, oldest first (explorer.session.audit_log)."""
    since = None
    if args.since is not None:
        try:
            since = parse_since(args.since, time.time())
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    log = AuditLog()
    read = log.read(since)
    records = [r for r in read.records if args.store is None or r.store == args.store]
    if args.json:
        for record in records:
            emit_json(dataclasses.asdict(record))
    else:
        console = Console(highlight=False)
        for r in records:
            _print_audit_record(console, r, args.diff)
        if not records:
            print(f"no writes recorded{' in that time' if since is not None else ''} in {log.path}", file=sys.stderr)
    if read.unreadable:
        print(f"dapr-explorer: {read.unreadable} line(s) of {log.path} are not audit records (skipped)", file=sys.stderr)
    return 0


_OUTCOME_STYLE = {"done": "green", "unverified": "yellow", "conflict": "yellow", "skipped": "yellow", "refused": "red",
                  "failed": "red"}


def _print_audit_record(console: Console, r, with_diff: bool) -> None:
    """One write in three lines (and its diff, indented): readable at 80 columns."""
    style = _OUTCOME_STYLE.get(r.outcome, "")
    console.print(f"{markup_safe(r.time)}  [bold]{markup_safe(r.operation)}[/] {markup_safe(r.key)}  "
                  f"[dim]partition[/] {markup_safe(r.partition_key)}  [{style}]{markup_safe(r.outcome)}[/]")
    console.print(f"  {markup_safe(r.store)} · {markup_safe(r.user)}@{markup_safe(r.host)} · context {markup_safe(r.context or '-')} · "
                  f"identity {markup_safe(r.identity or '-')}", style="dim")
    value = r.value_before if r.operation == "delete" else r.value_after
    size = "" if value.bytes is None else f" · {value.bytes} B sha256 {value.sha256[:12]}…"
    console.print(f"  etag {markup_safe(r.etag_before or '-')} → {markup_safe(r.etag_after or '-')} · "
                  f"ttl {markup_safe(r.ttl_choice or '-')}{markup_safe(size)}", style="dim")
    if r.error:
        console.print(f"  {markup_safe(r.error)}", style=style)
    if with_diff:
        for line in diff_lines(r):
            colour = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
            console.print(f"    {markup_safe(line)}", style=colour, soft_wrap=True)
