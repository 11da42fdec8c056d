"""The scriptable CLI's subcommands, over the same session (explorer.session.explorer_session) the TUI uses.

Human output is rich tables; `--json` prints JSON (JSON lines for listings and
export). Exit codes: 0 ok, 1 other error, 2 usage, 3 not found, 4 etag conflict,
5 refused by read-only (or a production context's name not typed).

What it must never do: print a secret (component values are shown masked),
write in --read-only or a read-only context (write commands are refused before the
session opens, and the read-only gateway has no write methods), write in a production
context without the context's name typed (`confirm_typed_name`), or write except
through the session's one write path (`ExplorerSession.write`).
"""

from __future__ import annotations

import argparse
import base64
import builtins
import dataclasses
import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from explorer.core.display import json_safe, markup_safe, short_value, terminal_safe, terminal_safe_lines
from explorer.core.envelope import ValueKind, decode_value, document_id, parse_document_id
from explorer.core.expiry import countdown_text, effective_expiry
from explorer.core.model import NO_PARTITION_KEY, KeyValue, MissingPartitionKey, StoreLocation, TtlChoice
from explorer.core.ru_budget import throttled_text
from explorer.core.writes import NewValue, encode_text, key_problem
from explorer.errors import EtagConflict, ExplorerError, NotFound, UsageError, describe
from explorer.session.explorer_session import ExplorerSession

#: Subcommands that write; refused in --read-only before anything is opened.
WRITE_COMMANDS = frozenset({"set", "delete", "bulk", "import"})


def dumps(obj: Any) -> str:
    """One JSON line, exact, with nothing in it a terminal acts on (`json_safe`: C1, bidi and other
    invisible characters as \\u escapes; JSON escapes C0 itself). orjson first; values nested deeper
    than it allows, or strings holding half a surrogate pair (which orjson refuses), go through json,
    which writes the half as the escape `\\udc80` — Python's json reads it back as it was."""
    try:
        return json_safe(orjson.dumps(obj).decode())
    except orjson.JSONEncodeError:
        try:
            return json_safe(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        except (RecursionError, ValueError, TypeError) as exc:
            raise ExplorerError(f"a value is nested too deeply to print as JSON ({exc.__class__.__name__})") from None


def _emit_json(obj: Any) -> None:
    sys.stdout.write(dumps(obj) + "\n")


def print(*parts: object, **options: Any) -> None:  # noqa: A001 - every print of this module is human output
    """`print`, with every line passed through `terminal_safe`: text from a store (keys, partitions, ids,
    values, errors that quote them) never reaches the terminal raw, whichever line holds it. The line
    breaks of the message itself are kept (a break inside a key name is not: callers pass names through
    `terminal_safe` first, which shows it as ⏎), and so is a leading carriage return (progress lines
    that rewrite themselves)."""
    builtins.print(*(terminal_safe_lines(str(part)) for part in parts), **options)


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=markup_safe(title), title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(markup_safe(cell) for cell in row))
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
    account answers 429 and the lister waits out its retry-after (explorer.backends.cosmos.lister)."""
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
                    print(terminal_safe(str(pk)))
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
        raise UsageError(f"KEY {key_problem('', '')}; nothing was sent.")
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
    problem = None if must_exist else key_problem(args.key, doc_id)  # a read of such an id says "no item" (exit 3)
    if problem:
        raise UsageError(f"KEY {problem}; nothing was sent.")
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
        from rich.highlighter import JSONHighlighter
        from rich.text import Text

        # Indented and coloured as print_json would, but written by json_safe: print_json would write the
        # value again itself, C1 and bidi characters raw.
        Console().print(JSONHighlighter()(Text(json_safe(json.dumps(out, indent=2, ensure_ascii=False)))), soft_wrap=True)
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
    state_key = parse_document_id(target.doc_id, target.location.key_prefix, target.location.store)
    _confirm_or_record(session, args, target, state_key, "create" if target.key is None else "save",
                       f"set {args.key} in {args.store} (partition {target.partition})")
    if target.key is None:
        after = await session.create(target.location, state_key, target.partition, value, ttl, expected_etag=args.etag)
    else:
        key = dataclasses.replace(target.key, etag=args.etag) if args.etag else target.key
        after = await session.save(target.location, key, value, ttl, change_shape=args.change_shape)
    if args.json:
        _emit_json({"id": target.doc_id, "partitionKey": after.partition_key, "etag": after.etag,
                    "ttl": after.document.get("ttl"), "expiresAt": after.expiry.at, "isBinary": after.is_binary})
    else:
        print(f"saved {terminal_safe(args.key)} · etag {after.etag} · {countdown_text(after.expiry, time.time())}")
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
    _confirm_or_record(session, args, target, target.key.state_key, "delete",
                       f"delete {args.key} from {args.store} (partition {target.partition})")
    key = dataclasses.replace(target.key, etag=args.etag) if args.etag else target.key
    await session.delete(target.location, key)
    if args.json:
        _emit_json({"id": target.doc_id, "deleted": True})
    else:
        print(f"deleted {terminal_safe(args.key)}")
    return 0


#: Write commands that ask for a production context's name once they know what they write (set and
#: delete: the key; bulk and import: the plan, after its count is typed), so that a refusal leaves
#: the audit line of each write refused. Any other write command asks before anything is opened.
ASK_AT_THE_KEY = frozenset({"set", "delete", "bulk", "import"})


def _confirm_or_record(session: ExplorerSession, args: argparse.Namespace, target: _Target, state_key, operation: str,
                       what: str) -> None:
    """`confirm_typed_name`, and when the name is not typed, the refusal's audit line before it is said."""
    _confirm_or_refuse(session, args, what, target.location,
                       [(state_key, target.partition, operation, target.key, None)])


def _confirm_or_refuse(session: ExplorerSession, args: argparse.Namespace, what: str, location: StoreLocation,
                       writes) -> None:
    """`confirm_typed_name`; when the name is not typed, the "refused" audit line of every write that
    would have been sent — `writes`, as ExplorerSession.record_refusals takes them — before it is said."""
    from explorer.errors import ReadOnlyRefusal

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
    from explorer.core.contexts import typed_name_matches
    from explorer.errors import ReadOnlyRefusal

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


def cmd_contexts(args: argparse.Namespace) -> int:
    """Every named context: where it comes from, what it reaches, whether it may be written; never a
    secret (only the names of the variables that hold tokens). Exit 1 when a contexts file is wrong."""
    from explorer.session.contexts import config_file, load_table

    table = load_table(strict=False)
    contexts = sorted(table.contexts, key=lambda c: (c.registered, c.name))
    if args.json:
        for context in contexts:
            _emit_json(context.to_json())
    elif contexts:
        rows = []
        for c in contexts:
            kind = "production" if c.production else "writable"
            if c.read_only:
                kind = "read-only" + (" · production" if c.production else "")
            sidecars = [f"{s.address} ({c.token_env(s)})" for s in c.sidecars] or [f"from DAPR_GRPC_* ({c.token_env()})"]
            where = [*c.resources, *(f"{p} (component list)" for p in c.components)]
            source = f"{c.source} (registered by process {c.pid})" if c.registered and c.pid else c.source
            rows.append([c.name, kind + (f" · {c.color}" if c.color else ""), "\n".join(where), "\n".join(sidecars), source])
        _table("Contexts", ["Name", "Kind", "Component files", "Sidecars (token variable)", "Defined in"], rows)
    elif not table.problems:
        print(f"no contexts: write them in {config_file()} (see docs/contexts.md), or start `dapr-explorer stack`, "
              "which registers 'local' while it runs", file=sys.stderr)
    for problem in table.problems:
        print(f"dapr-explorer: {problem}", file=sys.stderr)
    return 1 if table.problems else 0


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
    from explorer.core.workflows.schema import RuntimeStatus

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
    from explorer.core.workflows.summary import filter_instances

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
    from explorer.core.workflows.values import WorkflowEvent

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
    from explorer.backends.cosmos.agents import open_run

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


def cmd_audit(args: argparse.Namespace) -> int:
    """`dapr-explorer audit`: the audit log's records, oldest first (explorer.session.audit_log)."""
    from explorer.session.audit_log import AuditLog
    from explorer.core.audit import diff_lines, parse_since

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
            _emit_json(dataclasses.asdict(record))
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
    from explorer.core.audit import diff_lines

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


async def _bulk_listing(session: ExplorerSession, location: StoreLocation, args: argparse.Namespace):
    """The keys a bulk action picks: every key of the given partitions, as listed (with etags)."""
    from explorer.core.bulk import Listed

    for text in args.partition:
        pk = partition_arg(text)
        async for row in session.listed_keys(location, pk):
            yield Listed(row.id, row.partition_key, row.etag, row.ttl)


async def _confirm_and_run(session: ExplorerSession, args: argparse.Namespace, location: StoreLocation, count: int,
                           prompt: str, what: str, writes, run) -> int:
    """The typed count (or --confirm), then in a production context its name (`what`: the run in words;
    not typed: the "refused" audit line of each of `writes`, as ExplorerSession.record_refusals takes
    them), then `run(progress, cancel)` with a progress line on stderr and Ctrl-C as a clean cancel
    between keys; the report, and the exit code: 0 all done, 4 some skipped, 1 some failed (or
    stopped), 130 cancelled; 5 when the count typed is not `count` or the name is not typed."""
    import asyncio
    import signal

    from explorer.core.bulk import count_typed
    from explorer.errors import ReadOnlyRefusal

    if args.confirm is not None:
        typed = args.confirm
    else:
        print(f"{prompt}: ", end="", file=sys.stderr, flush=True)
        typed = sys.stdin.readline()
    if not count_typed(count, typed):
        raise ReadOnlyRefusal(f"the count typed was not {count}: nothing was written.")
    _confirm_or_refuse(session, args, what, location, writes)
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
        _emit_json({"done": report.done, "skipped": [dataclasses.asdict(p) for p in report.skipped],
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


async def cmd_bulk(session: ExplorerSession, args: argparse.Namespace) -> int:
    """`dapr-explorer bulk STORE ACTION --partition PK…`: a dry run, the typed count, then each key
    through the one write path with its own etag; a report of what was done, skipped and failed."""
    from explorer.session.bulk import refused_writes, run_plan
    from explorer.core.bulk import BulkAction, make_plan

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
            _emit_json({"key": target.state_key.key, "id": target.listed.doc_id, "partitionKey": target.listed.partition,
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
    return await _confirm_and_run(session, args, location, plan.count, plan.confirmation_prompt(), plan.in_words(),
                                  refused_writes(plan),
                                  lambda progress, cancel: run_plan(session, location, plan, progress, cancel))


async def cmd_import(session: ExplorerSession, args: argparse.Namespace) -> int:
    """`dapr-explorer import STORE FILE`: a dry run against what the store holds now, the typed count,
    then each key through the one write path (created only if still absent, or overwritten only if
    asked and etag-checked). A line `set` would refuse stops it before anything is written."""
    from explorer.core.import_plan import ImportStep
    from explorer.session.import_run import dry_run, read_export_file, refused_writes, run_import

    if args.file == "-" and not (args.dry_run or args.confirm is not None):
        raise UsageError("reading the export from stdin leaves no way to type the count: add --confirm COUNT "
                         "(or --dry-run)")
    exported = read_export_file(args.file, partition=args.partition)
    location = await session.location(args.store)
    plan = await dry_run(session, location, exported, args.ttl_mode, args.overwrite_changed)
    for decision in plan.decisions:
        if args.json and args.dry_run:
            _emit_json({"id": decision.exported.doc_id, "partitionKey": decision.exported.partition,
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
    return await _confirm_and_run(
        session, args, location, len(writes), prompt, f"write {len(writes):,} keys into {location.store}",
        refused_writes(writes), lambda progress, cancel: run_import(session, location, plan, progress, cancel))


async def cmd_diff(session: ExplorerSession, args: argparse.Namespace) -> int:
    """`dapr-explorer diff LEFT RIGHT`: keys only on one side, and keys whose value, shape, TTL or
    partition differ (document ids compared). Exit 0; with --exit-code, 1 when the sides differ."""
    from explorer.core.import_plan import diff_sides
    from explorer.session.diff import read_side

    if args.left == "-" and args.right == "-":
        raise UsageError("only one side can be read from stdin")
    skipped: dict[str, list[str]] = {"left": [], "right": []}
    left = [k async for k in read_side(session, args.left, args.partition, skipped["left"])]
    right = [k async for k in read_side(session, args.right, args.partition, skipped["right"])]
    report = diff_sides(left, right)
    if args.json:
        for side, keys in (("left-only", report.only_left), ("right-only", report.only_right)):
            for key in keys:
                _emit_json({"side": side, "id": key.doc_id, "partitionKey": key.partition})
        for d in report.different:
            text, cut = d.value_diff() if "value" in d.what or "shape" in d.what else ("", 0)
            _emit_json({"side": "different", "id": d.doc_id, "partitionKey": d.right.partition, "what": list(d.what),
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


COMMANDS.update({"bulk": cmd_bulk, "import": cmd_import, "diff": cmd_diff})  # defined after the table, beside their helpers

# -- search by value --------------------------------------------------------------------------------

async def cmd_search(session: ExplorerSession, args: argparse.Namespace) -> int:
    """Keys whose value matches a Dapr state query (or a --sql SELECT): a table of key, partition,
    etag and a short value, or JSON lines; --via dapr asks a sidecar, --via both compares the two."""
    from explorer.core.query_answers import agree
    from explorer.core.state_query import parse_parameter, parse_search, raw_sql

    text = sys.stdin.read() if args.filter == "-" else args.filter
    if args.sql:
        if args.token is not None:
            raise UsageError("--token continues a Dapr query's answer that page.limit cut; --sql reads every page "
                             "to the end itself and prints no token, so there is none to continue: leave --token out")
        query = raw_sql(text, dict(parse_parameter(p) for p in args.param))
        follow = True
    else:
        if args.param:
            raise UsageError("--param is for --sql queries; Dapr's query language carries its values in the filter")
        query = parse_search(text)
        if args.token is not None:
            if query.limit <= 0:
                raise UsageError("--token continues an answer that page.limit cut, but this query has no page.limit: "
                                 "it reads every page itself. Give the query of the token, with its "
                                 "\"page\": {\"limit\": N}")
            query = query.with_token(args.token)
        for note in query.notes:
            print(f"note: {note}", file=sys.stderr)
        follow = query.limit == 0  # with a limit, one page, as one call of Dapr's query API answers
    location = await session.location(args.store)
    partition = partition_arg(args.partition)
    ways = ("cosmos", "dapr") if args.via == "both" else (args.via,)
    searches = {via: session.search(location, query, via, partition, follow) for via in ways}  # refused before any I/O
    answers: dict[str, list] = {}
    for via, pages in searches.items():
        answers[via] = await _print_search(args, via, pages, show=via == ways[0], both=len(ways) > 1)
    if len(ways) == 1:
        return 0
    agreement = agree([h.direct_item() for h in answers["cosmos"]], [h.dapr_item() for h in answers["dapr"]],
                      ordered=bool(getattr(query, "sort", ())))
    if args.json:
        _emit_json({"agreement": agreement.to_json()})
    else:
        for line in agreement.lines():
            print(line)
    return 0 if agreement.same else 1


async def _print_search(args: argparse.Namespace, via: str, pages, show: bool, both: bool) -> list:
    """Print (when `show`) and return the hits of a search's pages; the count, charge, token and what
    Dapr's paging skipped go to stderr."""
    hits: list = []
    rows: list[list[str]] = []
    charge: float | None = None
    token = ""
    skipped = 0
    answered = False
    try:
        async for page in pages:
            answered = True
            token, skipped = page.token, skipped + page.skipped
            if page.request_charge is not None:
                charge = (charge or 0.0) + page.request_charge
            for hit in page.hits:
                hits.append(hit)
                if not show:
                    continue
                if args.json:
                    _emit_json(_hit_record(hit, via, both))
                else:
                    rows.append([hit.shown_key, hit.app_id or "", "" if hit.partition_key is None else hit.partition_key,
                                 hit.etag, short_value(hit.value)])
    except UsageError:
        raise  # the query is wrong (Cosmos DB refused it): nothing about the output to say
    except ExplorerError as exc:
        if not answered:
            raise  # nothing was read, so nothing is incomplete: the error as it is
        raise OutputIncomplete.after(len(hits), "keys", exc) from exc
    if show and not args.json:
        columns = ["Key", "App", "Partition", "Etag", "Value"]
        if via == "dapr":  # daprd's answer has neither the app-id nor the partition
            rows, columns = [[r[0], r[3], r[4]] for r in rows], ["Key", "Etag", "Value"]
        _table(f"{args.store} · search via {'Cosmos DB' if via == 'cosmos' else 'Dapr'}", columns, rows)
    cost = f" · {charge:g} RU" if charge is not None else " · (daprd does not report the request charge)"
    print(f"{len(hits)} keys via {via}{cost}", file=sys.stderr)
    if skipped:
        print(f"note: Dapr's paging leaves out {skipped} more matching items: page.limit cut a Cosmos DB page, and "
              "Dapr's token points past that page (components-contrib Query.execute)", file=sys.stderr)
    if token:
        print(f"more: --token '{token}'", file=sys.stderr)
    return hits


def _hit_record(hit, via: str, both: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"key": hit.shown_key}
    if hit.doc_id is not None:
        record.update({"id": hit.doc_id, "appId": hit.app_id})
        if hit.partition_key is not None:
            record.update(_partition_json(hit.partition_key))
    record["etag"] = hit.etag
    record["isBinary"] = hit.is_binary
    record["value"] = ({"base64": base64.b64encode(hit.value).decode(), "size": len(hit.value)}
                       if isinstance(hit.value, bytes) else hit.value)
    if hit.error:
        record["error"] = hit.error
    if both:
        record["via"] = via
    return record


COMMANDS["search"] = cmd_search

# -- partition insight --------------------------------------------------------------------------------

STATS_TOP = 20  # table rows and chart bars without --top (JSON lists every partition unless --top is given)


async def cmd_stats(session: ExplorerSession, args: argparse.Namespace) -> int:
    """Per-partition figures (explorer.core.stats): keys, size, oldest and newest `_ts`, keys expiring
    within the hour and the day; a table sorted by --sort, the largest partitions as bars, the
    expiry histogram and totals — or one JSON line per partition. Partitions are found by DISTINCT and
    each one's figures read by queries in that partition (never GROUP BY across partitions)."""
    import shutil

    from explorer.core.display import age_text, timestamp_text
    from explorer.core.envelope import partition_name
    from explorer.core.stats import Bucket, expiry_histogram, largest_chart, size_figure, sorted_stats, totals

    say_throttled(session, args.store)
    location = await session.location(args.store)
    progress_shown = sys.stderr.isatty() and not args.json

    def progress(p) -> None:
        if progress_shown:
            print(f"\r{p.text()}", end="", file=sys.stderr, flush=True)

    found = [s async for s in session.stats(location, progress)]
    if progress_shown:
        sys.stderr.write("\r\033[K")  # clears the progress line
    ordered = sorted_stats(found, args.sort)
    top = args.top if args.top is not None else (None if args.json else STATS_TOP)
    shown = ordered if top is None else ordered[:top]
    total = totals(found)
    if args.json:
        for s in shown:
            _emit_json({**_partition_json(s.partition), "keys": s.keys, "bytes": s.bytes, "oldestTs": s.oldest,
                        "newestTs": s.newest, "expiringWithinHour": s.expiring_hour,
                        "expiringWithinDay": s.expiring_day,
                        "expiries": {b.name.lower(): s.buckets[b] for b in Bucket}, "requestCharge": s.request_charge})
    else:
        width = max(40, min(shutil.get_terminal_size((80, 24)).columns, 120))
        more = f" (top {len(shown)} of {len(ordered):,} by {args.sort})" if len(shown) < len(ordered) else f" (by {args.sort})"
        now = time.time()
        _table(f"{args.store} · partitions{more}", ["Partition", "Keys", "Size", "Oldest", "Newest", "Expiring <1h", "<1d"],
               [[s.partition, f"{s.keys:,}", size_figure(s.bytes), age_text(s.oldest or 0, now),
                 age_text(s.newest or 0, now), f"{s.expiring_hour:,}", f"{s.expiring_day:,}"] for s in shown])
        measure = "bytes" if args.sort == "bytes" else "keys"
        print(f"\nLargest partitions by {measure}:")
        bars = largest_chart(found, width, min(top or 10, 10), measure,
                            lambda pk: terminal_safe(partition_name(pk)))  # ten at most: the hot ones
        for line in bars or ["(no partitions)"]:
            print(line)
        print("\nExpiries (keys, by when they expire from now):")
        for line in expiry_histogram(total.buckets, width):
            print(line)
        print(f"\n{total.partitions:,} partitions · {total.keys:,} keys · {size_figure(total.bytes)} · "
              f"oldest {timestamp_text(total.oldest or 0)} · newest {timestamp_text(total.newest or 0)}")
    print(f"{total.partitions:,} partitions · {total.keys:,} keys · {total.request_charge:,.2f} RU", file=sys.stderr)
    return 0


COMMANDS["stats"] = cmd_stats
