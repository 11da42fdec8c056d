"""Cosmos DB's transactional batch on the local server (docs/local-stack.md, "Transactional batch"):
all operations in one partition, in order, all or nothing; a failed batch answers 207 with the
failing operation's status and 424 for the others; more than 100 operations is a 400. Proven with
azure-cosmos' execute_item_batch and with Dapr's own state transactions through a real daprd
(components-contrib's Cosmos store runs ExecuteStateTransaction as one such batch). Real daprd and
the real server over HTTPS; one stack for the module."""

from __future__ import annotations

import time
import uuid

import grpc
import orjson
import pytest
from azure.cosmos.exceptions import CosmosBatchOperationError, CosmosHttpResponseError, CosmosResourceNotFoundError
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, state_pb2

from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE

from .conftest import own_stack

pytestmark = pytest.mark.integration

SYSTEM = ("_etag", "_ts", "_rid", "_self", "_attachments")


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    with own_stack(tmp_path_factory, "batch", seeded=False) as stack:
        yield stack


@pytest.fixture(scope="module")
def agents(local):
    return local.cosmos_client().get_database_client("dapr-agents").get_container_client("agent-registry")


def tag() -> str:
    return uuid.uuid4().hex[:8]


def partition_items(container, partition: str) -> dict[str, dict]:
    """Every item of one partition, by id, exactly as stored (system fields included)."""
    found = container.query_items("SELECT * FROM c", partition_key=partition)
    return {item["id"]: item for item in found}


def statuses(results) -> list[int]:
    return [int(r["statusCode"]) for r in results]


# -- 1. azure-cosmos execute_item_batch ------------------------------------------------------------


def test_a_batch_runs_create_upsert_replace_delete_read_in_order_in_its_partition(agents):
    pk = f"batch-{tag()}"
    for name in ("to-replace", "to-delete", "to-read"):
        agents.create_item({"id": name, "partitionKey": pk, "n": 0})
    # a query of the partition before the batch: its rows are cached, the batch must drop them
    assert sorted(partition_items(agents, pk)) == ["to-delete", "to-read", "to-replace"]
    # an item with the same ids in another partition is not touched
    other = f"other-{tag()}"
    agents.create_item({"id": "to-delete", "partitionKey": other, "n": 9})

    results = agents.execute_item_batch(
        [
            ("create", ({"id": "created", "partitionKey": pk, "n": 1},)),
            ("upsert", ({"id": "upserted", "partitionKey": pk, "n": 2},)),
            ("replace", ("to-replace", {"id": "to-replace", "partitionKey": pk, "n": 3})),
            ("delete", ("to-delete",)),
            ("read", ("to-read",)),
            ("read", ("created",)),  # sees the create before it: operations run in order
            ("upsert", ({"id": "created", "partitionKey": pk, "n": 4},)),
        ],
        partition_key=pk,
    )
    assert statuses(results) == [201, 201, 200, 204, 200, 200, 200]
    assert results[4]["resourceBody"]["n"] == 0 and results[5]["resourceBody"]["n"] == 1
    assert results[2]["resourceBody"]["n"] == 3

    stored = partition_items(agents, pk)  # the same query text as before the batch
    assert sorted(stored) == ["created", "to-read", "to-replace", "upserted"]
    assert stored["created"]["n"] == 4 and stored["upserted"]["n"] == 2 and stored["to-replace"]["n"] == 3
    assert stored["created"]["_etag"] == results[6]["eTag"] and stored["to-replace"]["_etag"] == results[2]["eTag"]
    assert stored["to-read"]["_etag"] == results[4]["eTag"]
    assert agents.read_item("to-delete", partition_key=other)["n"] == 9


# (batch, index of the operation that fails, its status); "a", "b", "c" exist in the partition
FAILING = {
    "if-match mismatch on replace": ([("replace", ("c", {"id": "c", "partitionKey": "{pk}", "n": 9}), {"if_match_etag": "stale"})], 412),
    "if-match mismatch on upsert": ([("upsert", ({"id": "a", "partitionKey": "{pk}", "n": 9},), {"if_match_etag": "stale"})], 412),
    "if-match mismatch on delete": ([("delete", ("a",), {"if_match_etag": "stale"})], 412),
    "create of an existing id": ([("create", ({"id": "a", "partitionKey": "{pk}"},))], 409),
    "replace of a missing id": ([("replace", ("nope", {"id": "nope", "partitionKey": "{pk}"}))], 404),
    "delete of a missing id": ([("delete", ("nope",))], 404),
    "read of a missing id": ([("read", ("nope",))], 404),
    "a body in another partition": ([("upsert", ({"id": "elsewhere", "partitionKey": "not-{pk}"},))], 400),
    "an id over 1,023 bytes": ([("create", ({"id": "x" * 1024, "partitionKey": "{pk}"},))], 400),
}


def _fill(operation, pk):
    def fill(value):
        if isinstance(value, str):
            return value.replace("{pk}", pk)
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, tuple):
            return tuple(fill(v) for v in value)
        return value

    return fill(operation)


@pytest.mark.parametrize("case", sorted(FAILING))
def test_one_failing_operation_rolls_back_every_other_and_answers_207(agents, case):
    failing, status = FAILING[case]
    pk = f"rollback-{tag()}"
    for name in ("a", "b", "c"):
        agents.create_item({"id": name, "partitionKey": pk, "n": 0, "nested": {"keep": [1, 2]}})
    before = partition_items(agents, pk)
    time.sleep(1.1)  # a write that slipped through would carry a later _ts

    batch = [
        ("upsert", ({"id": "a", "partitionKey": pk, "n": 1},)),
        ("delete", ("b",)),
        ("create", ({"id": "new", "partitionKey": pk},)),
        ("replace", ("c", {"id": "c", "partitionKey": pk, "n": 3})),
        _fill(failing[0], pk),
        ("upsert", ({"id": "after", "partitionKey": pk},)),
    ]
    with pytest.raises(CosmosBatchOperationError) as raised:
        agents.execute_item_batch(batch, partition_key=pk)
    error = raised.value
    assert (error.error_index, error.status_code) == (4, status)
    assert statuses(error.operation_responses) == [424, 424, 424, 424, status, 424]

    # nothing changed: the same items, each with its etag, _ts, _rid and body
    assert partition_items(agents, pk) == before
    for name, item in before.items():
        assert agents.read_item(name, partition_key=pk) == item
    for gone in ("new", "after", "elsewhere"):
        with pytest.raises(CosmosResourceNotFoundError):
            agents.read_item(gone, partition_key=pk)

    # and the partition still takes a batch: the same operations without the failing one
    results = agents.execute_item_batch(batch[:4], partition_key=pk)
    assert statuses(results) == [200, 204, 201, 200]
    assert sorted(partition_items(agents, pk)) == ["a", "c", "new"]


def test_more_than_100_operations_is_a_400_and_100_are_applied(agents):
    pk = f"limit-{tag()}"
    too_many = [("create", ({"id": f"i{i}", "partitionKey": pk},)) for i in range(101)]
    with pytest.raises(CosmosHttpResponseError) as raised:
        agents.execute_item_batch(too_many, partition_key=pk)
    assert not isinstance(raised.value, CosmosBatchOperationError)
    assert raised.value.status_code == 400
    assert "Batch request has more operations than what is supported." in raised.value.message
    assert partition_items(agents, pk) == {}

    with pytest.raises(CosmosHttpResponseError) as raised:
        agents.execute_item_batch([], partition_key=pk)
    assert raised.value.status_code == 400 and "Batch request has no operations." in raised.value.message

    results = agents.execute_item_batch(too_many[:100], partition_key=pk)
    assert statuses(results) == [201] * 100
    assert len(partition_items(agents, pk)) == 100


# -- 2. Dapr's state transactions through daprd ----------------------------------------------------


async def call(address: str, method: str, request) -> grpc.aio.AioRpcError | object:
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            return await getattr(dapr_pb2_grpc.DaprStub(channel), method)(request, timeout=20)
        except grpc.aio.AioRpcError as exc:
            return exc


def upsert(key: str, value: bytes, etag: str | None = None, **metadata: str):
    item = common_pb2.StateItem(key=key, value=value, metadata=metadata)
    if etag is not None:
        item.etag.value = etag
    return state_pb2.TransactionalStateOperation(operationType="upsert", request=item)


def delete(key: str, etag: str | None = None):
    item = common_pb2.StateItem(key=key)
    if etag is not None:
        item.etag.value = etag
    return state_pb2.TransactionalStateOperation(operationType="delete", request=item)


def transaction(partition: str, *operations):
    return state_pb2.ExecuteStateTransactionRequest(
        storeName=AGENTS_STORE, operations=list(operations), metadata={"partitionKey": partition}
    )


async def save(address: str, partition: str, key: str, value: bytes, **metadata: str):
    item = common_pb2.StateItem(key=key, value=value, metadata={"partitionKey": partition, **metadata})
    reply = await call(address, "SaveState", state_pb2.SaveStateRequest(store_name=AGENTS_STORE, states=[item]))
    assert not isinstance(reply, grpc.aio.AioRpcError), reply


def doc(container, partition: str, key: str) -> dict:
    return container.read_item(f"{AGENTS_APP}||{key}", partition_key=partition)


async def test_a_dapr_transaction_with_one_stale_etag_changes_nothing_and_a_good_one_applies_all(local, agents):
    address = local.sidecars[AGENTS_APP].grpc_address
    pk = f"tx-🤖-{tag()}"  # daprd's Go SDK writes this header as "\U0001f916"
    await save(address, pk, "k1", b'{"v":1}')
    await save(address, pk, "k2", b'{"v":1}')
    k1, k2 = doc(agents, pk, "k1"), doc(agents, pk, "k2")
    before = partition_items(agents, pk)

    stale = await call(
        address,
        "ExecuteStateTransaction",
        transaction(
            pk,
            upsert("k1", b'{"v":2}', etag=k1["_etag"]),
            upsert("k3", b'{"v":2}'),
            delete("k2", etag=str(uuid.uuid4())),  # stale
        ),
    )
    assert isinstance(stale, grpc.aio.AioRpcError)
    assert "operation 2 which failed with status code 412" in stale.details()
    assert partition_items(agents, pk) == before

    good = await call(
        address,
        "ExecuteStateTransaction",
        transaction(
            pk,
            upsert("k1", b'{"v":2}', etag=k1["_etag"]),
            upsert("k3", b'{"v":2}'),
            delete("k2", etag=k2["_etag"]),
        ),
    )
    assert not isinstance(good, grpc.aio.AioRpcError), good
    after = partition_items(agents, pk)
    assert sorted(after) == [f"{AGENTS_APP}||k1", f"{AGENTS_APP}||k3"]
    assert after[f"{AGENTS_APP}||k1"]["value"] == {"v": 2} and after[f"{AGENTS_APP}||k1"]["_etag"] != k1["_etag"]
    read = await call(address, "GetState", state_pb2.GetStateRequest(store_name=AGENTS_STORE, key="k3", metadata={"partitionKey": pk}))
    assert orjson.loads(read.data) == {"v": 2} and read.etag == after[f"{AGENTS_APP}||k3"]["_etag"]


VALUES = {
    "json object": b'{"model":"gpt-4o","n":3,"nested":{"a":[1,2]}}',
    "json array (stored base64)": b"[1,2,3]",
    "binary": bytes(range(256)),
    "text": "données-clé-🤖".encode(),
}


async def test_documents_a_dapr_transaction_writes_equal_what_single_saves_write(local, agents):
    address = local.sidecars[AGENTS_APP].grpc_address
    pk = f"same-{tag()}"
    operations = []
    for n, value in enumerate(VALUES.values()):
        await save(address, pk, f"single-{n}", value, ttlInSeconds="300")
        operations.append(upsert(f"tx-{n}", value, ttlInSeconds="300"))
        await save(address, pk, f"single-plain-{n}", value)
        operations.append(upsert(f"tx-plain-{n}", value))
    reply = await call(address, "ExecuteStateTransaction", transaction(pk, *operations))
    assert not isinstance(reply, grpc.aio.AioRpcError), reply

    def envelope(item: dict) -> dict:
        return {k: v for k, v in item.items() if k not in SYSTEM and k != "id"}

    for n, name in enumerate(VALUES):
        for kind in ("", "plain-"):
            single, tx = doc(agents, pk, f"single-{kind}{n}"), doc(agents, pk, f"tx-{kind}{n}")
            assert tx["id"] == f"{AGENTS_APP}||tx-{kind}{n}", name
            assert envelope(tx) == envelope(single), name
            assert tx["partitionKey"] == pk
            assert (tx.get("ttl"), "ttl" in tx) == ((300, True) if not kind else (None, False)), name


async def test_a_dapr_transaction_that_deletes_a_missing_key_fails_unless_that_is_all_it_does(local, agents):
    """Cosmos DB fails the whole batch on the delete's 404 and answers 424 for every other
    operation; Dapr's Multi forgives a 404 on a delete without etag but not a 424
    (components-contrib v1.18.3, state/azure/cosmosdb/cosmosdb.go). So only a transaction whose
    one operation is that delete succeeds; any other with a missing key's delete fails whole."""
    address = local.sidecars[AGENTS_APP].grpc_address
    pk = f"missing-{tag()}"
    for operations in ([upsert("k", b'{"v":1}'), delete("never")], [delete("never"), delete("never-2")]):
        failed = await call(address, "ExecuteStateTransaction", transaction(pk, *operations))
        assert isinstance(failed, grpc.aio.AioRpcError) and failed.details().endswith("transaction failed")
    assert partition_items(agents, pk) == {}

    alone = await call(address, "ExecuteStateTransaction", transaction(pk, delete("never")))
    assert not isinstance(alone, grpc.aio.AioRpcError), alone
