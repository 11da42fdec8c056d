"""The session's reads of one key: finding it by text, opening it by point read, and asking Dapr
whether it reads the same value and etag.

What it is for: the session's `find_id`, `open_key` and `check_through_dapr`. Opening a key is a
Cosmos point read, returned as soon as it lands; the owning sidecar is asked afterwards, so a slow or
hung sidecar never holds the key back. What it must never do: write, or read a key through another
sidecar than the one of the app that owns it.
"""

from __future__ import annotations

import time

import orjson

from explorer.core.envelope import KeyKind, document_id
from explorer.core.model import MissingPartitionKey, StoreLocation, partition_of
from explorer.core.opened import FoundId, OpenedKey
from explorer.session.workspace import Workspace


def same_value(dapr: bytes, document: bytes, is_binary: bool) -> bool:
    """Whether Dapr's bytes and the document's value are the same value (JSON compared as JSON:
    Dapr re-serialises objects, so key order and spacing may differ)."""
    if dapr == document or is_binary:
        return dapr == document
    try:
        return orjson.loads(dapr) == orjson.loads(document)
    except orjson.JSONDecodeError:
        return False


async def find_id(workspace: Workspace, location: StoreLocation, text: str) -> list[FoundId]:
    """Items whose id is `text`, or whose Dapr key is `text` under any connected app-id."""
    lister = workspace.lister(location.store)
    candidates = [text]
    for app_id in list(workspace.sidecars) or [""]:
        try:
            doc_id = document_id(text, location.key_prefix, app_id, location.store)
        except ValueError:  # '||' in it: already a document id (actor/workflow state)
            break
        if doc_id not in candidates:
            candidates.append(doc_id)
    found: list[FoundId] = []
    for doc_id in candidates:
        for item in await lister.items_with_id(location.database, location.container, doc_id):
            found.append(FoundId(doc_id, partition_of(item)))
    return found


async def open_key(workspace: Workspace, location: StoreLocation, doc_id: str, partition: str) -> OpenedKey:
    """The document by point read, as soon as it lands. When a sidecar can read the key,
    `dapr_app` names it: `check_through_dapr` then compares Dapr's read with the document."""
    gateway = workspace.gateway(location.store)
    key = await gateway.get(location, doc_id, partition, time.time())
    state_key = key.state_key
    if isinstance(key.partition_key, MissingPartitionKey):  # Dapr always reads with a partitionKey
        return OpenedKey(key, "Cosmos point read (no partitionKey: Dapr cannot address this item)")
    if state_key.kind is KeyKind.PLAIN and state_key.read_only_reason is None:
        if gateway.sidecar_for(state_key.app_id) is not None:
            app = state_key.app_id or next(iter(workspace.sidecars), "?")
            return OpenedKey.asking_dapr(key, app)
    why = state_key.read_only_reason or f"no sidecar for app-id {state_key.app_id or '(none)'} is connected"
    return OpenedKey(key, f"Cosmos point read ({why.split(':')[0]})")


async def check_through_dapr(workspace: Workspace, location: StoreLocation, opened: OpenedKey) -> OpenedKey:
    """`opened` with Dapr's verdict: read through the owning sidecar, same value and etag or not."""
    if opened.dapr_app is None:
        return opened
    key, app = opened.key, opened.dapr_app
    sidecar = workspace.gateway(location.store).sidecar_for(key.state_key.app_id)
    if sidecar is None:
        return OpenedKey(key, "Cosmos point read", (f"no sidecar for app-id {app} is connected",), app, True)
    try:
        read = await workspace.sidecars.read(sidecar, location.store, key.state_key.key, key.partition_key)
    except Exception as exc:  # noqa: BLE001 - the document is shown; Dapr's failure is a warning on it
        return OpenedKey(key, "Cosmos point read", (f"Dapr could not read it: {exc}",), app, True)
    warnings = []
    if read.etag and read.etag != key.etag:
        warnings.append(f"Dapr returned etag {read.etag}; Cosmos has {key.etag} (changed between the two reads? press r)")
    elif not same_value(read.data, key.value_bytes, key.is_binary):
        warnings.append("Dapr returned a different value than the document holds; showing the document's")
    return OpenedKey(key, f"Dapr ({app})", tuple(warnings), app, True)
