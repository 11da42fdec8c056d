"""The seeded data set, read back through the real stack (the session's, which runs the apps)."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from explorer.localstack.seed import ACTORS_APP, AGENTS_APP, CACHE_APP, CACHE_TTLS, WORKFLOW_ACTOR_TYPE, WORKFLOWS_APP, seed
from explorer.dapr.sidecar import SidecarClient
from tests.support import BINARY_AVATAR

from .conftest import container, own_stack

pytestmark = pytest.mark.integration


def partition_ids(items, pk):
    return sorted(
        i["id"]
        for i in items.query_items(
            "SELECT c.id FROM c WHERE c.partitionKey = @pk", parameters=[{"name": "@pk", "value": pk}], partition_key=pk
        )
    )


async def test_the_editing_tests_keys_are_partitioned_and_read_back_through_dapr(stack, cosmos):
    """tests.support's own plain keys (not the seed's): three partitions, other scripts, a binary value."""
    agents = container(cosmos, "dapr-agents", "agent-registry")
    assert f"{AGENTS_APP}||agent:planner" in partition_ids(agents, "gpt4")
    assert f"{AGENTS_APP}||agent:données-clé" in partition_ids(agents, "claude")
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as dapr:
        robot = await dapr.get("statestore-agents-cosmos", "agent:🤖-helper", {"partitionKey": "custom"})
        avatar = await dapr.get("statestore-agents-cosmos", "agent:ocr-worker:avatar", {"partitionKey": "custom"})
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
    """Plain order keys, order-processor's workflow instances, cart-service's actors, and the agents
    app's entries, memory and workflow instances: nothing else (the seed no longer writes documents
    of its own in Dapr's actor envelope)."""
    workflows = container(cosmos, "dapr-workflows", "workflow-state")
    ids = [i["id"] for i in workflows.query_items("SELECT c.id FROM c", enable_cross_partition_query=True)]
    owners = {"||".join(i.split("||")[:1 if i.count("||") == 1 else 2]) for i in ids}  # app, or app||actor type
    assert owners == {WORKFLOWS_APP, f"{WORKFLOWS_APP}||{WORKFLOW_ACTOR_TYPE}", f"{ACTORS_APP}||CartActor",
                      f"{ACTORS_APP}||InventoryActor", AGENTS_APP,
                      f"{AGENTS_APP}||dapr.internal.default.{AGENTS_APP}.workflow"}, owners
    assert {f"{WORKFLOWS_APP}||order:{n}" for n in (1001, 1002, 1003)} <= set(ids)


def test_a_stack_without_the_apps_gets_plain_keys_only_and_no_agents(tmp_path_factory):
    """The seed alone: order and session keys; the agents store stays empty (no agents app, and the
    seed makes no agent documents up)."""
    with own_stack(tmp_path_factory, "no-apps-stack", seeded=False, app_ids=(WORKFLOWS_APP, AGENTS_APP, CACHE_APP)) as local:
        assert not local.apps and local.placement is None and set(local.sidecars) == {WORKFLOWS_APP, AGENTS_APP, CACHE_APP}
        summary = asyncio.run(seed(local))
        cosmos = local.cosmos_client()
        workflows = container(cosmos, "dapr-workflows", "workflow-state")
        ids = sorted(i["id"] for i in workflows.query_items("SELECT c.id FROM c", enable_cross_partition_query=True))
        agents = list(container(cosmos, "dapr-agents", "agent-registry").query_items(
            "SELECT c.id FROM c", enable_cross_partition_query=True))
    assert ids == [f"{WORKFLOWS_APP}||order:{n}" for n in (1001, 1002, 1003)]
    assert agents == [] and summary.agents == () and summary.agent_runs == ()
