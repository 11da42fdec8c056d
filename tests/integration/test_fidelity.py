"""Differential fidelity: the document after the explorer's edit equals the one Dapr's own write of
that value produces, for every value shape, keyPrefix mode, TTL choice and partitioning.

For each combination, against the real daprd and the real Cosmos-compatible server:
1. an app saves the original value through daprd as apps do (HTTP state API; gRPC for bytes);
2. the explorer edits it to a new value of the same shape through its one write path
   (`ExplorerSession.save`, what the TUI's ctrl+s and the CLI's `set` call);
3. Dapr's own write of that new value (HTTP; gRPC for bytes, with the same ttl and partitionKey)
   replaces it; the two documents must be equal in every field but `_etag`, `_ts`, `_rid`,
   `_self`, `_attachments` (and `ttl` when the choice keeps the expiry instant: then it is checked
   to keep it), and there must be exactly one item with that id after the explorer's write.
"""

from __future__ import annotations

import asyncio
import os
import textwrap
import time
from dataclasses import dataclass

import pytest

from explorer.core.envelope import KeyPrefix, document_id
from explorer.core.model import TtlChoice, TtlMode
from explorer.session import ExplorerSession
from explorer.sidecar import SidecarClient, StateWrite
from tests.support import http_save

pytestmark = pytest.mark.integration

APP = "fidelity-app"
NAMESPACE = "fid-ns"
DATABASE = "fidelity"
ORIGINAL_TTL = 600
IGNORED = {"_etag", "_ts", "_rid", "_self", "_attachments", "_lsn"}

#: keyPrefix metadata value per mode; "MyPrefix" is lower-cased by daprd.
PREFIX_MODES = {"appid": "appid", "name": "name", "namespace": "namespace", "none": "none", "custom": "MyPrefix"}


@dataclass(frozen=True)
class Shape:
    name: str
    original: bytes  # JSON text, or raw bytes when binary
    new: bytes
    binary: bool = False


SHAPES = [
    Shape("object", b'{"a":1,"b":"x"}', b'{"a":2,"c":[1,2]}'),
    Shape("nested-object", b'{"o":{"p":{"q":[1,{"r":null}]}}}', b'{"o":{"p":{"q":[2,{"r":true}]},"s":"t"}}'),
    Shape("empty-object", b"{}", b"{}"),
    Shape("array", b'[1,"two",{"three":3}]', b'[4,5,["six"]]'),
    Shape("unicode-string", '"héllo 🤖 𝔘 \\u00e9"'.encode(), '"wörld 中文 😀"'.encode()),
    Shape("empty-string", b'""', b'""'),
    Shape("integer", b"42", b"-43"),
    # beyond 2**53 but exact in a float64, as Dapr keeps numbers (Go's encoding/json); an integer a
    # float64 cannot hold is refused by the explorer's input check (core.display.parse_json_edit)
    Shape("large-integer", b"1152921504606846976", b"4611686018427387904"),
    Shape("float", b"3.14", b"2.5e-8"),
    Shape("boolean", b"true", b"false"),
    Shape("null", b"null", b"null"),
    Shape("binary-bytes", b"\x00\xff\x10binary\x80", b"\x01\x02\xfe", binary=True),
    Shape("bytes-that-are-json", b"[1,2,3]", b'"just text"', binary=True),
]

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


@pytest.fixture(scope="module")
def fidelity_stack(tmp_path_factory):
    """A stack of its own: one Cosmos store per keyPrefix mode, one daprd (app fidelity-app) in
    namespace fid-ns (so namespace mode has a namespace to use)."""
    from explorer.localstack.manager import LocalStack

    resources = tmp_path_factory.mktemp("fidelity-components")
    for mode, prefix in PREFIX_MODES.items():
        (resources / f"fid-{mode}.yaml").write_text(_component(mode, prefix))
    saved = os.environ.get("NAMESPACE")
    os.environ["NAMESPACE"] = NAMESPACE  # read by daprd at start (client_env copies os.environ)
    try:
        local = LocalStack(resources_path=resources, app_ids=(APP,), run_dir=tmp_path_factory.mktemp("fid-stack"))
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


@pytest.fixture(scope="module")
async def session(fidelity_stack):
    env = fidelity_stack.client_env({})
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    opened = await ExplorerSession.open([fidelity_stack.resources_path], [fidelity_stack.sidecars[APP].grpc_address],
                                        None, read_only=False, ca_file=env["SSL_CERT_FILE"], start_sidecars=False)
    try:
        yield opened
    finally:
        await opened.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


async def _app_save(stack, store: str, key: str, shape: Shape, value: bytes, metadata: dict[str, str]) -> None:
    if shape.binary:
        async with SidecarClient(stack.sidecars[APP].grpc_address) as client:
            await client.save(store, [StateWrite(key, value, metadata=metadata)])
    else:
        await asyncio.to_thread(http_save, stack.sidecars[APP].http_port, store, key, value, metadata)


def _doc_id(mode: str, key: str) -> str:
    prefix = KeyPrefix.from_metadata(PREFIX_MODES[mode])
    return document_id(key, prefix, APP, f"fid-{mode}", NAMESPACE)


def _items_with_id(stack, mode: str, doc_id: str) -> list[dict]:
    container = stack.cosmos_client().get_database_client(DATABASE).get_container_client(f"c-{mode}")
    return list(container.query_items("SELECT * FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": doc_id}],
                                      enable_cross_partition_query=True))


def _ttl_metadata(choice: TtlChoice) -> dict[str, str]:
    """What an app asks of Dapr for the same expiry as the explorer's choice (keep: restart's
    figure, and ttl is then compared as an instant, not as a number)."""
    if choice.mode is TtlMode.SET:
        return {"ttlInSeconds": str(choice.seconds)}
    if choice.mode is TtlMode.NONE:
        return {"ttlInSeconds": "-1"}
    return {"ttlInSeconds": str(ORIGINAL_TTL)}


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
@pytest.mark.parametrize("mode", list(PREFIX_MODES))
async def test_explorer_edit_equals_daprs_own_write(fidelity_stack, session, mode, shape):
    stack = fidelity_stack
    store = f"fid-{mode}"
    location = await session.location(store)
    mismatches = []
    for choice in TTL_CHOICES:
        for custom_partition in (False, True):
            key = f"{shape.name}/{choice.mode.value}/{'pk' if custom_partition else 'id'}/{time.time_ns()}"
            key = key.replace("/", ":")
            doc_id = _doc_id(mode, key)
            partition = "custom-partition" if custom_partition else doc_id
            base = {"partitionKey": partition} if custom_partition else {}
            await _app_save(stack, store, key, shape, shape.original, {**base, "ttlInSeconds": str(ORIGINAL_TTL)})

            opened = await session.read(location, doc_id, partition)
            before_ts = time.time()
            await session.save(location, opened, shape.new, choice)
            mine = _items_with_id(stack, mode, doc_id)
            assert len(mine) == 1, f"{len(mine)} items with id {doc_id!r} after the explorer's save"

            await _app_save(stack, store, key, shape, shape.new, {**base, **_ttl_metadata(choice)})
            theirs = _items_with_id(stack, mode, doc_id)
            assert len(theirs) == 1
            explorer_doc = {k: v for k, v in mine[0].items() if k not in IGNORED}
            dapr_doc = {k: v for k, v in theirs[0].items() if k not in IGNORED}
            if choice.mode is TtlMode.KEEP:
                # The explorer keeps the instant: remaining time, so ttl <= the original 600 s.
                kept = explorer_doc.pop("ttl")
                dapr_doc.pop("ttl")
                expires = mine[0]["_ts"] + kept
                original_expiry = opened.document["_ts"] + ORIGINAL_TTL
                if not (original_expiry - 1 <= expires <= original_expiry + 2 and kept <= ORIGINAL_TTL):
                    mismatches.append((key, f"keep: expires at {expires}, originally {original_expiry} "
                                            f"(saved at {before_ts:.0f})"))
            if explorer_doc != dapr_doc:
                mismatches.append((key, f"explorer {explorer_doc} != dapr {dapr_doc}"))
    assert not mismatches, "\n".join(f"{k}: {why}" for k, why in mismatches)
