"""How the workspace signs each store in (explorer.session.workspace: auth_plan, lister, identity) and how a
Cosmos refusal for a missing role reads (explorer.backends.cosmos.lister._answered).

Components are parsed from YAML text; listers are built but never asked anything (azure-cosmos'
client does no I/O until its first request), and the Cosmos errors are hand-made
CosmosHttpResponseError objects — FAKES of what the SDK raises. Signing in for real, against the
local stack in Entra ID mode, is tests/integration/test_entra_explorer.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from azure.cosmos.exceptions import CosmosHttpResponseError

from explorer.components.files import parse_components
from explorer.backends.cosmos.lister import _answered
from explorer.errors import ComponentError, CosmosError, RoleMissing
from explorer.session.workspace import Workspace

READER = "5e1d0c7a-1111-4222-8333-944455556666"
WRITER = "9a8b7c6d-aaaa-4bbb-8ccc-dddddddddddd"
KEY = "ZmFrZS1rZXktbm90LWEtcmVhbC1zZWNyZXQ="

COMPONENTS = f"""
kind: Component
metadata: {{name: by-key}}
spec:
  type: state.azure.cosmosdb
  metadata:
    - {{name: url, value: "https://127.0.0.1:1"}}
    - {{name: masterKey, envRef: TEST_COSMOS_KEY}}
    - {{name: azureClientId, value: {READER}}}
    - {{name: database, value: db}}
    - {{name: collection, value: c}}
---
kind: Component
metadata: {{name: reader}}
spec:
  type: state.azure.cosmosdb
  metadata:
    - {{name: url, value: "https://127.0.0.1:1"}}
    - {{name: AzureClientID, envRef: TEST_READER_ID}}
    - {{name: database, value: db}}
    - {{name: collection, value: c}}
---
kind: Component
metadata: {{name: writer}}
spec:
  type: state.azure.cosmosdb
  metadata:
    - {{name: url, value: "https://127.0.0.1:1"}}
    - {{name: clientId, value: {WRITER}}}
    - {{name: database, value: db}}
    - {{name: collection, value: c}}
---
kind: Component
metadata: {{name: disabled}}
spec:
  type: state.azure.cosmosdb
  metadata:
    - {{name: url, value: "https://127.0.0.1:1"}}
    - {{name: azureAuthMethods, value: none}}
    - {{name: database, value: db}}
    - {{name: collection, value: c}}
"""


@pytest.fixture
async def workspace(monkeypatch):
    monkeypatch.setenv("TEST_COSMOS_KEY", KEY)
    monkeypatch.setenv("TEST_READER_ID", READER)
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:9/token")
    monkeypatch.setenv("IDENTITY_HEADER", "h")
    ws = Workspace(parse_components(COMPONENTS, Path("c.yaml")))
    yield ws
    await ws.close()


async def test_each_store_signs_in_as_its_component_says(workspace):
    assert workspace.identity("by-key") == "account key"
    assert workspace.identity("reader") == "managed identity, client id 5e1d0c7a…"
    assert workspace.identity("writer") == "managed identity, client id 9a8b7c6d…"


async def test_two_identities_on_one_account_get_two_clients_and_a_key_store_its_own(workspace):
    reader, writer, by_key = workspace.lister("reader"), workspace.lister("writer"), workspace.lister("by-key")
    assert len({id(reader), id(writer), id(by_key)}) == 3
    assert workspace.lister("reader") is reader  # one client per identity, reused
    assert reader.identity == "managed identity, client id 5e1d0c7a…"
    assert by_key.identity == "account key"
    assert len(workspace._credentials) == 2


async def test_a_store_daprd_would_refuse_is_refused_in_one_line(workspace):
    with pytest.raises(ComponentError) as refused:
        workspace.lister("disabled")
    assert "disabled" in str(refused.value) and "daprd refuses this store too" in str(refused.value)
    assert "\n" not in str(refused.value)


async def test_a_master_key_plan_does_not_resolve_the_azure_fields(workspace, monkeypatch):
    monkeypatch.delenv("TEST_READER_ID")  # only 'reader' reads it; 'by-key' never needs its Azure fields
    assert workspace.auth_plan("by-key").problems[0].code == "ignored-for-key"


def _cosmos_error(status: int, message: str, sub_status: int | None = None) -> CosmosHttpResponseError:
    error = CosmosHttpResponseError(status_code=status, message=message)
    error.sub_status = sub_status
    return error


def test_a_read_refused_for_a_missing_role_says_which_role_and_who():
    refused = _answered("opening the store's container", _cosmos_error(
        403, "Request blocked by Auth acct : Request is blocked because principal [5e1d] does not have required "
        "RBAC permissions to perform action [Microsoft.DocumentDB/databaseAccounts/readMetadata] on resource [/].",
        5301), identity="managed identity, client id 5e1d0c7a…")
    assert isinstance(refused, RoleMissing) and refused.exit_code == 6
    line = str(refused)
    assert "Cosmos DB Built-in Data Reader" in line and "managed identity, client id 5e1d0c7a…" in line
    assert "nothing was read" in line and "\n" not in line


def test_an_account_without_key_auth_says_to_drop_the_master_key():
    refused = _answered("opening the store's container", _cosmos_error(
        401, "Local Authorization is disabled. Use an AAD token to authorize all requests."), identity="account key")
    assert type(refused) is CosmosError and "remove masterKey" in str(refused)


def test_a_refused_token_is_not_blamed_on_a_master_key():
    refused = _answered("x", _cosmos_error(401, "token expired"), identity="managed identity, client id 5e1d0c7a…")
    assert "masterKey" not in str(refused) and "Entra ID token" in str(refused)
