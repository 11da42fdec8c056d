"""The seeded data set, read back through the real stack."""

from __future__ import annotations

import base64

import orjson
import pytest

from explorer.localstack.seed import (
    AGENTS_APP,
    AGENTS_STORE,
    BINARY_AVATAR,
    CACHE_TTLS,
    WORKFLOW_ACTOR_TYPE,
    WORKFLOWS_APP,
)
from explorer.sidecar import SidecarClient

from .conftest import container

pytestmark = pytest.mark.integration


def partition_ids(items, pk):
    return sorted(
        i["id"]
        for i in items.query_items(
            "SELECT c.id FROM c WHERE c.partitionKey = @pk", parameters=[{"name": "@pk", "value": pk}], partition_key=pk
        )
    )


def test_agents_are_partitioned_by_agent_type(cosmos):
    agents = container(cosmos, "dapr-agents", "agent-registry")
    assert f"{AGENTS_APP}||agent:planner" in partition_ids(agents, "gpt4")
    assert f"{AGENTS_APP}||agent:données-clé" in partition_ids(agents, "claude")
    custom = partition_ids(agents, "custom")
    assert f"{AGENTS_APP}||agent:エージェント-7" in custom and f"{AGENTS_APP}||agent:🤖-helper" in custom


async def test_unicode_and_binary_seeds_read_back_through_dapr(stack):
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as dapr:
        robot = await dapr.get(AGENTS_STORE, "agent:🤖-helper", {"partitionKey": "custom"})
        avatar = await dapr.get(AGENTS_STORE, "agent:ocr-worker:avatar", {"partitionKey": "custom"})
    assert orjson.loads(robot.data)["name"] == "🤖-helper"
    assert avatar.data == BINARY_AVATAR


def test_cache_entries_carry_ttls_from_30s_to_1h(cosmos):
    cache = container(cosmos, "dapr-cache", "session-cache")
    ttls = set()
    for pk in ("user", "llm", "temp"):
        for item in cache.query_items(
            "SELECT c.ttl FROM c WHERE c.partitionKey = @pk", parameters=[{"name": "@pk", "value": pk}], partition_key=pk
        ):
            ttls.add(item["ttl"])
    assert set(CACHE_TTLS) <= ttls
    assert min(ttls) == 30 and max(ttls) == 3600


def test_workflow_state_uses_dapr_actor_envelope(cosmos):
    workflows = container(cosmos, "dapr-workflows", "workflow-state")
    partition = f"{WORKFLOWS_APP}||{WORKFLOW_ACTOR_TYPE}||order-wf-1001"
    ids = partition_ids(workflows, partition)
    keys = [i.split("||")[-1] for i in ids]
    assert {"metadata", "customStatus", "inbox-000000", "history-000000", "history-000004"} <= set(keys)
    history = workflows.read_item(f"{partition}||history-000000", partition_key=partition)
    assert history["isBinary"] is True
    raw = base64.b64decode(history["value"])
    assert b"ProcessOrder" in raw and b"order-wf-1001" in raw

    actor = workflows.read_item(
        f"{WORKFLOWS_APP}||CartActor||cart-42||items", partition_key=f"{WORKFLOWS_APP}||CartActor||cart-42"
    )
    assert actor["isBinary"] is False and actor["value"]["total"] == 31.5
