"""The local Cosmos-compatible server answers as Cosmos DB does where the clients of this
project meet its edges (docs/local-stack.md, "Partition-key header", "Item ids", "Id length",
"Upsert with If-Match"): partition keys outside the Basic Multilingual Plane as daprd's Go SDK
writes them, ids with reserved characters, ids over the length limit, and upsert with If-Match
on a missing item. Real daprd and the real server over HTTPS; one stack for the module."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
import uuid

import grpc
import orjson
import pytest
from azure.core import MatchConditions
from azure.cosmos.exceptions import CosmosAccessConditionFailedError, CosmosHttpResponseError, CosmosResourceNotFoundError
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, state_pb2

from explorer.errors import EtagConflict
from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE, WORKFLOWS_APP, WORKFLOWS_STORE
from explorer.dapr.sidecar import SidecarClient, StateWrite

from .conftest import own_stack

pytestmark = pytest.mark.integration

FIRST_WRITE = common_pb2.StateOptions(concurrency=common_pb2.StateOptions.CONCURRENCY_FIRST_WRITE)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    with own_stack(tmp_path_factory, "fidelity", seeded=False) as stack:
        yield stack


@pytest.fixture(scope="module")
def workflows(local):
    return local.cosmos_client().get_database_client("dapr-workflows").get_container_client("workflow-state")


@pytest.fixture(scope="module")
def agents(local):
    return local.cosmos_client().get_database_client("dapr-agents").get_container_client("agent-registry")


def tag() -> str:
    return uuid.uuid4().hex[:8]


def ids_in(container, partition: str) -> list[str]:
    query = "SELECT c.id FROM c WHERE c.partitionKey = @pk"
    return [i["id"] for i in container.query_items(query, parameters=[{"name": "@pk", "value": partition}], partition_key=partition)]


async def raw_call(address: str, method: str, request) -> grpc.aio.AioRpcError | object:
    """One Dapr gRPC call with the stubs themselves: the error's full details, or the reply."""
    async with grpc.aio.insecure_channel(address) as channel:
        try:
            return await getattr(dapr_pb2_grpc.DaprStub(channel), method)(request, timeout=20)
        except grpc.aio.AioRpcError as exc:
            return exc


# -- 1. partition keys outside the BMP, quotes and control characters, through daprd ----------

# daprd's azcosmos writes the header with strconv.QuoteToASCII: "\U0001f916", "\x01", "\a", "\v".
AWKWARD_KEYS = [
    "emoji-🤖",
    "math-𝔘𝔫𝔦",
    "cjk-ext-b-𠀀𠜎",
    'quote-"x"-\'y\'',
    "ctl-\x01\x07\x0b\x1b\x7f",
    "mixed-é€🤖\x00end",
]


@pytest.mark.parametrize("key", AWKWARD_KEYS)
async def test_keys_outside_the_bmp_and_with_control_characters_save_get_delete_through_daprd(local, workflows, key):
    key = f"{key}-{tag()}"
    doc_id = f"{WORKFLOWS_APP}||{key}"
    async with SidecarClient(local.sidecars[WORKFLOWS_APP].grpc_address) as dapr:
        await dapr.save(WORKFLOWS_STORE, [StateWrite(key, orjson.dumps({"k": key}))])
        read = await dapr.get(WORKFLOWS_STORE, key)
        assert orjson.loads(read.data) == {"k": key} and read.etag

        item = workflows.read_item(doc_id, partition_key=doc_id)  # Python sends JSON "\ud83e\udd16"
        assert item["id"] == doc_id and item["partitionKey"] == doc_id and item["_etag"] == read.etag
        assert ids_in(workflows, doc_id) == [doc_id]

        await dapr.save(WORKFLOWS_STORE, [StateWrite(key, b'{"v":2}', etag=read.etag)])  # upsert with If-Match
        await dapr.delete(WORKFLOWS_STORE, key)
        assert not (await dapr.get(WORKFLOWS_STORE, key)).found
    with pytest.raises(CosmosResourceNotFoundError):
        workflows.read_item(doc_id, partition_key=doc_id)


async def test_partition_key_metadata_outside_the_bmp_routes_reads_and_queries(local, agents):
    key, partition = f"agent:{tag()}", f"team-🤖-𝔘-{tag()}"
    async with SidecarClient(local.sidecars[AGENTS_APP].grpc_address) as dapr:
        await dapr.save(AGENTS_STORE, [StateWrite(key, b'{"x":1}', metadata={"partitionKey": partition})])
        assert orjson.loads((await dapr.get(AGENTS_STORE, key, {"partitionKey": partition})).data) == {"x": 1}
    assert agents.read_item(f"{AGENTS_APP}||{key}", partition_key=partition)["partitionKey"] == partition
    assert ids_in(agents, partition) == [f"{AGENTS_APP}||{key}"]


def test_a_partition_key_header_that_is_neither_json_nor_go_quoted_is_a_400(local):
    cosmos = local.cosmos
    request = urllib.request.Request(
        f"{cosmos.url.rstrip('/')}/dbs/dapr-workflows/colls/workflow-state/docs/x",
        headers={"x-ms-documentdb-partitionkey": '["unterminated'},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, context=ssl.create_default_context(cafile=str(cosmos.ca_file)), timeout=20)
    assert raised.value.code == 400 and orjson.loads(raised.value.read())["code"] == "BadRequest"


# -- 2. ids with reserved characters: create accepted, point operations refused as Cosmos does --

# (key suffix, what a point read answers for daprd (Go, url.PathEscape), for azure-cosmos (Python, '/' raw))
RESERVED = [
    ("slash/x", 401, 404),
    ("back\\slash", 401, 401),
    ("hash#x", 401, 401),
    ("trailing-blank ", 401, 401),
    ("percent%41", 401, 401),
    ("tab\tx", 400, 400),
    ("question?x", 200, 200),
    ("percent-100%", 200, 200),
]


@pytest.mark.parametrize("suffix,go_status,python_status", RESERVED)
async def test_ids_with_reserved_characters_are_stored_but_point_operations_answer_as_cosmos(
    local, workflows, suffix, go_status, python_status
):
    key = f"reserved-{tag()}-{suffix}"
    doc_id = f"{WORKFLOWS_APP}||{key}"
    address = local.sidecars[WORKFLOWS_APP].grpc_address
    async with SidecarClient(address) as dapr:
        await dapr.save(WORKFLOWS_STORE, [StateWrite(key, b'{"r":1}')])  # upsert: id in the body, accepted
    assert ids_in(workflows, doc_id) == [doc_id]  # a query finds it whatever its id

    got = await raw_call(address, "GetState", state_pb2.GetStateRequest(store_name=WORKFLOWS_STORE, key=key))
    deleted = await raw_call(address, "DeleteState", state_pb2.DeleteStateRequest(store_name=WORKFLOWS_STORE, key=key))
    if go_status == 200:
        assert orjson.loads(got.data) == {"r": 1}
        assert not isinstance(deleted, grpc.aio.AioRpcError) and ids_in(workflows, doc_id) == []
        async with SidecarClient(address) as dapr:  # back again, for the Python read below
            await dapr.save(WORKFLOWS_STORE, [StateWrite(key, b'{"r":1}')])
    else:
        for reply in (got, deleted):
            assert isinstance(reply, grpc.aio.AioRpcError) and f"RESPONSE {go_status}" in reply.details()
        assert ids_in(workflows, doc_id) == [doc_id]

    if python_status == 200:
        assert workflows.read_item(doc_id, partition_key=doc_id)["id"] == doc_id
    else:
        with pytest.raises(CosmosHttpResponseError) as raised:
            workflows.read_item(doc_id, partition_key=doc_id)
        assert raised.value.status_code == python_status


def test_azure_cosmos_refuses_to_create_ids_with_reserved_characters_itself(workflows):
    for bad in ("a/b", "a\\b", "a?b", "a#b", "a\tb", "trailing "):
        with pytest.raises(ValueError):
            workflows.create_item({"id": bad, "partitionKey": bad})


# -- 2b. id length: 1,023 bytes ------------------------------------------------------------------


@pytest.mark.parametrize("unit", ["x", "é", "🤖"])
def test_ids_up_to_1023_bytes_are_stored_and_longer_ones_are_a_400(workflows, unit):
    size = len(unit.encode())
    longest = (unit * (1023 // size)).ljust(1023, "x")[: 1023 // size + 1023 % size]
    assert len(longest.encode()) == 1023
    workflows.create_item({"id": longest, "partitionKey": "long-ids"})
    assert workflows.read_item(longest, partition_key="long-ids")["id"] == longest
    workflows.upsert_item({"id": longest, "partitionKey": "long-ids", "v": 2})
    workflows.delete_item(longest, partition_key="long-ids")

    too_long = unit * (1024 // size + 1)
    for write in (workflows.create_item, workflows.upsert_item):
        with pytest.raises(CosmosHttpResponseError) as raised:
            write({"id": too_long, "partitionKey": "long-ids"})
        assert raised.value.status_code == 400
        assert "Ensure to provide a unique non-empty string less than '1024' characters." in raised.value.message


async def test_a_key_whose_document_id_is_over_1023_bytes_is_refused_through_daprd(local, workflows):
    prefix = f"{WORKFLOWS_APP}||"
    fits, over = "k" * (1023 - len(prefix)), "k" * (1024 - len(prefix))
    address = local.sidecars[WORKFLOWS_APP].grpc_address
    async with SidecarClient(address) as dapr:
        await dapr.save(WORKFLOWS_STORE, [StateWrite(fits, b'{"ok":1}')])
        assert orjson.loads((await dapr.get(WORKFLOWS_STORE, fits)).data) == {"ok": 1}
    item = common_pb2.StateItem(key=over, value=b'{"no":1}')
    refused = await raw_call(address, "SaveState", state_pb2.SaveStateRequest(store_name=WORKFLOWS_STORE, states=[item]))
    assert isinstance(refused, grpc.aio.AioRpcError) and "RESPONSE 400" in refused.details()
    assert ids_in(workflows, prefix + over) == []


# -- 3. upsert with If-Match: creates a missing item, 412 on a present one that differs ----------


def test_upsert_with_if_match_creates_a_missing_item_and_is_412_on_a_mismatch(workflows):
    doc_id = f"if-match-{tag()}"
    created = workflows.upsert_item(
        {"id": doc_id, "partitionKey": doc_id, "v": 1}, etag=str(uuid.uuid4()), match_condition=MatchConditions.IfNotModified
    )
    assert created["v"] == 1
    with pytest.raises(CosmosAccessConditionFailedError):
        workflows.upsert_item(
            {"id": doc_id, "partitionKey": doc_id, "v": 2}, etag=str(uuid.uuid4()), match_condition=MatchConditions.IfNotModified
        )
    replaced = workflows.upsert_item(
        {"id": doc_id, "partitionKey": doc_id, "v": 3}, etag=created["_etag"], match_condition=MatchConditions.IfNotModified
    )
    assert replaced["v"] == 3 and workflows.read_item(doc_id, partition_key=doc_id)["v"] == 3


async def test_first_write_without_etag_through_daprd_creates_only_if_absent(local, workflows):
    key = f"first-write-{tag()}"
    address = local.sidecars[WORKFLOWS_APP].grpc_address

    def save(value: bytes):
        item = common_pb2.StateItem(key=key, value=value, options=FIRST_WRITE)  # no etag
        return raw_call(address, "SaveState", state_pb2.SaveStateRequest(store_name=WORKFLOWS_STORE, states=[item]))

    first = await save(b'{"n":1}')
    assert not isinstance(first, grpc.aio.AioRpcError), first
    second = await save(b'{"n":2}')
    assert isinstance(second, grpc.aio.AioRpcError) and second.code() == grpc.StatusCode.ABORTED
    assert "etag mismatch" in second.details().lower()
    async with SidecarClient(address) as dapr:
        read = await dapr.get(WORKFLOWS_STORE, key)
        assert orjson.loads(read.data) == {"n": 1}
        # with the etag it read, first-write is an ordinary conditional save
        await dapr.save(WORKFLOWS_STORE, [StateWrite(key, b'{"n":3}', etag=read.etag)])
        with pytest.raises(EtagConflict):
            await dapr.save(WORKFLOWS_STORE, [StateWrite(key, b'{"n":4}', etag=read.etag)])

    # delete with first-write and no etag: a random If-Match, so 412 on a present item ...
    request = state_pb2.DeleteStateRequest(store_name=WORKFLOWS_STORE, key=key, options=FIRST_WRITE)
    refused = await raw_call(address, "DeleteState", request)
    assert isinstance(refused, grpc.aio.AioRpcError) and refused.code() == grpc.StatusCode.ABORTED
    assert workflows.read_item(f"{WORKFLOWS_APP}||{key}", partition_key=f"{WORKFLOWS_APP}||{key}")["value"] == {"n": 3}
    # ... and nothing to refuse on a missing one (Dapr treats Cosmos' 404 on delete as done)
    gone = state_pb2.DeleteStateRequest(store_name=WORKFLOWS_STORE, key=f"never-{tag()}", options=FIRST_WRITE)
    assert not isinstance(await raw_call(address, "DeleteState", gone), grpc.aio.AioRpcError)


# -- Queries scoped by the partition-key header; the 'undefined' partition ------------------------------

def test_a_query_with_a_partition_key_header_runs_in_that_partition_whatever_its_sql(agents):
    """REST "Query Documents": the x-ms-documentdb-partitionkey header scopes a query to one
    partition; only a query without it needs x-ms-documentdb-query-enablecrosspartition. The
    package refused a scoped query whose WHERE did not name the partition key."""
    t = tag()
    for pk in (f"a-{t}", f"b-{t}"):
        agents.upsert_item({"id": f"same-{t}", "partitionKey": pk, "value": pk, "isBinary": False})
    found = list(agents.query_items("SELECT c.id, c.partitionKey FROM c WHERE c.id = @id",
                                    parameters=[{"name": "@id", "value": f"same-{t}"}], partition_key=f"a-{t}"))
    assert found == [{"id": f"same-{t}", "partitionKey": f"a-{t}"}]
    everything = list(agents.query_items("SELECT VALUE c.partitionKey FROM c", partition_key=f"b-{t}"))
    assert everything == [f"b-{t}"]


def test_items_without_the_partition_key_path_live_in_the_undefined_partition(agents):
    """Cosmos DB keeps an item that lacks the partition-key path in the 'undefined' partition, which
    the header [{}] addresses (azure-cosmos: NonePartitionKeyValue): readable by point read and
    query there, and not in any defined partition. The package answered 400 "fewer components"."""
    from azure.cosmos.partition_key import NonePartitionKeyValue

    t = tag()
    agents.upsert_item({"id": f"loose-{t}", "value": {"n": 1}, "isBinary": False})
    agents.upsert_item({"id": f"kept-{t}", "partitionKey": f"loose-{t}", "value": {"n": 2}, "isBinary": False})
    assert agents.read_item(f"loose-{t}", partition_key=NonePartitionKeyValue)["value"] == {"n": 1}
    with pytest.raises(CosmosResourceNotFoundError):
        agents.read_item(f"kept-{t}", partition_key=NonePartitionKeyValue)
    loose = {i["id"] for i in agents.query_items("SELECT c.id FROM c", partition_key=NonePartitionKeyValue)}
    assert f"loose-{t}" in loose and f"kept-{t}" not in loose
    assert ids_in(agents, f"loose-{t}") == [f"kept-{t}"]
