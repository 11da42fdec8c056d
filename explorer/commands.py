"""The scriptable CLI's subcommands over the same core the TUI uses.

Human output is rich tables; `--json` prints JSON (JSON lines for listings and
export). Exit codes: 0 ok, 1 other error, 2 usage, 3 not found, 4 etag conflict,
5 refused by read-only.

What it must never do: print a secret (component values are shown masked), or
write in --read-only (the read-only gateway has no write methods; write
commands are refused before any I/O).
"""

from __future__ import annotations

import argparse
import base64
import sys
import time
from collections.abc import Callable
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from explorer.core.envelope import document_id, parse_document_id
from explorer.core.expiry import countdown_text
from explorer.errors import ExplorerError, ReadOnlyRefusal, UsageError
from explorer.core.model import KeyValue, TtlChoice
from explorer.gateway import WritableGateway
from explorer.workspace import Workspace


def _emit_json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj).decode() + "\n")


def _table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console().print(table)


async def cmd_stores(ws: Workspace, args: argparse.Namespace) -> int:
    stores = ws.stores()
    if args.json:
        for s in stores:
            _emit_json({"name": s.name, "type": s.type, "database": s.database, "container": s.container,
                        "capabilities": list(s.capabilities), "sidecars": list(s.sidecars), "declaredIn": s.declared_in})
    else:
        _table("State stores", ["Store", "Type", "Database/container", "Sidecar", "Capabilities"],
               [[s.name, s.type, s.location, s.owner, " ".join(s.capabilities)] for s in stores])
        for problem in ws.sidecar_problems:
            print(f"sidecar not reachable: {problem}", file=sys.stderr)
    return 0


async def cmd_doctor(ws: Workspace, args: argparse.Namespace) -> int:
    from explorer.core.doctor import Severity, diagnose

    findings = []
    for comp in ws.components:
        if not comp.is_cosmos:
            continue
        facts, note = None, None
        try:
            facts = await ws.cosmos_facts(comp)
        except ExplorerError as exc:
            note = f"{comp.name}: Cosmos not checked ({exc})"
        except Exception as exc:  # noqa: BLE001 - the account may be unreachable; file checks still count
            note = f"{comp.name}: Cosmos not checked ({exc.__class__.__name__})"
        findings.extend(diagnose(comp, facts))
        if note:
            print(note, file=sys.stderr)
    if args.json:
        for f in findings:
            _emit_json({"store": f.store, "code": f.code, "severity": f.severity.name.lower(), "field": f.field,
                        "message": f.message, "fix": f.fix})
    else:
        _table("Doctor: declared versus effective", ["Store", "Severity", "Field", "Finding", "Fix"],
               [[f.store, f.severity.name.lower(), f.field or "", f.message, f.fix] for f in findings])
    return 1 if any(f.severity is Severity.ERROR for f in findings) else 0


async def cmd_partitions(ws: Workspace, args: argparse.Namespace) -> int:
    location = await ws.location(args.store)
    lister = ws.lister(args.store)
    total = 0
    charge = 0.0
    async for batch in lister.partitions(location.database, location.container):
        charge += batch.request_charge
        for pk in batch.partitions:
            total += 1
            if args.json:
                _emit_json({"partitionKey": pk})
            else:
                print(pk)
    print(f"{total} partitions · {charge:g} RU", file=sys.stderr)
    return 0


def _key_json(state_key, row_expiry, row) -> dict[str, Any]:
    return {"id": row.id, "key": state_key.key, "appId": state_key.app_id, "kind": state_key.kind.name.lower(),
            "partitionKey": row.partition_key, "etag": row.etag, "ts": row.ts, "ttl": row.ttl,
            "expiresAt": row_expiry.at}


async def cmd_keys(ws: Workspace, args: argparse.Namespace) -> int:
    from explorer.core.expiry import effective_expiry

    location = await ws.location(args.store)
    lister = ws.lister(args.store)
    page = await lister.keys_page(location.database, location.container, args.partition, args.continuation, args.page_size)
    now = time.time()
    rows = []
    for row in page.rows:
        state_key = parse_document_id(row.id, location.key_prefix, location.store)
        expiry = effective_expiry(row.ttl, location.default_ttl, row.ts)
        if args.json:
            _emit_json(_key_json(state_key, expiry, row))
        rows.append([state_key.key, state_key.app_id or "", row.etag, str(row.ts), countdown_text(expiry, now)])
    if not args.json:
        _table(f"{args.store} · partition {args.partition}", ["Key", "App", "Etag", "_ts", "TTL"], rows)
    if page.continuation:
        print(f"more: --continuation '{page.continuation}'", file=sys.stderr)
    print(f"{len(page.rows)} keys · {page.request_charge:g} RU", file=sys.stderr)
    return 0


async def _load_key(ws: Workspace, args: argparse.Namespace, must_exist: bool = True):
    location = await ws.location(args.store)
    app_id = args.app_id or ws.default_app_id()
    if app_id is None and location.key_prefix.mode.name in {"APPID", "NAMESPACE"}:
        raise UsageError("which app owns the key? Pass --app-id (the id prefix is <app-id>||<key>).")
    if "||" in args.key:
        # Actor/workflow state (type||id||key) sits under the same id prefix as plain keys.
        doc_id = document_id("_", location.key_prefix, app_id or "", location.store)[:-1] + args.key
    else:
        doc_id = document_id(args.key, location.key_prefix, app_id or "", location.store)
    partition = args.partition
    if partition is None:
        # Find the item's own partition: writing under the default (the id) when the
        # item lives elsewhere would create a second item with the same id.
        found = await ws.lister(args.store).items_with_id(location.database, location.container, doc_id)
        partitions = sorted({str(item.get("partitionKey", "")) for item in found})
        if len(partitions) > 1:
            raise UsageError(f"{doc_id!r} exists in {len(partitions)} partitions ({', '.join(partitions)}); pass --partition.")
        partition = partitions[0] if partitions else doc_id
    gateway = ws.gateway(args.store)
    try:
        key = await gateway.get(location, doc_id, partition, time.time())
    except ExplorerError as exc:
        if must_exist or exc.exit_code != 3:
            raise
        key = None
    return location, gateway, doc_id, partition, key


def _value_json(key: KeyValue) -> Any:
    if key.is_binary:
        return {"base64": base64.b64encode(key.value_bytes).decode(), "size": len(key.value_bytes)}
    return orjson.loads(key.value_bytes)


async def cmd_get(ws: Workspace, args: argparse.Namespace) -> int:
    location, gateway, doc_id, partition, key = await _load_key(ws, args)
    now = time.time()
    out = {"id": doc_id, "key": key.state_key.key, "appId": key.state_key.app_id, "kind": key.state_key.kind.name.lower(),
           "partitionKey": key.partition_key, "etag": key.etag, "ts": key.document.get("_ts"), "ttl": key.document.get("ttl"),
           "expiresAt": key.expiry.at, "expires": countdown_text(key.expiry, now), "isBinary": key.is_binary,
           "value": _value_json(key)}
    if key.state_key.read_only_reason:
        out["readOnly"] = key.state_key.read_only_reason
    if args.json:
        _emit_json(out)
    else:
        Console().print_json(orjson.dumps(out).decode())
    return 0


def _parse_value(args: argparse.Namespace) -> bytes:
    if args.base64:
        try:
            return base64.b64decode(args.value, validate=True)
        except ValueError as exc:
            raise UsageError(f"VALUE is not valid base64 ({exc}); nothing was sent.") from exc
    try:
        orjson.loads(args.value)
    except orjson.JSONDecodeError as exc:
        raise UsageError(f"VALUE is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}; nothing was sent.") from exc
    return args.value.encode()


def _refuse_if_read_only(ws: Workspace) -> None:
    if ws.read_only:
        raise ReadOnlyRefusal("read-only: this session cannot write (started with --read-only). Nothing was sent.")


async def cmd_set(ws: Workspace, args: argparse.Namespace) -> int:
    _refuse_if_read_only(ws)
    value = _parse_value(args)
    ttl = TtlChoice.parse(args.ttl)
    location, gateway, doc_id, partition, key = await _load_key(ws, args, must_exist=False)
    assert isinstance(gateway, WritableGateway)
    if key is None:
        # A new key: it has no etag yet; it is written in the partition asked for.
        from explorer.sidecar import StateWrite

        sidecar = await gateway.writer_for(parse_document_id(doc_id, location.key_prefix, location.store))
        metadata = {"partitionKey": partition}
        if ttl.mode.value == "set":
            metadata["ttlInSeconds"] = str(ttl.seconds)
        await sidecar.save(location.store, [StateWrite(args.key, value, metadata=metadata)])
    else:
        if args.etag:
            key = KeyValue(key.state_key, key.document, key.value_bytes, args.etag, key.expiry)
        await gateway.save(location, key, value, ttl, time.time())
    after = await gateway.get(location, doc_id, partition, time.time())
    if args.json:
        _emit_json({"id": doc_id, "etag": after.etag, "ttl": after.document.get("ttl"), "expiresAt": after.expiry.at})
    else:
        print(f"saved {args.key} · etag {after.etag} · {countdown_text(after.expiry, time.time())}")
    return 0


async def cmd_delete(ws: Workspace, args: argparse.Namespace) -> int:
    _refuse_if_read_only(ws)
    location, gateway, doc_id, partition, key = await _load_key(ws, args)
    assert isinstance(gateway, WritableGateway)
    if args.etag:
        key = KeyValue(key.state_key, key.document, key.value_bytes, args.etag, key.expiry)
    await gateway.delete(location, key)
    if args.json:
        _emit_json({"id": doc_id, "deleted": True})
    else:
        print(f"deleted {args.key}")
    return 0


async def cmd_export(ws: Workspace, args: argparse.Namespace) -> int:
    """JSON lines, one per item: decoded key, envelope fields and value. Streams; never holds a partition."""
    location = await ws.location(args.store)
    lister = ws.lister(args.store)

    async def partitions():
        if args.partition is not None:
            yield args.partition
            return
        async for batch in lister.partitions(location.database, location.container):
            for pk in batch.partitions:
                yield pk

    count = 0
    gateway = ws.gateway(args.store)
    now = time.time()
    async for pk in partitions():
        async for row in lister.iter_keys(location.database, location.container, pk):
            key = await gateway.get(location, row.id, pk, now)
            _emit_json({"id": row.id, "key": key.state_key.key, "appId": key.state_key.app_id,
                        "kind": key.state_key.kind.name.lower(), "partitionKey": pk, "etag": key.etag,
                        "ts": key.document.get("_ts"), "ttl": key.document.get("ttl"), "isBinary": key.is_binary,
                        "value": _value_json(key)})
            count += 1
    print(f"exported {count} items", file=sys.stderr)
    return 0


COMMANDS: dict[str, Callable] = {
    "stores": cmd_stores, "doctor": cmd_doctor, "partitions": cmd_partitions, "keys": cmd_keys,
    "get": cmd_get, "set": cmd_set, "delete": cmd_delete, "export": cmd_export,
}
