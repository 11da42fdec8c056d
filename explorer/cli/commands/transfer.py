"""`dapr-explorer export`, `import` and `diff`: a store's items as JSON lines, an export file written
back through Dapr, and two sides compared key by key.

What it is for: moving and comparing whole stores or partitions. What it must never do: hold a
partition in memory while exporting, or write an import except through the one write path after
its dry run and typed count.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import Any

from rich.console import Console

from explorer.cli.confirm import confirm_and_run
from explorer.cli.commands.keys import partition_arg
from explorer.cli.output import OutputIncomplete, dumps, emit_json, print, say_throttled, value_fields
from explorer.core.display import markup_safe, terminal_safe
from explorer.core.envelope import parse_document_id
from explorer.core.import_plan import ImportStep, diff_sides
from explorer.core.model import StoreLocation
from explorer.errors import ExplorerError, UsageError
from explorer.session.diff import read_side
from explorer.session.explorer_session import ExplorerSession
from explorer.session.import_run import dry_run, read_export_file, refused_writes, run_import


def export_record(document: Mapping[str, Any], location: StoreLocation) -> dict[str, Any]:
    """One export line for a document: never raises; what cannot be read is said in `warnings`."""
    doc_id = str(document.get("id", ""))
    state_key = parse_document_id(doc_id, location.key_prefix, location.store)
    record = {"id": doc_id, "key": state_key.key, "appId": state_key.app_id, "kind": state_key.kind.name.lower(),
              "partitionKey": document.get("partitionKey"), "etag": document.get("_etag"), "ts": document.get("_ts"),
              "ttl": document.get("ttl"),
              "isBinary": document.get("isBinary")}
    record.update(value_fields(document))
    return record


async def cmd_export(session: ExplorerSession, args: argparse.Namespace) -> int:
    """JSON lines, one per item: decoded key, envelope fields and value. Streams; never holds a partition.
    Items Dapr did not write are exported as they are, with a warning; a failure part-way exits 1 and says
    how far it got."""
    say_throttled(session, args.store)
    location = await session.location(args.store)
    count = warned = 0

    async def partitions():
        if args.partition is not None:
            yield partition_arg(args.partition)
            return
        async for batch in session.partitions(location):
            for pk in batch.partitions:
                yield pk

    try:
        async for pk in partitions():
            async for document in session.documents(location, pk):
                record = export_record(document, location)
                try:
                    line = dumps(record)
                except ExplorerError as exc:
                    record = {k: v for k, v in record.items() if k not in {"value", "document"}}
                    record["warnings"] = [str(exc)]
                    line = dumps(record)
                warned += "warnings" in record
                sys.stdout.write(line + "\n")
                count += 1
    except ExplorerError as exc:
        raise OutputIncomplete.after(count, "items", exc) from exc
    print(f"exported {count} items" + (f" ({warned} with warnings: see their 'warnings')" if warned else ""),
          file=sys.stderr)
    return 0


async def cmd_import(session: ExplorerSession, args: argparse.Namespace) -> int:
    """`dapr-explorer import STORE FILE`: a dry run against what the store holds now, the typed count,
    then each key through the one write path (created only if still absent, or overwritten only if
    asked and etag-checked). A line `set` would refuse stops it before anything is written."""
    if args.file == "-" and not (args.dry_run or args.confirm is not None):
        raise UsageError("reading the export from stdin leaves no way to type the count: add --confirm COUNT "
                         "(or --dry-run)")
    exported = read_export_file(args.file, partition=args.partition)
    location = await session.location(args.store)
    plan = await dry_run(session, location, exported, args.ttl_mode, args.overwrite_changed)
    for decision in plan.decisions:
        if args.json and args.dry_run:
            emit_json({"id": decision.exported.doc_id, "partitionKey": decision.exported.partition,
                       "step": decision.step.value, "ttlInSeconds": decision.ttl_in_seconds,
                       "reason": decision.reason or None})
        elif args.dry_run or decision.step is ImportStep.SKIP:
            out = sys.stdout if args.dry_run else sys.stderr
            why = f"  ({decision.reason})" if decision.reason else ""
            print(f"  {decision.step.value:9} {terminal_safe(decision.state_key.key)}  "
                  f"[{terminal_safe(str(decision.exported.partition))}]{terminal_safe(why)}", file=out)
    what = f"{len(exported):,} records in {args.file}" if exported else f"{args.file}, which holds no records"
    print(f"dry run: {plan.summary()} — from {terminal_safe(what)}", file=sys.stderr)
    writes = plan.writes
    if args.dry_run:
        return 0
    if not writes:  # nothing to write; keys skipped because they changed since the export: exit 4, as a run
        return 4 if plan.changed else 0
    prompt = f"Type {len(writes)} to write {len(writes):,} keys into {location.store}"
    return await confirm_and_run(
        session, args, location, len(writes), prompt, f"write {len(writes):,} keys into {location.store}",
        refused_writes(writes), lambda progress, cancel: run_import(session, location, plan, progress, cancel))


async def cmd_diff(session: ExplorerSession, args: argparse.Namespace) -> int:
    """`dapr-explorer diff LEFT RIGHT`: keys only on one side, and keys whose value, shape, TTL or
    partition differ (document ids compared). Exit 0; with --exit-code, 1 when the sides differ."""
    if args.left == "-" and args.right == "-":
        raise UsageError("only one side can be read from stdin")
    skipped: dict[str, list[str]] = {"left": [], "right": []}
    left = [k async for k in read_side(session, args.left, args.partition, skipped["left"])]
    right = [k async for k in read_side(session, args.right, args.partition, skipped["right"])]
    report = diff_sides(left, right)
    if args.json:
        for side, keys in (("left-only", report.only_left), ("right-only", report.only_right)):
            for key in keys:
                emit_json({"side": side, "id": key.doc_id, "partitionKey": key.partition})
        for d in report.different:
            text, cut = d.value_diff() if "value" in d.what or "shape" in d.what else ("", 0)
            emit_json({"side": "different", "id": d.doc_id, "partitionKey": d.right.partition, "what": list(d.what),
                       "ttl": [d.left.ttl, d.right.ttl], "diff": text, "diffCut": cut})
    else:
        console = Console(highlight=False)
        for title, keys in ((f"only in {args.left}", report.only_left), (f"only in {args.right}", report.only_right)):
            if keys:
                console.print(f"[bold]{markup_safe(title)}[/] ({len(keys):,})")
                for key in keys:
                    console.print(f"  {markup_safe(key.doc_id)}  [dim]{markup_safe(key.partition)}[/]")
        if report.different:
            console.print(f"[bold]different[/] ({len(report.different):,})")
        for d in report.different:
            ttl = f" (ttl {d.left.ttl} → {d.right.ttl})" if "ttl" in d.what else ""
            console.print(f"  {markup_safe(d.doc_id)}  [dim]{markup_safe(d.right.partition)}[/]: {', '.join(d.what)}{markup_safe(ttl)}")
            if args.values and ("value" in d.what or "shape" in d.what):
                text, cut = d.value_diff()
                for line in text.splitlines():
                    colour = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
                    console.print(f"    {markup_safe(line)}", style=colour, soft_wrap=True)
                if cut:
                    console.print(f"    … {cut} more characters of diff", style="dim")
    for side, ids in skipped.items():
        if ids:
            print(f"dapr-explorer: {len(ids):,} item(s) of the {side} side were not written by Dapr: not compared",
                  file=sys.stderr)
    print(report.summary(args.left, args.right), file=sys.stderr)
    return 1 if args.exit_code and not report.identical else 0
