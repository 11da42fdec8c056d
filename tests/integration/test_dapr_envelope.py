"""What Dapr writes into Cosmos, proven against the real stack (real daprd, real server)."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone

import orjson
import pytest
from azure.cosmos.exceptions import CosmosResourceNotFoundError

from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE, CACHE_APP, CACHE_STORE
from explorer.errors import EtagConflict, InvalidKey
from explorer.dapr.sidecar import SidecarClient, StateWrite

from .conftest import container

pytestmark = pytest.mark.integration


def unique(prefix: str) -> str:
    return f"{prefix}:{uuid.uuid4().hex[:10]}"


async def test_saved_value_appears_as_dapr_envelope(stack, cosmos):
    key = unique("envelope")
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as dapr:
        await dapr.save(AGENTS_STORE, [StateWrite(key, orjson.dumps({"model": "gpt-4o", "n": 3}))])
        read = await dapr.get(AGENTS_STORE, key)

    doc_id = f"{AGENTS_APP}||{key}"
    # Without partitionKey metadata Dapr uses the whole id as the partition key.
    item = container(cosmos, "dapr-agents", "agent-registry").read_item(doc_id, partition_key=doc_id)
    assert item["id"] == doc_id
    assert item["value"] == {"model": "gpt-4o", "n": 3}
    assert item["isBinary"] is False
    assert item["partitionKey"] == doc_id
    assert "ttl" not in item
    assert item["_etag"] == read.etag
    assert orjson.loads(read.data) == {"model": "gpt-4o", "n": 3}


async def test_stale_etag_is_rejected_and_nothing_changes(stack, cosmos):
    key = unique("etag")
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as dapr:
        await dapr.save(AGENTS_STORE, [StateWrite(key, b'{"v":1}', metadata={"partitionKey": "claude"})])
        first = await dapr.get(AGENTS_STORE, key, {"partitionKey": "claude"})
        await dapr.save(AGENTS_STORE, [StateWrite(key, b'{"v":2}', etag=first.etag, metadata={"partitionKey": "claude"})])
        with pytest.raises(EtagConflict, match="etag mismatch"):
            await dapr.save(AGENTS_STORE, [StateWrite(key, b'{"v":3}', etag=first.etag, metadata={"partitionKey": "claude"})])
        with pytest.raises(EtagConflict):
            await dapr.delete(AGENTS_STORE, key, etag=first.etag, metadata={"partitionKey": "claude"})
        after = await dapr.get(AGENTS_STORE, key, {"partitionKey": "claude"})

    assert orjson.loads(after.data) == {"v": 2}
    item = container(cosmos, "dapr-agents", "agent-registry").read_item(f"{AGENTS_APP}||{key}", partition_key="claude")
    assert item["value"] == {"v": 2} and item["_etag"] == after.etag != first.etag


async def test_ttl_in_seconds_lands_as_item_ttl(stack, cosmos):
    key = unique("session:ttl")
    async with SidecarClient(stack.sidecars[CACHE_APP].grpc_address) as dapr:
        await dapr.save(CACHE_STORE, [StateWrite(key, b'{"t":1}', metadata={"partitionKey": "temp", "ttlInSeconds": "90"})])
        read = await dapr.get(CACHE_STORE, key, {"partitionKey": "temp"})

    item = container(cosmos, "dapr-cache", "session-cache").read_item(f"{CACHE_APP}||{key}", partition_key="temp")
    assert item["ttl"] == 90
    expires = datetime.fromisoformat(read.metadata["ttlExpireTime"].replace("Z", "+00:00"))
    assert expires == datetime.fromtimestamp(item["_ts"] + 90, tz=timezone.utc)
    props = stack.cosmos_client().get_database_client("dapr-cache").get_container_client("session-cache").read()
    assert props["defaultTtl"] == -1, "the cache container must have TTL on for ttlInSeconds to take effect"


async def test_partition_key_metadata_routes_the_item(stack, cosmos):
    key = unique("agent:routed")
    doc_id = f"{AGENTS_APP}||{key}"
    agents = container(cosmos, "dapr-agents", "agent-registry")
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as dapr:
        await dapr.save(AGENTS_STORE, [StateWrite(key, b'{"x":1}', metadata={"partitionKey": "gpt4"})])
        # Reading without the partition key looks in partition <id> and finds nothing.
        missing = await dapr.get(AGENTS_STORE, key)
    assert missing.data == b"" and missing.etag == ""

    assert agents.read_item(doc_id, partition_key="gpt4")["partitionKey"] == "gpt4"
    with pytest.raises(CosmosResourceNotFoundError):
        agents.read_item(doc_id, partition_key=doc_id)
    in_partition = list(
        agents.query_items("SELECT c.id FROM c WHERE c.partitionKey = @pk", parameters=[{"name": "@pk", "value": "gpt4"}],
                           partition_key="gpt4")
    )
    assert {"id": doc_id} in in_partition


async def test_binary_value_round_trips_byte_for_byte(stack, cosmos):
    key = unique("blob")
    payload = bytes(range(256)) + b"\x00not json\xff"
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as dapr:
        await dapr.save(AGENTS_STORE, [StateWrite(key, payload, metadata={"partitionKey": "custom"})])
        read = await dapr.get(AGENTS_STORE, key, {"partitionKey": "custom"})
    assert read.data == payload
    item = container(cosmos, "dapr-agents", "agent-registry").read_item(f"{AGENTS_APP}||{key}", partition_key="custom")
    assert item["isBinary"] is True
    assert base64.b64decode(item["value"]) == payload


async def test_json_that_is_not_an_object_is_stored_binary(stack, cosmos):
    """Dapr unmarshals into an object: arrays and strings become base64 (recorded in the notes)."""
    key = unique("array")
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as dapr:
        await dapr.save(AGENTS_STORE, [StateWrite(key, b"[1,2,3]", metadata={"partitionKey": "custom"})])
    item = container(cosmos, "dapr-agents", "agent-registry").read_item(f"{AGENTS_APP}||{key}", partition_key="custom")
    assert item["isBinary"] is True and base64.b64decode(item["value"]) == b"[1,2,3]"


async def test_keys_with_double_pipe_are_refused_by_the_state_api(stack):
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as dapr:
        with pytest.raises(InvalidKey, match=r"can't contain '\|\|'"):
            await dapr.save(AGENTS_STORE, [StateWrite("actor||like", b"{}")])


async def test_sidecar_metadata_lists_the_cosmos_stores(stack):
    async with SidecarClient(stack.sidecars[CACHE_APP].grpc_address) as dapr:
        meta = await dapr.metadata()
    assert meta.app_id == CACHE_APP
    names = {s.name: s for s in meta.stores}
    assert set(names) == {"statestore-agents-cosmos", "statestore-cache-cosmos", "statestore-workflows-cosmos"}
    assert {"ETAG", "TTL", "PARTITION_KEY"} <= set(names[CACHE_STORE].capabilities)
    assert "ACTOR" in names["statestore-workflows-cosmos"].capabilities
