"""The differential fidelity round trip, shared by tests/integration/test_fidelity.py (fixed shapes)
and bench/fidelity_property.py (random values): does the explorer's edit leave the document that
Dapr's own write of the same value leaves?

One round trip, against a real daprd and the real Cosmos-compatible server: an app saves the
original through daprd as apps do (HTTP state API; gRPC for bytes); the explorer edits it through
its one write path (`ExplorerSession.save`, what the TUI's ctrl+s and the CLI's `set` call); then
Dapr's own write of that new value (same way, same ttl and partitionKey) replaces it. The two
documents must be equal in every field but `_etag`, `_ts`, `_rid`, `_self`, `_attachments` (and
`ttl` when the choice keeps the expiry instant: then the instant is checked), and there must be
exactly one item with that id after the explorer's write.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

from explorer.core.envelope import KeyPrefix, document_id
from explorer.core.model import StoreLocation, TtlChoice, TtlMode
from explorer.session.explorer_session import ExplorerSession
from explorer.dapr.sidecar import SidecarClient, StateWrite
from tests.support import http_save

APP = "fidelity-app"
NAMESPACE = "fid-ns"
DATABASE = "fidelity"
ORIGINAL_TTL = 600
IGNORED = {"_etag", "_ts", "_rid", "_self", "_attachments", "_lsn"}

#: keyPrefix metadata value per mode; "MyPrefix" is lower-cased by daprd.
PREFIX_MODES = {"appid": "appid", "name": "name", "namespace": "namespace", "none": "none", "custom": "MyPrefix"}

TTL_CHOICES = [TtlChoice(TtlMode.KEEP), TtlChoice(TtlMode.RESTART), TtlChoice(TtlMode.NONE),
               TtlChoice(TtlMode.SET, 3600)]


def _component(mode: str, prefix: str) -> str:
    return textwrap.dedent(f"""\
        apiVersion: dapr.io/v1alpha1
        kind: Component
        metadata:
          name: fid-{mode}
          annotations:
            dapr-explorer.dev/local-container-default-ttl: "-1"
        spec:
          type: state.azure.cosmosdb
          version: v1
          metadata:
            - name: url
              envRef: COSMOS_URL
            - name: masterKey
              envRef: COSMOS_MASTER_KEY
            - name: database
              value: {DATABASE}
            - name: collection
              value: c-{mode}
            - name: keyPrefix
              value: {prefix}
        """)


@contextlib.contextmanager
def fidelity_stack(folder: Path) -> Iterator:
    """A stack of its own: one Cosmos store per keyPrefix mode, one daprd (app fidelity-app) in
    namespace fid-ns (so namespace mode has a namespace to use)."""
    from explorer.localstack.manager import LocalStack

    resources = folder / "components"
    resources.mkdir(parents=True, exist_ok=True)
    for mode, prefix in PREFIX_MODES.items():
        (resources / f"fid-{mode}.yaml").write_text(_component(mode, prefix))
    saved = os.environ.get("NAMESPACE")
    os.environ["NAMESPACE"] = NAMESPACE  # read by daprd at start (client_env copies os.environ)
    try:
        local = LocalStack(resources_path=resources, app_ids=(APP,), run_dir=folder / "stack")
        local.start()
    finally:
        if saved is None:
            os.environ.pop("NAMESPACE", None)
        else:
            os.environ["NAMESPACE"] = saved
    try:
        yield local
    finally:
        local.stop()


@contextlib.asynccontextmanager
async def explorer_session(stack):
    """The explorer's session on the fidelity stack (the environment it resolves components from)."""
    env = stack.client_env({})
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    opened = await ExplorerSession.open([stack.resources_path], [stack.sidecars[APP].grpc_address], None,
                                        read_only=False, ca_file=env["SSL_CERT_FILE"], start_sidecars=False)
    try:
        yield opened
    finally:
        await opened.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def app_save(stack, store: str, key: str, value: bytes, binary: bool, metadata: dict[str, str]) -> None:
    """As an app saves: JSON through daprd's HTTP state API, bytes through its gRPC API."""
    if binary:
        async with SidecarClient(stack.sidecars[APP].grpc_address) as client:
            await client.save(store, [StateWrite(key, value, metadata=metadata)])
    else:
        await asyncio.to_thread(http_save, stack.sidecars[APP].http_port, store, key, value, metadata)


def doc_id_of(mode: str, key: str) -> str:
    return document_id(key, KeyPrefix.from_metadata(PREFIX_MODES[mode]), APP, f"fid-{mode}", NAMESPACE)


def items_with_id(stack, mode: str, doc_id: str) -> list[dict]:
    container = stack.cosmos_client().get_database_client(DATABASE).get_container_client(f"c-{mode}")
    return list(container.query_items("SELECT * FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": doc_id}],
                                      enable_cross_partition_query=True))


def _ttl_metadata(choice: TtlChoice) -> dict[str, str]:
    """What an app asks of Dapr for the same expiry as the explorer's choice (keep: restart's
    figure; ttl is then compared as an instant, not as a number)."""
    if choice.mode is TtlMode.SET:
        return {"ttlInSeconds": str(choice.seconds)}
    if choice.mode is TtlMode.NONE:
        return {"ttlInSeconds": "-1"}
    return {"ttlInSeconds": str(ORIGINAL_TTL)}


async def round_trip(stack, session: ExplorerSession, location: StoreLocation, mode: str, key: str,
                     original: bytes, new: bytes, binary: bool, choice: TtlChoice,
                     custom_partition: bool) -> list[str]:
    """One differential round trip; the mismatches found (empty: the documents are equal)."""
    store = location.store
    doc_id = doc_id_of(mode, key)
    partition = "custom-partition" if custom_partition else doc_id
    base = {"partitionKey": partition} if custom_partition else {}
    await app_save(stack, store, key, original, binary, {**base, "ttlInSeconds": str(ORIGINAL_TTL)})
    opened = await session.read(location, doc_id, partition)
    await session.save(location, opened, new, choice)
    mine = items_with_id(stack, mode, doc_id)
    if len(mine) != 1:
        return [f"{key!r}: {len(mine)} items with its id after the explorer's save"]
    await app_save(stack, store, key, new, binary, {**base, **_ttl_metadata(choice)})
    theirs = items_with_id(stack, mode, doc_id)
    if len(theirs) != 1:
        return [f"{key!r}: {len(theirs)} items with its id after Dapr's write"]
    problems = []
    explorer_doc = {k: v for k, v in mine[0].items() if k not in IGNORED}
    dapr_doc = {k: v for k, v in theirs[0].items() if k not in IGNORED}
    if choice.mode is TtlMode.KEEP:
        # The explorer keeps the instant: the remaining time, so a ttl <= the original 600 s.
        kept = explorer_doc.pop("ttl", None)
        dapr_doc.pop("ttl", None)
        original_expiry = opened.document["_ts"] + ORIGINAL_TTL
        if not isinstance(kept, int) or not (original_expiry - 1 <= mine[0]["_ts"] + kept <= original_expiry + 2):
            problems.append(f"{key!r}: keep: ttl {kept} at _ts {mine[0]['_ts']} does not expire at {original_expiry}")
    if explorer_doc != dapr_doc:
        problems.append(f"{key!r}: explorer wrote {explorer_doc}, Dapr writes {dapr_doc}")
    return problems


def unique_key(*parts: str) -> str:
    return ":".join([*parts, str(time.time_ns())])
