"""The seeded data set, read back through the real stack (the session's, which runs the apps)."""

from __future__ import annotations

import orjson
import pytest

from explorer.localstack.seed import (
    ACTORS_APP,
    AGENTS_APP,
    AGENTS_STORE,
    BINARY_AVATAR,
    CACHE_APP,
    CACHE_TTLS,
    WORKFLOW_ACTOR_TYPE,
    WORKFLOWS_APP,
)
from explorer.sidecar import SidecarClient

from .conftest import container, own_stack

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


def test_the_workflow_store_holds_only_what_daprd_wrote_for_the_running_apps(cosmos):
    """Plain order keys, order-processor's workflow instances and cart-service's actors: nothing else
    (the seed no longer writes documents of its own in Dapr's actor envelope)."""
    workflows = container(cosmos, "dapr-workflows", "workflow-state")
    ids = [i["id"] for i in workflows.query_items("SELECT c.id FROM c", enable_cross_partition_query=True)]
    owners = {"||".join(i.split("||")[:1 if i.count("||") == 1 else 2]) for i in ids}  # app, or app||actor type
    assert owners == {WORKFLOWS_APP, f"{WORKFLOWS_APP}||{WORKFLOW_ACTOR_TYPE}", f"{ACTORS_APP}||CartActor",
                      f"{ACTORS_APP}||InventoryActor"}, owners
    assert {f"{WORKFLOWS_APP}||order:{n}" for n in (1001, 1002, 1003)} <= set(ids)


def test_a_stack_without_the_apps_gets_plain_keys_only(tmp_path_factory):
    with own_stack(tmp_path_factory, "no-apps-stack", app_ids=(WORKFLOWS_APP, AGENTS_APP, CACHE_APP)) as local:
        assert not local.apps and local.placement is None and set(local.sidecars) == {WORKFLOWS_APP, AGENTS_APP, CACHE_APP}
        workflows = container(local.cosmos_client(), "dapr-workflows", "workflow-state")
        ids = sorted(i["id"] for i in workflows.query_items("SELECT c.id FROM c", enable_cross_partition_query=True))
    assert ids == [f"{WORKFLOWS_APP}||order:{n}" for n in (1001, 1002, 1003)]
