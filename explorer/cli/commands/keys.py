"""The commands on single keys and their listing: `partitions`, `keys`, `get`, `set` and `delete`.

What it is for: one key read or written by its name (the document id found from the key prefix and
the app-id, the partition found by id). What it must never do: write except through the session's
one write path (`ExplorerSession.write`, behind `session.create`, `save` and `delete`), or write in
a production context without its name typed (`confirm_or_refuse`).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import sys
import time
from typing import Any

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.text import Text

from explorer.cli.confirm import confirm_or_refuse
from explorer.cli.output import OutputIncomplete, emit_json, partition_json, print, say_throttled, table, value_fields
from explorer.core.display import json_safe, terminal_safe
from explorer.core.envelope import document_id, parse_document_id
from explorer.core.expiry import countdown_text, effective_expiry
from explorer.core.model import NO_PARTITION_KEY, KeyValue, StoreLocation, TtlChoice
from explorer.core.writes import NewValue, encode_text, key_problem
from explorer.errors import EtagConflict, ExplorerError, NotFound, UsageError
from explorer.session.explorer_session import ExplorerSession


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
                    emit_json(partition_json(pk))
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
            emit_json({"id": row.id, "key": state_key.key, "appId": state_key.app_id,
                       "kind": state_key.kind.name.lower(), **partition_json(row.partition_key), "etag": row.etag,
                       "ts": row.ts, "ttl": row.ttl, "expiresAt": expiry.at})
        rows.append([state_key.key, state_key.app_id or "", row.etag, str(row.ts), countdown_text(expiry, now)])
    if not args.json:
        table(f"{args.store} · partition {args.partition}", ["Key", "App", "Etag", "_ts", "TTL"], rows)
    if page.continuation:
        print(f"more: --continuation '{page.continuation}'", file=sys.stderr)
    print(f"{len(page.rows)} keys · {page.request_charge:g} RU", file=sys.stderr)
    return 0


def partition_arg(text: str | None) -> str | None:
    """--partition as typed: the shown name of the 'undefined' partition selects it."""
    return NO_PARTITION_KEY if text == NO_PARTITION_KEY else text


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


def _key_record(key: KeyValue, now: float) -> dict[str, Any]:
    doc = key.document
    out = {"id": key.state_key.doc_id, "key": key.state_key.key, "appId": key.state_key.app_id,
           "kind": key.state_key.kind.name.lower(), "partitionKey": doc.get("partitionKey"), "etag": key.etag,
           "ts": doc.get("_ts"), "ttl": doc.get("ttl"), "expiresAt": key.expiry.at,
           "expires": countdown_text(key.expiry, now), "isBinary": doc.get("isBinary")}
    out.update(value_fields(doc))
    if key.state_key.read_only_reason:
        out["readOnly"] = key.state_key.read_only_reason
    return out


async def cmd_get(session: ExplorerSession, args: argparse.Namespace) -> int:
    target = await _target(session, args)
    assert target.key is not None
    out = _key_record(target.key, time.time())
    if args.json:
        emit_json(out)
    else:
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
        emit_json({"id": target.doc_id, "partitionKey": after.partition_key, "etag": after.etag,
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
        emit_json({"id": target.doc_id, "deleted": True})
    else:
        print(f"deleted {terminal_safe(args.key)}")
    return 0


#: Write commands that ask for a production context's name once they know what they write (set and
#: delete: the key; bulk and import: the plan, after its count is typed), so that a refusal leaves
#: the audit line of each write refused. Any other write command asks before anything is opened.


def _confirm_or_record(session: ExplorerSession, args: argparse.Namespace, target: _Target, state_key, operation: str,
                       what: str) -> None:
    """`confirm_typed_name`, and when the name is not typed, the refusal's audit line before it is said."""
    confirm_or_refuse(session, args, what, target.location,
                      [(state_key, target.partition, operation, target.key, None)])
