"""The scriptable CLI against the real stack: exit codes, JSON output, etag checks, read-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from explorer.localstack.seed import ACTORS_APP, AGENTS_APP, AGENTS_STORE, CACHE_APP, CACHE_STORE

from .conftest import container, own_stack

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own: these tests edit seeded keys that other modules read."""
    with own_stack(tmp_path_factory, "cli-stack") as local:
        yield local


@pytest.fixture(scope="module")
def cosmos(stack):
    return stack.cosmos_client()


def cli(stack, *args, app=AGENTS_APP, check=None):
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    result = subprocess.run(
        [sys.executable, "-m", "explorer", *args, "--resources-path", str(REPO / "components"),
         "--dapr-grpc-port", str(stack.sidecars[app].grpc_port)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    if check is not None:
        assert result.returncode == check, result.stderr + result.stdout
    return result


def lines(result):
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_stores_lists_files_and_sidecar(stack):
    rows = {r["name"]: r for r in lines(cli(stack, "stores", "--json", check=0))}
    assert rows[AGENTS_STORE]["database"] == "dapr-agents" and rows[AGENTS_STORE]["sidecars"] == [AGENTS_APP]


def test_partitions_and_keys(stack):
    parts = {r["partitionKey"] for r in lines(cli(stack, "partitions", AGENTS_STORE, "--json", check=0))}
    assert {"gpt4", "claude", "custom"} <= parts
    keys = lines(cli(stack, "keys", AGENTS_STORE, "--partition", "gpt4", "--json", check=0))
    planner = next(k for k in keys if k["key"] == "agent:planner")
    assert planner["appId"] == AGENTS_APP and planner["etag"] and planner["kind"] == "plain"


def test_edit_of_custom_partition_key_keeps_exactly_one_item(stack, cosmos):
    doc_id = f"{AGENTS_APP}||agent:reviewer"
    before = container(cosmos, "dapr-agents", "agent-registry").read_item(doc_id, partition_key="claude")
    out = lines(cli(stack, "set", AGENTS_STORE, "agent:reviewer", '{"name":"reviewer","v":2}', "--json", check=0))[0]
    items = list(container(cosmos, "dapr-agents", "agent-registry").query_items(
        "SELECT * FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": doc_id}], enable_cross_partition_query=True))
    assert len(items) == 1, items
    assert items[0]["partitionKey"] == "claude" and items[0]["value"] == {"name": "reviewer", "v": 2}
    assert out["etag"] == items[0]["_etag"] != before["_etag"]


def test_stale_etag_exits_4_and_changes_nothing(stack, cosmos):
    doc_id = f"{AGENTS_APP}||agent:router"
    before = container(cosmos, "dapr-agents", "agent-registry").read_item(doc_id, partition_key="gpt4")
    result = cli(stack, "set", AGENTS_STORE, "agent:router", '{"x":1}', "--etag", "not-the-etag")
    assert result.returncode == 4, result.stderr
    assert "etag" in result.stderr
    after = container(cosmos, "dapr-agents", "agent-registry").read_item(doc_id, partition_key="gpt4")
    assert after["_etag"] == before["_etag"] and after["value"] == before["value"]


def test_invalid_json_exits_2_and_sends_nothing(stack):
    result = cli(stack, "set", AGENTS_STORE, "agent:summarizer", '{"a": 1,}')
    assert result.returncode == 2 and "line 1, column 9" in result.stderr and "nothing was sent" in result.stderr


def test_read_only_refuses_writes_with_exit_5(stack, cosmos):
    doc_id = f"{AGENTS_APP}||agent:summarizer"
    before = container(cosmos, "dapr-agents", "agent-registry").read_item(doc_id, partition_key="gpt4")
    for args in (("set", AGENTS_STORE, "agent:summarizer", "{}"), ("delete", AGENTS_STORE, "agent:summarizer")):
        result = cli(stack, *args, "--read-only")
        assert result.returncode == 5 and "read-only" in result.stderr
    after = container(cosmos, "dapr-agents", "agent-registry").read_item(doc_id, partition_key="gpt4")
    assert after["_etag"] == before["_etag"]


def test_get_missing_key_exits_3(stack):
    result = cli(stack, "get", AGENTS_STORE, "agent:does-not-exist", "--partition", "gpt4")
    assert result.returncode == 3


def test_ttl_keep_restart_none(stack, cosmos):
    cache = container(cosmos, "dapr-cache", "session-cache")
    doc_id = f"{CACHE_APP}||session:llm:1001"
    seeded = cache.read_item(doc_id, partition_key="llm")
    expires_at = seeded["_ts"] + seeded["ttl"]
    cli(stack, "set", CACHE_STORE, "session:llm:1001", '{"k":1}', app=CACHE_APP, check=0)
    kept = cache.read_item(doc_id, partition_key="llm")
    assert abs(kept["_ts"] + kept["ttl"] - expires_at) <= 1, "keep: same expiry instant"
    cli(stack, "set", CACHE_STORE, "session:llm:1001", '{"k":2}', "--ttl", "600", app=CACHE_APP, check=0)
    assert cache.read_item(doc_id, partition_key="llm")["ttl"] == 600
    cli(stack, "set", CACHE_STORE, "session:llm:1001", '{"k":3}', "--ttl", "restart", app=CACHE_APP, check=0)
    assert cache.read_item(doc_id, partition_key="llm")["ttl"] == 600
    cli(stack, "set", CACHE_STORE, "session:llm:1001", '{"k":4}', "--ttl", "none", app=CACHE_APP, check=0)
    assert cache.read_item(doc_id, partition_key="llm")["ttl"] == -1


def test_binary_value_stays_binary(stack, cosmos):
    import base64
    payload = base64.b64encode(b"\x00\x01binary\xff").decode()
    cli(stack, "set", AGENTS_STORE, "agent:ocr-worker:avatar", payload, "--base64", check=0)
    item = container(cosmos, "dapr-agents", "agent-registry").read_item(f"{AGENTS_APP}||agent:ocr-worker:avatar", partition_key="custom")
    assert item["isBinary"] is True and base64.b64decode(item["value"]) == b"\x00\x01binary\xff"
    got = lines(cli(stack, "get", AGENTS_STORE, "agent:ocr-worker:avatar", "--json", check=0))[0]
    assert got["isBinary"] is True and got["value"]["base64"] == payload


def test_actor_state_is_read_only_with_reason(seeded_stack):
    """On the session's stack, whose actor state the actor app set through daprd (this module's own
    stack runs no apps); the refused set sends nothing."""
    key = "CartActor||cart-42||items"
    got = lines(cli(seeded_stack, "get", "statestore-workflows-cosmos", key, "--app-id", ACTORS_APP, "--json",
                    app=ACTORS_APP, check=0))[0]
    assert got["kind"] == "actor" and got["readOnly"]
    assert got["value"] == [{"price": 12.5, "qty": 2, "sku": "A-1"}, {"price": 6.5, "qty": 1, "sku": "B-7"}]
    result = cli(seeded_stack, "set", "statestore-workflows-cosmos", key, "{}", "--app-id", ACTORS_APP, app=ACTORS_APP)
    assert result.returncode != 0 and "actor" in result.stderr


def test_delete_is_etag_checked(stack, cosmos):
    cli(stack, "set", AGENTS_STORE, "agent:temp-delete", '{"t":1}', "--partition", "custom", check=0)
    assert cli(stack, "delete", AGENTS_STORE, "agent:temp-delete", "--etag", "stale").returncode == 4
    cli(stack, "delete", AGENTS_STORE, "agent:temp-delete", check=0)
    assert cli(stack, "get", AGENTS_STORE, "agent:temp-delete", "--partition", "custom").returncode == 3


def test_export_json_lines(stack):
    rows = lines(cli(stack, "export", AGENTS_STORE, "--partition", "gpt4", check=0))
    assert {r["key"] for r in rows} >= {"agent:planner"} and all(r["partitionKey"] == "gpt4" for r in rows)


def test_doctor_reports_misconfigured_components(stack, tmp_path):
    (tmp_path / "store.yaml").write_text("""
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: orders}
spec:
  type: state.azure.cosmosdb
  version: v1
  metadata:
    - {name: url, value: "{env:COSMOS_URL}"}
    - {name: masterKey, value: "c3VwZXItc2VjcmV0LWtleQ=="}
    - {name: database, value: dapr-agents}
    - {name: collection, value: agent-registry}
    - {name: partitionKey, value: agentType}
    - {name: consistency, value: strong}
    - {name: defaultTtlInSeconds, value: "3600"}
""")
    env = stack.client_env()
    result = subprocess.run([sys.executable, "-m", "explorer", "doctor", "--json", "--resources-path", str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=120)
    findings = lines(result)
    fields = {f["field"] for f in findings}
    assert {"url", "partitionKey", "consistency", "defaultTtlInSeconds"} <= fields, findings
    assert all(f["fix"] for f in findings)
    assert "c3VwZXItc2VjcmV0LWtleQ==" not in result.stdout + result.stderr
