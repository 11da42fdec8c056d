"""`dapr-explorer workflows` and `workflow`: a store's Dapr workflow instances, and one instance's
decoded history.

What it is for: reading workflow state as daprd wrote it. What it must never do: write, or print a
decoded value other than through the terminal-safe printers.
"""

from __future__ import annotations

import argparse
import base64
import sys

from explorer.cli.output import OutputIncomplete, emit_json, pretty, print, table
from explorer.core.display import moment_text
from explorer.core.workflows.schema import RuntimeStatus
from explorer.core.workflows.summary import filter_instances
from explorer.core.workflows.values import WorkflowEvent
from explorer.errors import ExplorerError, UsageError
from explorer.session.explorer_session import ExplorerSession


def _statuses(names: list[str]) -> list[str]:
    """--status values checked against the runtime statuses Dapr has (a typo is a usage error, not
    an empty listing)."""
    known = {s.name for s in RuntimeStatus}
    wanted = []
    for name in names:
        for part in name.split(","):
            status = part.strip().upper().replace("-", "_")
            if status and status not in known:
                raise UsageError(f"--status {part.strip()!r} is not a workflow runtime status; use one of "
                                 + ", ".join(s.lower() for s in sorted(known)))
            if status:
                wanted.append(status)
    return wanted


async def cmd_workflows(session: ExplorerSession, args: argparse.Namespace) -> int:
    """The store's workflow instances (from their metadata documents), page by page; --json: a line
    each. Filters apply as pages arrive; a failure part-way says how many were printed."""
    statuses = _statuses(args.status)
    location = await session.location(args.store)
    reader = session.workflows(location)
    rows: list[list[str]] = []
    count = 0
    charge = 0.0
    token: str | None = None
    try:
        while True:
            page = await reader.instances_page(token)
            charge += page.request_charge
            for instance in filter_instances(page.instances, statuses, args.name, args.app_id):
                count += 1
                if args.json:
                    emit_json(instance.to_json())
                else:
                    rows.append([instance.instance_id, instance.name or "?", instance.status.name,
                                 moment_text(instance.created, missing=""), moment_text(instance.last_updated, missing=""),
                                 str(instance.history_length),
                                 instance.custom_status or "", instance.app_id])
            token = page.continuation
            if not token:
                break
    except ExplorerError as exc:
        raise OutputIncomplete.after(count, "instances", exc) from exc
    if not args.json:
        table(f"Workflow instances in {args.store}", ["Instance", "Workflow", "Status", "Created (UTC)",
                                                       "Updated (UTC)", "Events", "Custom status", "App"], rows)
    print(f"{count} instances · {charge:g} RU", file=sys.stderr)
    return 0


async def cmd_workflow(session: ExplorerSession, args: argparse.Namespace) -> int:
    """One instance: its summary, then every history event in order (then the inbox), decoded; --json:
    a JSON line for the instance, then one per event."""
    location = await session.location(args.store)
    reader = session.workflows(location)
    ref = await reader.find_instance(args.instance, args.app_id)
    summary = await reader.summary(ref)
    if args.json:
        emit_json({"instance": summary.to_json()})
    else:
        failure = f" · failed: {summary.failure.error_type}: {summary.failure.message}" if summary.failure else ""
        print(f"{summary.instance_id} · {summary.name or '?'} · {summary.status.name} · {summary.history_length} "
              f"events · app {summary.app_id}{failure}")
        if summary.custom_status:
            print(f"custom status: {summary.custom_status}")
    count = 0
    scheduled: dict[int, str] = {}
    try:
        for part in ("history", "inbox"):
            token: str | None = None
            while True:
                page = await reader.timeline_page(ref, part, token)
                for entry in page.entries:
                    count += 1
                    if args.json:
                        emit_json({"id": entry.doc_id, "etag": entry.etag, "ts": entry.ts, **entry.part.to_json()})
                    else:
                        _print_event(entry, scheduled)
                token = page.continuation
                if not token:
                    break
    except ExplorerError as exc:
        raise OutputIncomplete.after(count, "events", exc) from exc
    return 0


def _print_event(entry, scheduled: dict[int, str]) -> None:
    """One document of a timeline in words. `scheduled` maps the event ids of scheduled tasks, timers
    and child workflows seen so far to their names, so a completion says what it completes."""
    event = entry.part.value
    if not isinstance(event, WorkflowEvent):
        print(entry.part.label)
        if entry.part.error:
            print(f"    raw (base64): {base64.b64encode(entry.part.raw).decode()}")
        return
    if event.name and event.event_id >= 0 and entry.part.part == "history":
        scheduled[event.event_id] = event.name
    answers = scheduled.get(event.task_id) if event.task_id is not None and not event.name else None
    print(entry.part.label + (f" ({answers})" if answers else ""))
    print(f"    at {event.timestamp.isoformat() if event.timestamp else '?'}")
    for label, text in (("input", event.input), ("output", event.output)):
        if text is not None:
            print(f"    {label}: {pretty(text)}")
    if event.fire_at is not None:
        print(f"    fires at {event.fire_at.isoformat()}")
    failure = event.failure
    while failure is not None:
        print(f"    failure: {failure.error_type}: {failure.message}")
        if failure.stack_trace:
            print("      " + failure.stack_trace.rstrip().replace("\n", "\n      "))
        failure = failure.inner
    for unknown in event.unknown:
        print(f"    unknown field {unknown.path} (wire type {unknown.wire_type}): {unknown.raw.hex()}")
