"""The scriptable CLI's subcommands, over the same session (explorer.session) the TUI uses.

Human output is rich tables; `--json` prints JSON (JSON lines for listings and
export). Exit codes: 0 ok, 1 other error, 2 usage, 3 not found, 4 etag conflict,
5 refused by read-only.

What it must never do: print a secret (component values are shown masked),
write in --read-only (write commands are refused before the session opens, and
the read-only gateway has no write methods), or write except through the
session's one write path (`ExplorerSession.write`).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from explorer.core.envelope import ValueKind, decode_value, document_id, parse_document_id
from explorer.core.expiry import countdown_text, effective_expiry
from explorer.core.model import NO_PARTITION_KEY, KeyValue, MissingPartitionKey, StoreLocation, TtlChoice
from explorer.core.ru_budget import throttled_text
from explorer.core.writes import NewValue, encode_text
from explorer.errors import EtagConflict, ExplorerError, NotFound, UsageError, describe
from explorer.session import ExplorerSession

#: Subcommands that write; refused in --read-only before anything is opened.
WRITE_COMMANDS = frozenset({"set", "delete"})


def dumps(obj: Any) -> str:
    """One JSON line. orjson first; values nested deeper than it allows go through json."""
    try:
        return orjson.dumps(obj).decode()
    except orjson.JSONEncodeError:
        try:
            return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        except (RecursionError, ValueError, TypeError) as exc:
            raise ExplorerError(f"a value is nested too deeply to print as JSON ({exc.__class__.__name__})") from None


def _emit_json(obj: Any) -> None:
    sys.stdout.write(dumps(obj) + "\n")


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=escape(title), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    Console().print(table)


async def cmd_stores(session: ExplorerSession, args: argparse.Namespace) -> int:
    stores = session.stores()
    if args.json:
        for s in stores:
            _emit_json({"name": s.name, "type": s.type, "database": s.database, "container": s.container,
                        "capabilities": list(s.capabilities), "sidecars": list(s.sidecars), "declaredIn": s.declared_in})
    else:
        _table("State stores", ["Store", "Type", "Database/container", "Sidecar", "Capabilities"],
               [[s.name, s.type, s.location, s.owner, " ".join(s.capabilities)] for s in stores])
    for problem in session.sidecar_problems:
        print(f"sidecar not reachable: {problem}", file=sys.stderr)
    return 1 if session.component_problems else 0


async def cmd_doctor(session: ExplorerSession, args: argparse.Namespace) -> int:
    from explorer.core.doctor import Severity

    names = list(dict.fromkeys(args.stores)) or [c.name for c in session.workspace.components if c.is_cosmos]
    findings = []
    for name in names:
        session.workspace.cosmos_component(name)  # an unknown or non-Cosmos store is an error, not silence
        found, note = await session.doctor(name)
        findings.extend(found)
        if note:
            print(f"{name}: {note}", file=sys.stderr)
    if args.json:
        for f in findings:
            _emit_json({"store": f.store, "code": f.code, "severity": f.severity.name.lower(), "field": f.field,
                        "message": f.message, "fix": f.fix})
    else:
        _table("Doctor: declared versus effective", ["Store", "Severity", "Field", "Finding", "Fix"],
               [[f.store, f.severity.name.lower(), f.field or "", f.message, f.fix] for f in findings])
    failed = any(f.severity is Severity.ERROR for f in findings) or bool(session.component_problems)
    return 1 if failed else 0


def say_throttled(session: ExplorerSession, store: str) -> None:
    """'throttled, waiting N s' on stderr (never stdout, which is the listing) each time the store's
    account answers 429 and the lister waits out its retry-after (explorer.cosmos_lister)."""
    session.workspace.lister(store).on_throttle = lambda seconds: print(throttled_text(seconds), file=sys.stderr, flush=True)


async def cmd_partitions(session: ExplorerSession, args: argparse.Namespace) -> int:
    say_throttled(session, args.store)
    location = await session.location(args.store)
    total = 0
    charge = 0.0
    try:
        async for batch in session.partitions(location):
            charge += batch.request_charge
            for pk in batch.partitions:
                total += 1
                if args.json:
                    _emit_json(_partition_json(pk))
                else:
                    print(pk)
    except ExplorerError as exc:
        raise OutputIncomplete.after(total, "partitions", exc) from exc
    print(f"{total} partitions · {charge:g} RU", file=sys.stderr)
    return 0


async def cmd_keys(session: ExplorerSession, args: argparse.Namespace) -> int:
    location = await session.location(args.store)
    page = await session.keys_page(location, partition_arg(args.partition), args.continuation, args.page_size)
    now = time.time()
    rows = []
    for row in page.rows:
        state_key = parse_document_id(row.id, location.key_prefix, location.store)
        expiry = effective_expiry(row.ttl, location.default_ttl, row.ts)
        if args.json:
            _emit_json({"id": row.id, "key": state_key.key, "appId": state_key.app_id,
                        "kind": state_key.kind.name.lower(), **_partition_json(row.partition_key), "etag": row.etag,
                        "ts": row.ts, "ttl": row.ttl, "expiresAt": expiry.at})
        rows.append([state_key.key, state_key.app_id or "", row.etag, str(row.ts), countdown_text(expiry, now)])
    if not args.json:
        _table(f"{args.store} · partition {args.partition}", ["Key", "App", "Etag", "_ts", "TTL"], rows)
    if page.continuation:
        print(f"more: --continuation '{page.continuation}'", file=sys.stderr)
    print(f"{len(page.rows)} keys · {page.request_charge:g} RU", file=sys.stderr)
    return 0


def partition_arg(text: str | None) -> str | None:
    """--partition as typed: the shown name of the 'undefined' partition selects it."""
    return NO_PARTITION_KEY if text == NO_PARTITION_KEY else text


def _partition_json(pk: str) -> dict[str, Any]:
    return {"partitionKey": None, "defined": False} if isinstance(pk, MissingPartitionKey) else {"partitionKey": pk}


@dataclasses.dataclass(frozen=True)
class _Target:
    location: StoreLocation
    doc_id: str
    partition: str
    key: KeyValue | None  # None: no such item (yet)


def _app_id(session: ExplorerSession, args: argparse.Namespace, location: StoreLocation) -> str | None:
    app_id = args.app_id or session.default_app_id()
    if app_id is None and location.key_prefix.mode.name in {"APPID", "NAMESPACE"}:
        down = session.sidecar_problems
        if down:
            raise UsageError(f"no sidecar answered to tell which app owns the key ({down[0]}). Check that the sidecar "
                             "is running and not frozen, or pass --app-id (the id prefix is <app-id>||<key>).")
        if session.sidecar_app_ids:
            raise UsageError(f"several sidecars are reachable ({', '.join(session.sidecar_app_ids)}): which app owns "
                             "the key? Pass --app-id (the id prefix is <app-id>||<key>).")
        raise UsageError("no sidecar is reachable to tell which app owns the key: pass --app-id (the id prefix is "
                         "<app-id>||<key>), and --dapr-grpc-port for the app's sidecar.")
    return app_id


async def _target(session: ExplorerSession, args: argparse.Namespace, must_exist: bool = True) -> _Target:
    """The item a get/set/delete names: its document id, its own partition, and the item if it exists."""
    encode_text(args.key, "KEY")
    if not args.key:
        raise UsageError("KEY is empty: Dapr state keys have at least one character.")
    location = await session.location(args.store)
    app_id = _app_id(session, args, location)
    if "||" in args.key:
        # Actor/workflow state (type||id||key) sits under the same id prefix as plain keys.
        doc_id = f"{app_id}||{args.key}" if app_id else args.key
    else:
        try:
            doc_id = document_id(args.key, location.key_prefix, app_id or "", location.store)
        except ValueError as exc:
            raise UsageError(f"{exc}; nothing was sent.") from None
    partition = partition_arg(args.partition)
    if partition is None:
        # Find the item's own partition: writing under the default (the id) when the
        # item lives elsewhere would create a second item with the same id.
        partitions = await session.partitions_of(location, doc_id)
        if len(partitions) > 1:
            raise UsageError(f"{doc_id!r} exists in {len(partitions)} partitions ({', '.join(partitions)}); pass --partition.")
        partition = partitions[0] if partitions else doc_id
    try:
        key = await session.read(location, doc_id, partition)
    except NotFound:
        if must_exist:
            raise
        key = None
    return _Target(location, doc_id, partition, key)


def _value_fields(document: Mapping[str, object]) -> dict[str, Any]:
    """`value` as the app reads it (JSON, or base64 bytes), and a warning for what is not Dapr's."""
    decoded = decode_value(document)
    out: dict[str, Any] = {}
    if decoded.kind is ValueKind.JSON:
        out["value"] = decoded.json
    elif decoded.kind is ValueKind.NOT_DAPR:
        out["value"] = None
        out["document"] = decoded.json  # the item as stored (system fields left out)
    else:
        data = decoded.data or b""
        out["value"] = {"base64": base64.b64encode(data).decode(), "size": len(data)}
    if decoded.warnings:
        out["warnings"] = list(decoded.warnings)
    return out


def _key_record(key: KeyValue, now: float) -> dict[str, Any]:
    doc = key.document
    out = {"id": key.state_key.doc_id, "key": key.state_key.key, "appId": key.state_key.app_id,
           "kind": key.state_key.kind.name.lower(), "partitionKey": doc.get("partitionKey"), "etag": key.etag,
           "ts": doc.get("_ts"), "ttl": doc.get("ttl"), "expiresAt": key.expiry.at,
           "expires": countdown_text(key.expiry, now), "isBinary": doc.get("isBinary")}
    out.update(_value_fields(doc))
    if key.state_key.read_only_reason:
        out["readOnly"] = key.state_key.read_only_reason
    return out


async def cmd_get(session: ExplorerSession, args: argparse.Namespace) -> int:
    target = await _target(session, args)
    assert target.key is not None
    out = _key_record(target.key, time.time())
    if args.json:
        _emit_json(out)
    else:
        Console().print_json(dumps(out))
        for warning in out.get("warnings", ()):
            print(f"warning: {warning}", file=sys.stderr)
    return 0


def _new_value(args: argparse.Namespace) -> NewValue:
    if args.base64:
        try:
            return NewValue.raw(base64.b64decode(encode_text(args.value, "VALUE"), validate=True))
        except ValueError as exc:
            raise UsageError(f"VALUE is not valid base64 ({exc}); nothing was sent.") from None
    try:
        return NewValue.json_text(args.value)
    except UsageError as exc:
        hint = " (for bytes, pass --base64)" if str(exc).startswith("not valid JSON") else ""
        raise UsageError(f"VALUE: {exc}{hint}") from None


async def cmd_set(session: ExplorerSession, args: argparse.Namespace) -> int:
    value = _new_value(args)
    ttl = TtlChoice.parse(args.ttl)
    target = await _target(session, args, must_exist=False)
    if target.key is None:
        state_key = parse_document_id(target.doc_id, target.location.key_prefix, target.location.store)
        after = await session.create(target.location, state_key, target.partition, value, ttl, expected_etag=args.etag)
    else:
        key = dataclasses.replace(target.key, etag=args.etag) if args.etag else target.key
        after = await session.save(target.location, key, value, ttl, change_shape=args.change_shape)
    if args.json:
        _emit_json({"id": target.doc_id, "partitionKey": after.partition_key, "etag": after.etag,
                    "ttl": after.document.get("ttl"), "expiresAt": after.expiry.at, "isBinary": after.is_binary})
    else:
        print(f"saved {args.key} · etag {after.etag} · {countdown_text(after.expiry, time.time())}")
    return 0


async def cmd_delete(session: ExplorerSession, args: argparse.Namespace) -> int:
    try:
        target = await _target(session, args)
    except NotFound:
        if args.etag:
            raise EtagConflict(f"{args.key!r} no longer exists (deleted since etag {args.etag} was read); "
                               "nothing was deleted.") from None
        raise
    assert target.key is not None
    key = dataclasses.replace(target.key, etag=args.etag) if args.etag else target.key
    await session.delete(target.location, key)
    if args.json:
        _emit_json({"id": target.doc_id, "deleted": True})
    else:
        print(f"deleted {args.key}")
    return 0


class OutputIncomplete(ExplorerError):
    """A listing or export that stopped part-way: what was printed is not all there is."""

    title = "Incomplete"

    @classmethod
    def after(cls, count: int, what: str, exc: ExplorerError) -> OutputIncomplete:
        sys.stdout.flush()
        error = cls(f"wrote {count} {what}, then: {describe(exc)}. The output is INCOMPLETE.")
        error.retryable = exc.retryable
        return error


def export_record(document: Mapping[str, Any], location: StoreLocation) -> dict[str, Any]:
    """One export line for a document: never raises; what cannot be read is said in `warnings`."""
    doc_id = str(document.get("id", ""))
    state_key = parse_document_id(doc_id, location.key_prefix, location.store)
    record = {"id": doc_id, "key": state_key.key, "appId": state_key.app_id, "kind": state_key.kind.name.lower(),
              "partitionKey": document.get("partitionKey"), "etag": document.get("_etag"), "ts": document.get("_ts"),
              "ttl": document.get("ttl"),
              "isBinary": document.get("isBinary")}
    record.update(_value_fields(document))
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


def _statuses(names: list[str]) -> list[str]:
    """--status values checked against the runtime statuses Dapr has (a typo is a usage error, not
    an empty listing)."""
    from explorer.core.workflow_state import RuntimeStatus

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


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment is not None else ""


async def cmd_workflows(session: ExplorerSession, args: argparse.Namespace) -> int:
    """The store's workflow instances (from their metadata documents), page by page; --json: a line
    each. Filters apply as pages arrive; a failure part-way says how many were printed."""
    from explorer.workflow_reader import filter_instances

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
                    _emit_json(instance.to_json())
                else:
                    rows.append([instance.instance_id, instance.name or "?", instance.status.name,
                                 _when(instance.created), _when(instance.last_updated), str(instance.history_length),
                                 instance.custom_status or "", instance.app_id])
            token = page.continuation
            if not token:
                break
    except ExplorerError as exc:
        raise OutputIncomplete.after(count, "instances", exc) from exc
    if not args.json:
        _table(f"Workflow instances in {args.store}", ["Instance", "Workflow", "Status", "Created (UTC)",
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
        _emit_json({"instance": summary.to_json()})
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
                        _emit_json({"id": entry.doc_id, "etag": entry.etag, "ts": entry.ts, **entry.part.to_json()})
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
    from explorer.core.workflow_state import WorkflowEvent

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
            print(f"    {label}: {_pretty(text)}")
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


def _pretty(text: str) -> str:
    """JSON text on one line when short, else indented under its label; anything else as it is."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if len(compact) <= 100:
        return compact
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n    ")


# -- dapr-agents: teams and runs --------------------------------------------------------------------

async def cmd_agents(session: ExplorerSession, args: argparse.Namespace) -> int:
    """The dapr-agents teams of a registry store: per team its `_index`, then each agent with its
    metadata and what is wrong with its place in the team; --json: a line {"team": …} per team, then
    a line {"agent": …} per agent."""
    location = await session.location(args.store)
    read = await session.agents(location).teams(args.team)
    if not read.teams:
        print(f"no agent teams in {args.store}: no agents:<team>:_index document and no document in an "
              "'agents:' partition (dapr-agents registers agents when they are built, in the store its "
              "agent-registry component names)", file=sys.stderr)
    for team in read.teams:
        if args.json:
            _emit_json({"team": team.to_json()})
            for agent in team.agents:
                _emit_json({"agent": {**agent.to_json(), "teamAppId": team.app_id}})
        else:
            _print_team(team)
    agents = sum(len(t.agents) for t in read.teams)
    flagged = sum(t.flagged for t in read.teams)
    print(f"{_count(len(read.teams), 'team')} · {_count(agents, 'agent')} · {flagged} flagged · "
          f"{read.documents} registry documents read · {read.request_charge:g} RU", file=sys.stderr)
    return 0


def _print_team(team) -> None:
    index = (f"_index lists {len(team.index.value.get('agents', []) if isinstance(team.index.value, dict) else [])}"
             f" · etag {team.index.etag}") if team.index else "NO _index document"
    print(f"team {team.name} · app {team.app_id or '(none)'} · {index} · {len(team.agents)} agents"
          + (f" · {team.flagged} flagged" if team.flagged else ""))
    for problem in team.problems:
        print(f"  ✖ _index: {problem}")
    for unknown in team.unknown:
        print(f"  _index field not in dapr-agents' model: {unknown.path} = {dumps(unknown.value)}")
    if team.others:
        print(f"  the partition also holds this team for other id prefixes ({', '.join(team.others)}): with keyPrefix "
              "appid every app keeps its own index and sees only its own agents")
    rows = []
    for agent in team.agents:
        names = agent.names
        rows.append([agent.name, ", ".join(f.value for f in agent.flags) or "ok", agent.role or "",
                     agent.llm or "", ", ".join(t.name or "?" for t in agent.tools),
                     f"{names.state} · {names.short or '?'}"])
    if rows:
        _table(f"team {team.name}", ["Agent", "Flags", "Role", "LLM", "Tools", "Keys · workflow"],
               rows)
    for agent in team.agents:
        for flag in agent.flags:
            print(f"  {agent.name}: {flag.value}: {flag.why}")
        for problem in agent.problems:
            print(f"  {agent.name}: ✖ {problem}")
        for unknown in agent.unknown:
            print(f"  {agent.name}: field not in dapr-agents' model: {unknown.path} = {dumps(unknown.value)}")


async def cmd_agent_run(session: ExplorerSession, args: argparse.Namespace) -> int:
    """One run of a dapr-agents agent: the run (agent and its names, the Dapr workflow instance and
    its status, memory), its conversation, then its memory; --json: a line {"run": …}, a line
    {"message": …} per message (system prompt first), a line {"memory": …} per memory message."""
    from explorer.agents_reader import open_run

    location = await session.location(args.store)
    for store in [*args.memory_store, *args.workflow_store]:
        await session.location(store)  # an unknown store is an error, not a silent miss
    view = await open_run(session, location, args.run, args.agent, args.memory_store, args.workflow_store)
    run = view.run
    memory = view.memory.messages if view.memory is not None else ()
    if args.json:
        _emit_json({"run": view.to_json()})
        for message in run.timeline:
            _emit_json({"message": message.to_json()})
        for message in memory:
            _emit_json({"memory": message.to_json()})
        return 0
    names = view.names
    print(f"run {run.instance_id} · agent {names.registry or names.state} (keys {names.state} · workflow "
          f"{names.workflow or '?'}) · {view.store} · {run.document.doc_id}")
    if view.workflow is not None:
        summary = view.workflow.summary
        status = summary.status.name if summary is not None else "?"
        print(f"workflow instance {status} in {view.workflow.store} "
              f"(dapr-explorer workflow {view.workflow.store} {view.workflow.ref.instance_id})")
        failure = summary.failure if summary is not None else None
        if failure is not None:  # whole: the line that says why is rarely the first
            print(f"  ✖ {failure.error_type}: " + (failure.message or "").rstrip().replace("\n", "\n    "))
    else:
        print(f"workflow instance: {view.workflow_note}")
    facts = [f"started {_when(run.started) or '?'}", _count(len(run.messages), "message"),
             _count(len(run.tool_history), "tool run")]
    if run.usage_text:
        facts.append(f"usage {run.usage_text}")
    if run.source:
        facts.append(f"source {run.source}")
    if run.triggered_by:
        facts.append(f"triggered by {run.triggered_by}")
    print(" · ".join(facts))
    if view.waiting:
        print("waiting for " + ", ".join(view.waiting))
    for problem in run.problems:
        print(f"✖ {problem}")
    for unknown in run.unknown:
        print(f"field not in dapr-agents' model: {unknown.path} = {dumps(unknown.value)}")
    print("conversation:" if run.timeline else "conversation: no messages")
    for message in run.timeline:
        _print_message(message)
    for record in run.unanswered_tools:
        print(f"  tool run no message asks for: {record.summary}")
    if view.memory is not None:
        print(f"memory ({view.memory_store} · {view.memory.document.doc_id} · {_count(len(memory), 'message')}):")
        for problem in view.memory.problems:
            print(f"  ✖ {problem}")
        for message in memory:
            _print_message(message)
    else:
        print(f"memory: {view.memory_note}")
    return 0


def _count(number: int, what: str) -> str:
    return f"{number} {what}{'' if number == 1 else 's'}"


def _print_message(message) -> None:
    """One message in words: label, role, name and time, then its content, tool calls and tool runs."""
    head = [message.label, message.role or "?"]
    if message.name:
        head.append(message.name)
    if message.at is not None:
        head.append(message.at.strftime("%Y-%m-%d %H:%M:%S"))
    print("  " + " · ".join(head))
    for problem in message.problems:
        print(f"    ✖ {problem}")
    if not isinstance(message.raw, dict):
        print(f"    raw: {dumps(message.raw)}")
        return
    if message.content:
        print("    " + message.content.rstrip().replace("\n", "\n    "))
    for call in message.tool_calls:
        print(f"    → tool call {call.name or '?'} ({call.id or 'no id'}): {_pretty(call.arguments or '')}")
    for record in message.runs:
        print(f"    tool run: {record.summary}")
        if record.result is not None and message.role != "tool":
            print(f"      result: {_pretty(record.result)}")
    for unknown in message.unknown:
        print(f"    field not in dapr-agents' model: {unknown.path} = {dumps(unknown.value)}")


COMMANDS: dict[str, Callable] = {
    "stores": cmd_stores, "doctor": cmd_doctor, "partitions": cmd_partitions, "keys": cmd_keys,
    "get": cmd_get, "set": cmd_set, "delete": cmd_delete, "export": cmd_export,
    "workflows": cmd_workflows, "workflow": cmd_workflow,
    "agents": cmd_agents, "agent-run": cmd_agent_run,
}
