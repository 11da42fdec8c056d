"""The local stack's Entra ID mode (docs/local-stack.md, "Entra ID mode"): the real daprd (Go
azidentity) and the real azure-identity + azure-cosmos reach a stand-in managed identity endpoint
through IDENTITY_ENDPOINT / IDENTITY_HEADER, and the real local server refuses master keys,
verifies each token and enforces the Data Reader and Data Contributor roles. No key anywhere.

One stack for the module (tokens valid an hour) and one with tokens valid a few seconds, so both
clients refresh while the test watches; each stack runs one daprd (`entra-app`) loading both
stores of stack/entra/components/.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import os
import re
import secrets
import ssl
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
from azure.cosmos import CosmosClient
from azure.cosmos.exceptions import CosmosHttpResponseError
from azure.identity import ManagedIdentityCredential
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, state_pb2

from explorer.backends.cosmos.connection import client_kwargs
from explorer.errors import SidecarError
from explorer.dapr.sidecar import SidecarClient, StateWrite

from .conftest import own_stack

pytestmark = pytest.mark.integration

APP = "entra-app"
CONTRIBUTOR_STORE, READER_STORE = "statestore-entra", "statestore-entra-reader"
DATABASE, CONTAINER = "dapr-entra", "entra-state"
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}")
UPSERT = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/upsert"
READ_METADATA = "Microsoft.DocumentDB/databaseAccounts/readMetadata"


@pytest.fixture(scope="module")
def entra(tmp_path_factory):
    with own_stack(tmp_path_factory, "entra", seeded=False, entra=True, app_ids=(APP,)) as stack:
        yield stack


@pytest.fixture(scope="module")
def seen_tokens():
    """Every token a test of this module held (the Python client's, minted ones): none may be in a log."""
    return []


def container(client):
    return client.get_database_client(DATABASE).get_container_client(CONTAINER)


def tag() -> str:
    return uuid.uuid4().hex[:8]


def doc_ids(stack) -> set[str]:
    return {d["id"] for d in container(stack.cosmos_client("contributor")).query_items(
        "SELECT c.id FROM c", enable_cross_partition_query=True)}


def raw_request(stack, method: str, path: str, authorization: str | None, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str | None, dict]:
    """One HTTPS request to the stack's server with this Authorization header: (status, substatus, body)."""
    url = urlsplit(stack.cosmos.url)
    conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=10,
                                       context=ssl.create_default_context(cafile=str(stack.cosmos.ca_file)))
    try:
        sent = {"x-ms-version": "2020-07-15", **(headers or {})}
        if authorization is not None:
            sent["authorization"] = authorization
        conn.request(method, path, body=body, headers=sent)
        response = conn.getresponse()
        return response.status, response.getheader("x-ms-substatus"), json.loads(response.read() or b"{}")
    finally:
        conn.close()


def aad(token: str) -> str:
    return f"type=aad&ver=1.0&sig={token}"


COLLECTION_PATH = f"/dbs/{DATABASE}/colls/{CONTAINER}"


# -- keys ---------------------------------------------------------------------------------------

def test_a_master_key_client_is_refused_with_cosmos_dbs_answer(entra):
    key = base64.b64encode(secrets.token_bytes(64)).decode()
    with pytest.raises(CosmosHttpResponseError) as refused:
        client = CosmosClient(entra.cosmos.url, credential=key, **client_kwargs(str(entra.cosmos.ca_file)))
        container(client).read()
    assert refused.value.status_code == 401
    assert refused.value.sub_status == 5202
    assert "Local Authorization is disabled. Use an AAD token to authorize all requests." in refused.value.message
    assert key not in str(refused.value)


def test_a_resource_token_and_a_request_without_authorization_are_refused(entra):
    status, substatus, body = raw_request(entra, "GET", COLLECTION_PATH, "type%3Dresource%26ver%3D1.0%26sig%3Dabc")
    assert (status, substatus) == (401, "5202")
    status, _, body = raw_request(entra, "GET", COLLECTION_PATH, None)
    assert status == 401 and "authorization is missing" in body["message"]


def test_the_environment_carries_the_managed_identity_endpoint_and_no_key(entra):
    env = entra.client_env({"COSMOS_MASTER_KEY": "left-over", "MSI_ENDPOINT": "http://elsewhere", "PATH": "/bin"})
    assert "COSMOS_MASTER_KEY" not in env and "MSI_ENDPOINT" not in env
    assert env["IDENTITY_ENDPOINT"] == entra.token_endpoint.url and env["IDENTITY_HEADER"]
    assert env["COSMOS_URL"] == entra.cosmos.url and env["SSL_CERT_FILE"] == str(entra.cosmos.ca_file)
    assert entra.cosmos.master_key == ""
    assert {i.name: i.role_name for i in entra.identities.values()} == {
        "reader": "Cosmos DB Built-in Data Reader", "contributor": "Cosmos DB Built-in Data Contributor"}


# -- through daprd (Go azidentity) --------------------------------------------------------------

async def test_daprd_as_contributor_saves_and_gets_and_as_reader_gets_but_cannot_write(entra):
    key, value = f"k-{tag()}", b'{"who":"contributor"}'
    async with SidecarClient(entra.sidecars[APP].grpc_address) as dapr:
        await dapr.save(CONTRIBUTOR_STORE, [StateWrite(key, value)])
        written = await dapr.get(CONTRIBUTOR_STORE, key)
        assert written.data == value and written.etag
        read = await dapr.get(READER_STORE, key)
        assert (read.data, read.etag) == (value, written.etag)

        refused_key = f"r-{tag()}"
        with pytest.raises(SidecarError):
            await dapr.save(READER_STORE, [StateWrite(refused_key, b'{"who":"reader"}')])
        with pytest.raises(SidecarError):
            await dapr.save(READER_STORE, [StateWrite(key, b'{"who":"reader"}', etag=written.etag)])
        with pytest.raises(SidecarError):
            await dapr.delete(READER_STORE, key)
        after = await dapr.get(CONTRIBUTOR_STORE, key)
    assert (after.data, after.etag) == (value, written.etag)
    ids = doc_ids(entra)
    assert f"{APP}||{key}" in ids and f"{APP}||{refused_key}" not in ids
    log = (entra.run_dir / "cosmosdb-server.log").read_text()
    reader = entra.identities["reader"].object_id
    assert f"principal [{reader}] does not have required RBAC permissions to perform action [{UPSERT}]" in log


async def test_a_dapr_transaction_as_reader_is_refused_whole_and_as_contributor_applies(entra):
    partition = f"tx-{tag()}"

    def transaction(store: str, value: bytes):
        operations = [state_pb2.TransactionalStateOperation(operationType="upsert", request=common_pb2.StateItem(key=k, value=value))
                      for k in (f"{partition}-a", f"{partition}-b")]
        return state_pb2.ExecuteStateTransactionRequest(storeName=store, operations=operations,
                                                        metadata={"partitionKey": partition})

    async with grpc.aio.insecure_channel(entra.sidecars[APP].grpc_address) as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.ExecuteStateTransaction(transaction(READER_STORE, b'{"v":"reader"}'), timeout=20)
        assert "403 Forbidden" in refused.value.details() and f"[{UPSERT}]" in refused.value.details()
        assert not {i for i in doc_ids(entra) if partition in i}
        await stub.ExecuteStateTransaction(transaction(CONTRIBUTOR_STORE, b'{"v":"contributor"}'), timeout=20)
    assert {i for i in doc_ids(entra) if partition in i} == {f"{APP}||{partition}-a", f"{APP}||{partition}-b"}


# -- through azure-identity + azure-cosmos ---------------------------------------------------------

def test_azure_identity_as_reader_queries_and_reads_but_an_upsert_is_403_5301(entra, seen_tokens):
    key = f"py-{tag()}"
    container(entra.cosmos_client("contributor")).upsert_item({"id": key, "partitionKey": key, "value": {"n": 1}})
    reader = container(entra.cosmos_client("reader"))
    assert [d["id"] for d in reader.query_items("SELECT * FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": key}],
                                                 partition_key=key)] == [key]
    assert reader.read_item(key, partition_key=key)["value"] == {"n": 1}
    with pytest.raises(CosmosHttpResponseError) as refused:
        reader.upsert_item({"id": key, "partitionKey": key, "value": {"n": 2}})
    assert (refused.value.status_code, refused.value.sub_status) == (403, 5301)
    oid = entra.identities["reader"].object_id
    assert (f"Request is blocked because principal [{oid}] does not have required RBAC permissions to perform action "
            f"[{UPSERT}] on resource [{COLLECTION_PATH}]. Learn more: https://aka.ms/cosmos-native-rbac.") in refused.value.message
    with pytest.raises(CosmosHttpResponseError) as deleting:
        reader.delete_item(key, partition_key=key)
    assert (deleting.value.status_code, deleting.value.sub_status) == (403, 5301)
    assert reader.read_item(key, partition_key=key)["value"] == {"n": 1}
    seen_tokens.append(ManagedIdentityCredential(client_id=entra.identities["reader"].client_id)
                       .get_token("https://127.0.0.1/.default").token)


def test_databases_and_containers_are_control_plane_even_for_the_contributor(entra):
    client = entra.cosmos_client("contributor")
    with pytest.raises(CosmosHttpResponseError) as refused:
        client.create_database(f"db-{tag()}")
    assert (refused.value.status_code, refused.value.sub_status) == (403, 5300)
    assert "The given request [POST /dbs] cannot be authorized by AAD token in data plane." in refused.value.message
    with pytest.raises(CosmosHttpResponseError) as deleting:
        client.delete_database(DATABASE)
    assert (deleting.value.status_code, deleting.value.sub_status) == (403, 5300)
    assert CONTAINER in [c["id"] for c in client.get_database_client(DATABASE).list_containers()]


# -- tokens the server must not take (minted by the endpoint's test hook) ----------------------------

def test_a_well_formed_minted_token_is_taken_so_the_refusals_below_are_about_their_claim(entra, seen_tokens):
    token = entra.mint_token("reader", aud="https://127.0.0.1")
    seen_tokens.append(token)
    status, _, body = raw_request(entra, "GET", COLLECTION_PATH, aad(token))
    assert status == 200 and body["id"] == CONTAINER


@pytest.mark.parametrize(("claims", "status", "substatus", "says"), [
    ({"forge": 1}, 401, None, "signature of the provided AAD token could not be validated"),
    ({"aud": "https://management.azure.com"}, 401, "5008",
     "Provided AAD token is intended for [https://management.azure.com]. This database account accepts tokens intended for "),
    ({"aud": "https://127.0.0.1:443"}, 401, "5008", "is intended for [https://127.0.0.1:443]"),
    ({"lifetime": -60}, 401, None, "Provided AAD token has been expired since ["),
    ({"nbf": 120}, 401, None, "Provided AAD token is not valid before ["),
    ({"tid": "00000000-0000-0000-0000-00000000beef"}, 401, None, "accepts tokens of tenant"),
    ({"oid": "c0ffee00-0000-4000-8000-000000000000"}, 403, "5301",
     f"principal [c0ffee00-0000-4000-8000-000000000000] does not have required RBAC permissions to perform action [{READ_METADATA}]"),
], ids=["forged-signature", "wrong-audience", "audience-with-port", "expired", "not-yet-valid", "other-tenant", "unknown-oid"])
def test_a_token_with_a_bad_claim_is_refused(entra, seen_tokens, claims, status, substatus, says):
    token = entra.mint_token("contributor", **{"aud": "https://127.0.0.1", **claims})
    seen_tokens.append(token)
    got, got_substatus, body = raw_request(entra, "GET", COLLECTION_PATH, aad(token))
    assert (got, got_substatus) == (status, substatus)
    assert says in body["message"] and token not in body["message"]


ITEM = "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items"
DOCS = f"{COLLECTION_PATH}/docs"


@pytest.mark.parametrize(("method", "path", "headers", "body", "refused_action"), [
    ("GET", "/", {}, None, None),
    ("GET", "/dbs", {}, None, None),
    ("GET", f"/dbs/{DATABASE}/colls", {}, None, None),
    ("GET", f"{COLLECTION_PATH}/pkranges", {}, None, None),
    ("GET", DOCS, {}, None, None),  # read feed
    ("GET", DOCS, {"a-im": "Incremental feed"}, None, None),  # change feed
    ("POST", DOCS, {"x-ms-documentdb-isquery": "True", "content-type": "application/query+json",
                    "x-ms-documentdb-query-enablecrosspartition": "True"}, b'{"query":"SELECT * FROM c"}', None),
    ("POST", DOCS, {"x-ms-documentdb-partitionkey": '["n"]'}, b'{"id":"n","partitionKey":"n"}', f"{ITEM}/create"),
    ("POST", DOCS, {"x-ms-documentdb-is-upsert": "True", "x-ms-documentdb-partitionkey": '["n"]'},
     b'{"id":"n","partitionKey":"n"}', f"{ITEM}/upsert"),
    ("PUT", f"{DOCS}/n", {"x-ms-documentdb-partitionkey": '["n"]'}, b'{"id":"n","partitionKey":"n"}', f"{ITEM}/replace"),
    ("PATCH", f"{DOCS}/n", {"x-ms-documentdb-partitionkey": '["n"]'}, b'{"operations":[]}', f"{ITEM}/replace"),
    ("DELETE", f"{DOCS}/n", {"x-ms-documentdb-partitionkey": '["n"]'}, None, f"{ITEM}/delete"),
], ids=["account", "databases", "containers", "pkranges", "read-feed", "change-feed", "query", "create", "upsert",
        "replace", "patch", "delete"])
def test_the_reader_role_grants_metadata_reads_and_queries_and_no_item_write(entra, seen_tokens, method, path, headers, body,
                                                                             refused_action):
    token = entra.mint_token("reader", aud="https://127.0.0.1")
    seen_tokens.append(token)
    status, substatus, answer = raw_request(entra, method, path, aad(token), body, headers)
    if refused_action is None:
        assert status in (200, 304), answer
    else:
        assert (status, substatus) == (403, "5301")
        assert f"to perform action [{refused_action}] on resource [{COLLECTION_PATH}]" in answer["message"]


@pytest.mark.parametrize(("method", "path"), [
    ("POST", f"/dbs/{DATABASE}/colls"), ("PUT", COLLECTION_PATH), ("DELETE", COLLECTION_PATH), ("DELETE", f"/dbs/{DATABASE}"),
    ("POST", f"{COLLECTION_PATH}/udfs"),
])
def test_control_plane_requests_are_refused_for_the_contributor_too(entra, seen_tokens, method, path):
    token = entra.mint_token("contributor", aud="https://cosmos.azure.com")  # the account-independent audience
    seen_tokens.append(token)
    status, substatus, answer = raw_request(entra, method, path, aad(token), b'{"id":"x"}')
    assert (status, substatus) == (403, "5300")
    assert f"The given request [{method} {path}] cannot be authorized by AAD token in data plane." in answer["message"]


def test_the_contributor_role_grants_item_writes(entra, seen_tokens):
    token = entra.mint_token("contributor", aud="https://127.0.0.1")
    seen_tokens.append(token)
    key = f"raw-{tag()}"
    status, _, answer = raw_request(entra, "POST", DOCS, aad(token), json.dumps({"id": key, "partitionKey": key}).encode(),
                                    {"x-ms-documentdb-partitionkey": json.dumps([key])})
    assert status == 201 and answer["id"] == key
    status, _, _ = raw_request(entra, "DELETE", f"{DOCS}/{key}", aad(token), None, {"x-ms-documentdb-partitionkey": json.dumps([key])})
    assert status == 204


def test_a_token_that_is_not_a_jwt_is_refused(entra):
    for sig in ("not-a-token", "a.b.c", ""):
        status, _, body = raw_request(entra, "GET", COLLECTION_PATH, aad(sig))
        assert status == 401 and "not a valid RS256 JWT" in body["message"]


def test_the_admin_paths_bypass_auth_and_the_endpoint_refuses_a_wrong_identity_header(entra):
    status, _, _ = raw_request(entra, "GET", "/_explorer/anything", None)
    assert status != 401  # whatever the stand-in answers there, it is not an auth refusal
    url = urlsplit(entra.token_endpoint.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request("GET", f"{url.path}?api-version=2019-08-01&resource=https://127.0.0.1&client_id="
                 f"{entra.identities['reader'].client_id}", headers={"X-IDENTITY-HEADER": "wrong"})
    response = conn.getresponse()
    assert response.status == 401 and b"access_token" not in response.read()
    conn.close()


# -- token refresh ----------------------------------------------------------------------------------

LIFETIME = 8  # seconds; see test_both_clients_refresh_short_lived_tokens


async def test_both_clients_refresh_short_lived_tokens_and_work_after_one_expired(tmp_path_factory, monkeypatch):
    """Tokens valid LIFETIME seconds. Both SDKs refresh a token 5 minutes before it expires (Go:
    azcosmos' bearer policy, a 5-minute window with at most one eager refresh per 30 s, and MSAL Go's
    cache, which treats a token with under 5 minutes left as expired; Python: azure-core's policy,
    300 s minus up to 60 s of jitter, and MSAL Python's cache, under 5 minutes left = expired). So
    with tokens shorter than that margin the Python client gets a token per request, and daprd uses
    each token until it expires (its 30 s backoff is longer than the token) and then gets a new one
    — a refresh of an expired token, which the server (5 s of skew) checks."""
    for name in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        monkeypatch.delenv(name, raising=False)
    with own_stack(tmp_path_factory, "entra-refresh", seeded=False, entra=True, app_ids=(APP,),
                   token_lifetime=LIFETIME) as stack:
        reader = container(stack.cosmos_client("reader"))
        start = stack.issued_tokens()
        key = f"refresh-{tag()}"
        deadline = time.monotonic() + 3 * LIFETIME + 2
        rounds = 0
        async with SidecarClient(stack.sidecars[APP].grpc_address) as dapr:
            while time.monotonic() < deadline:
                value = json.dumps({"round": rounds}, separators=(",", ":")).encode()
                await dapr.save(CONTRIBUTOR_STORE, [StateWrite(key, value)])
                assert (await dapr.get(CONTRIBUTOR_STORE, key)).data == value
                assert list(reader.query_items("SELECT c.id FROM c", enable_cross_partition_query=True))
                rounds += 1
                await asyncio.sleep(1)
            middle = stack.issued_tokens()
            # Quiet until every token held has expired (and the server's skew has passed): the next
            # requests carry no valid token unless the clients get new ones.
            await asyncio.sleep(LIFETIME + 6)
            await dapr.save(CONTRIBUTOR_STORE, [StateWrite(key, b'{"after":"expiry"}')])
            assert (await dapr.get(CONTRIBUTOR_STORE, key)).data == b'{"after":"expiry"}'
            assert reader.read_item(f"{APP}||{key}", partition_key=f"{APP}||{key}")["value"] == {"after": "expiry"}
        end = stack.issued_tokens()
        log = (stack.run_dir / "cosmosdb-server.log").read_text()
        logs = scan_for_secrets(stack)
    assert not stack.token_endpoint.process.alive()  # stopped with the stack
    assert rounds >= 3 * LIFETIME // 2
    # daprd's contributor store: one token per LIFETIME while it works, and one after the quiet time
    assert middle["contributor"] - start["contributor"] >= 2
    assert end["contributor"] > middle["contributor"]
    # the Python reader: a token per request (shorter than the 5-minute margin)
    assert middle["reader"] - start["reader"] >= rounds
    assert end["reader"] > middle["reader"]
    assert "expired since" not in log  # no request ever went out with an expired token
    assert logs == []
    assert "IDENTITY_ENDPOINT" not in os.environ  # cosmos_client's setting is undone by stop()


# -- outages ---------------------------------------------------------------------------------------

async def test_a_restarted_server_keeps_the_entra_mode_and_its_containers_and_daprd_carries_on(entra):
    entra.restart_server()  # empty again, as after any restart; the containers come from the config
    assert container(entra.cosmos_client("reader")).read()["id"] == CONTAINER
    with pytest.raises(CosmosHttpResponseError) as refused:
        client = CosmosClient(entra.cosmos.url, credential=base64.b64encode(b"k" * 64).decode(),
                              **client_kwargs(str(entra.cosmos.ca_file)))
        container(client).read()
    assert (refused.value.status_code, refused.value.sub_status) == (401, 5202)
    key = f"after-restart-{tag()}"
    async with SidecarClient(entra.sidecars[APP].grpc_address) as dapr:
        await dapr.save(CONTRIBUTOR_STORE, [StateWrite(key, b'{"ok":true}')])
        assert (await dapr.get(READER_STORE, key)).data == b'{"ok":true}'


# -- nothing prints a token --------------------------------------------------------------------------

def scan_for_secrets(stack, tokens: list[str] = ()) -> list[str]:
    """Every file of the run folder that holds a JWT, a token the tests held or the identity header."""
    found = []
    secrets_ = [t.encode() for t in tokens] + [stack.token_endpoint.header.encode()]
    for path in Path(stack.run_dir).rglob("*"):
        if not path.is_file() or path.suffix == ".pem" or path.parent.name == "tls":
            continue
        data = path.read_bytes()
        if JWT.search(data) or any(s in data for s in secrets_):
            found.append(str(path.relative_to(stack.run_dir)))  # the file's name only, never what matched
    return found


def test_no_log_holds_a_token_or_the_identity_header(entra, seen_tokens):
    """Last in the module: every token above was issued or minted; the run folder's logs (server,
    token endpoint, daprd) and the config must hold none of them, nor any other JWT."""
    assert entra.issued_tokens()["reader"] >= 1 and entra.issued_tokens()["contributor"] >= 1
    entra.cosmos_client("reader")  # the managed identity environment of this stack, for the credential below
    seen_tokens.append(ManagedIdentityCredential(client_id=entra.identities["contributor"].client_id)
                       .get_token("https://127.0.0.1/.default").token)
    seen_tokens.append(entra.mint_token("reader", forge=1))
    assert {"cosmosdb-server.log", f"daprd-{APP}.log", "token-endpoint.log"} <= {p.name for p in Path(entra.run_dir).glob("*.log")}
    assert scan_for_secrets(entra, seen_tokens) == []
