"""Component files: parsing and value resolution (pure logic; environments are plain dicts)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from explorer.components import MASK, Resolver, default_resources_paths, load_components, parse_components
from explorer.errors import ComponentError

REPO = Path(__file__).resolve().parents[2]

TWO_DOCS = """
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: tracing}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: orders}
spec:
  type: state.azure.cosmosdb
  version: v1
  metadata:
    - {name: url, value: "{env:COSMOS_URL}"}
    - {name: masterKey, value: "c2VjcmV0LWtleQ=="}
    - {name: database, value: db}
    - {name: collection, value: coll}
    - name: token
      secretKeyRef: {name: API_TOKEN, key: API_TOKEN}
auth: {secretStore: envs}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: envs}
spec: {type: secretstores.local.env, version: v1}
"""


def parse(text=TWO_DOCS):
    return parse_components(text, Path("orders.yaml"))


def test_non_component_documents_are_skipped():
    assert [c.name for c in parse()] == ["orders", "envs"]


def test_env_template_is_resolved_for_convenience():
    orders, envs = parse()
    resolver = Resolver([orders, envs], {"COSMOS_URL": "https://acct.documents.azure.com:443/"})
    assert resolver.resolve(orders, "url") == "https://acct.documents.azure.com:443/"
    assert orders.get("url").env_template() == "COSMOS_URL"


def test_missing_variable_names_component_field_and_variable():
    orders, envs = parse()
    with pytest.raises(ComponentError) as info:
        Resolver([orders, envs], {}).resolve(orders, "url")
    assert "orders" in str(info.value) and "'url'" in str(info.value) and "COSMOS_URL" in str(info.value)


def test_secret_key_ref_reads_the_local_env_store():
    orders, envs = parse()
    assert Resolver([orders, envs], {"API_TOKEN": "t0k"}).resolve(orders, "token") == "t0k"
    with pytest.raises(ComponentError, match="API_TOKEN"):
        Resolver([orders, envs], {}).resolve(orders, "token")


def test_secret_key_ref_reads_a_local_file_store(tmp_path):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"cosmos": {"key": "from-file"}}))
    text = f"""
kind: Component
metadata: {{name: files}}
spec:
  type: secretstores.local.file
  metadata:
    - {{name: secretsFile, value: "{secrets}"}}
    - {{name: nestedSeparator, value: "."}}
---
kind: Component
metadata: {{name: st}}
spec:
  type: state.azure.cosmosdb
  metadata:
    - name: masterKey
      secretKeyRef: {{name: cosmos.key, key: cosmos.key}}
auth: {{secretStore: files}}
"""
    files, st = parse_components(text, tmp_path / "c.yaml")
    assert Resolver([files, st], {}).resolve(st, "masterKey") == "from-file"


def test_masked_view_never_shows_secrets():
    orders, _ = parse()
    shown = orders.masked()
    assert shown["masterKey"] == MASK
    assert shown["token"] == "secretKeyRef API_TOKEN/API_TOKEN"
    assert "c2VjcmV0LWtleQ==" not in repr(shown)
    assert shown["database"] == "db"


def test_invalid_yaml_says_which_file(tmp_path):
    with pytest.raises(ComponentError, match="bad.yaml: not valid YAML"):
        parse_components("kind: [", tmp_path / "bad.yaml")


def test_component_without_type_is_an_error():
    with pytest.raises(ComponentError, match="needs metadata.name and spec.type"):
        parse("kind: Component\nmetadata: {name: x}\nspec: {}\n")


def test_resources_path_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_resources_paths(["a", "b"]) == [Path("a"), Path("b")]
    assert default_resources_paths() == [Path.home() / ".dapr" / "components"]
    (tmp_path / "components").mkdir()
    assert default_resources_paths() == [Path("components")]


def test_repository_components_use_env_and_secret_refs():
    """The shipped components read url by envRef and masterKey by secretKeyRef, as Dapr does."""
    comps = {c.name: c for c in load_components([REPO / "components"])}
    for name in ("statestore-workflows-cosmos", "statestore-agents-cosmos", "statestore-cache-cosmos"):
        assert comps[name].get("url").env_ref == "COSMOS_URL"
        assert comps[name].get("masterKey").secret_name == "COSMOS_MASTER_KEY"
        assert comps[name].secret_store == "local-secrets"
    assert comps["statestore-workflows-cosmos"].plain("actorStateStore") == "true"
    assert comps["local-secrets"].type == "secretstores.local.env"
