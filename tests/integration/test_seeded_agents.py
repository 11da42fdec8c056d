"""What the dapr-agents app left in the session's seeded stack, read back from Cosmos as a user of the
explorer would find it: the session's stack runs the agents app (stack/agents/app.py, dapr-agents
1.0.9 in its own venv) beside the agent-registry sidecar, and every document checked here was written
by dapr-agents through daprd — the team registry, each run's workflow entry and memory, and Dapr's
workflow history of each run, decoded with explorer.core.workflows and listed by
explorer.backends.cosmos.workflows.WorkflowReader."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from explorer.core.envelope import KeyPrefix, KeyPrefixMode
from explorer.core.model import StoreLocation
from explorer.core.workflows.decode import decode_workflow_part
from explorer.core.workflows.schema import RuntimeStatus
from explorer.backends.cosmos.lister import CosmosLister
from explorer.localstack.apps import AGENTS_TEAM
from explorer.localstack.seed import AGENT_RUNS, AGENTS_APP, STATE_STORE_OF_AGENTS, seed
from explorer.backends.cosmos.workflows import WorkflowReader

from .conftest import container

pytestmark = pytest.mark.integration

TEAM_PARTITION = f"agents:{AGENTS_TEAM}"
RUNS = {r.instance_id: r for r in AGENT_RUNS}
#: One agent's name, as it is registered, as it starts its state keys, and as it names its workflow.
SPELLINGS = {"Weather Bot": ("weather-bot", "WeatherBot"), "Trip Planner": ("trip-planner", "TripPlanner"),
             "Flight Desk": ("flight-desk", "FlightDesk")}
WORKFLOW_ACTOR = f"dapr.internal.default.{AGENTS_APP}.workflow"


def registry(cosmos):
    return container(cosmos, "dapr-agents", "agent-registry")


def workflow_store(cosmos):
    return container(cosmos, "dapr-workflows", "workflow-state")


def read(items, key: str, partition: str) -> dict:
    return items.read_item(f"{AGENTS_APP}||{key}", partition_key=partition)


def entry(cosmos, run) -> dict:
    key = f"{SPELLINGS[run.agent][0]}:_workflow_{run.instance_id}"
    return read(workflow_store(cosmos), key, key)  # dapr-agents saves an entry with partitionKey = its key


def history(cosmos, instance_id: str) -> list:
    partition = f"{AGENTS_APP}||{WORKFLOW_ACTOR}||{instance_id}"
    docs = workflow_store(cosmos).query_items("SELECT * FROM c WHERE c.partitionKey = @pk",
                                              parameters=[{"name": "@pk", "value": partition}], partition_key=partition)
    parts = {d["id"].rsplit("||", 1)[1]: d for d in docs}
    return [decode_workflow_part(k, base64.b64decode(parts[k]["value"])).value
            for k in sorted(parts) if k.startswith("history-")]


def test_the_team_registry_lists_three_agents_each_with_its_entry(cosmos):
    index = read(registry(cosmos), f"{TEAM_PARTITION}:_index", TEAM_PARTITION)
    assert index["isBinary"] is False and index["partitionKey"] == TEAM_PARTITION
    assert sorted(index["value"]["agents"]) == sorted(SPELLINGS)
    for name, (_, compact) in SPELLINGS.items():
        doc = read(registry(cosmos), f"{TEAM_PARTITION}:{name}", TEAM_PARTITION)
        assert doc["isBinary"] is False and doc["partitionKey"] == TEAM_PARTITION and "ttl" not in doc
        meta = doc["value"]
        assert meta["name"] == name and meta["version"] == "1.0.9" and meta["agent"]["type"] == "DurableAgent"
        assert meta["agent"]["appid"] == AGENTS_APP
        assert meta["agent"]["metadata"]["workflow_name"] == f"dapr.agents.{compact}.workflow"
        assert meta["memory"]["long_term"] == {"resource_name": STATE_STORE_OF_AGENTS, "type": "ConversationDaprStateMemory"}
    weather = read(registry(cosmos), f"{TEAM_PARTITION}:Weather Bot", TEAM_PARTITION)["value"]
    assert weather["llm"]["resource_name"] == "agents-llm" and [t["name"] for t in weather["tools"]] == ["get_forecast"]
    flights = read(registry(cosmos), f"{TEAM_PARTITION}:Flight Desk", TEAM_PARTITION)["value"]
    assert flights["llm"]["resource_name"] == "flights-llm"  # what its failed run's error names


def test_every_run_has_its_workflow_entry_stored_as_json(cosmos):
    for run in AGENT_RUNS:
        doc = entry(cosmos, run)
        assert doc["isBinary"] is False and isinstance(doc["value"]["messages"], list), run.instance_id


def test_a_completed_run_holds_the_conversation_the_tool_call_its_result_and_the_memory(cosmos):
    value = entry(cosmos, RUNS["weather-0001"])["value"]
    roles = [m["role"] for m in value["messages"]]
    assert roles == ["user", "assistant", "tool", "assistant"]
    user, call, result, answer = value["messages"]
    assert user["content"] == RUNS["weather-0001"].task
    [tool_call] = call["tool_calls"]
    assert tool_call["function"] == {"name": "get_forecast", "arguments": '{"city": "Lisbon"}'}
    assert result["tool_call_id"] == tool_call["id"] and "Lisbon tomorrow: sunny" in result["content"]
    assert value["last_message"]["id"] == answer["id"] and "Lisbon tomorrow: sunny" in answer["content"]
    [record] = value["tool_history"]
    assert record["tool_name"] == "get_forecast" and record["status"] == "completed" and record["tool_args"] == {"city": "Lisbon"}
    memory = read(workflow_store(cosmos), "weather-bot:_memory_weather-0001", f"{AGENTS_APP}||weather-bot:_memory_weather-0001")
    assert memory["isBinary"] is False and isinstance(memory["value"], list)  # contentType application/json kept it JSON
    assert [(m["role"], m["content"], m["name"]) for m in memory["value"]] == [
        ("assistant", "Lisbon tomorrow: sunny, 24 °C.", "Weather Bot")]


def test_a_failing_tool_is_a_tool_message_and_the_run_still_completes(cosmos):
    value = entry(cosmos, RUNS["weather-0002"])["value"]
    tool = next(m for m in value["messages"] if m["role"] == "tool")
    assert "no weather station near 'Atlantis'" in tool["content"] and '"isError": true' in tool["content"]


def test_the_approved_booking_ran_and_the_waiting_one_is_pending(cosmos):
    approved = entry(cosmos, RUNS["trip-0001"])["value"]
    assert [m["role"] for m in approved["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert approved["tool_history"][0]["tool_args"] == {"city": "Porto", "nights": 2}
    waiting = entry(cosmos, RUNS["trip-0002"])["value"]
    assert [m["role"] for m in waiting["messages"]] == ["user", "assistant"]  # the tool call, no result yet
    assert waiting["last_message"]["tool_calls"][0]["function"]["name"] == "book_hotel"
    pending = read(workflow_store(cosmos), "trip planner:pending_approvals", f"{AGENTS_APP}||trip planner:pending_approvals")
    [request] = pending["value"].values()
    assert request["instance_id"] == "trip-0002" and request["tool_arguments"] == {"city": "Madeira", "nights": 5}


def test_each_runs_dapr_workflow_history_is_in_the_workflow_store_and_decodes(cosmos):
    for run in AGENT_RUNS:
        events = history(cosmos, run.instance_id)
        started = next(e for e in events if e.type == "ExecutionStarted")
        assert started.name == f"dapr.agents.{SPELLINGS[run.agent][1]}.workflow", run.instance_id
        scheduled = [e.name for e in events if e.type == "TaskScheduled"]
        assert f"dapr.agents.{SPELLINGS[run.agent][1]}.call_llm" in scheduled
    failed = history(cosmos, "flight-0001")
    failures = [e for e in failed if e.type == "TaskFailed"]
    assert len(failures) == 2 and all("failed finding conversation component flights-llm" in e.failure.message
                                      for e in failures)
    assert failed[-1].type == "ExecutionCompleted" and failed[-1].status is RuntimeStatus.FAILED
    waiting = history(cosmos, "trip-0002")
    assert any(e.type == "TimerCreated" for e in waiting) and waiting[-1].type != "ExecutionCompleted"


async def test_the_workflow_reader_lists_every_run_with_the_status_dapr_reached(stack):
    cosmos = stack.cosmos
    location = StoreLocation("statestore-workflows-cosmos", "dapr-workflows", "workflow-state", KeyPrefix(KeyPrefixMode.APPID))
    found, continuation = {}, None
    async with CosmosLister(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as lister:
        reader = WorkflowReader(lister, location)
        while True:
            page = await reader.instances_page(continuation)
            found.update({i.instance_id: i for i in page.instances if i.app_id == AGENTS_APP})
            continuation = page.continuation
            if not continuation:
                break
    assert {i: s.status.name for i, s in found.items()} == {r.instance_id: r.state for r in AGENT_RUNS}


def test_seeding_again_changes_no_agent_document_and_keeps_the_team_registered(stack, cosmos):
    def agent_documents():
        return {(d["id"], d["_etag"]) for c in (registry(cosmos), workflow_store(cosmos))
                for d in c.query_items("SELECT c.id, c._etag FROM c WHERE STARTSWITH(c.id, @p)",
                                       parameters=[{"name": "@p", "value": f"{AGENTS_APP}||"}],
                                       enable_cross_partition_query=True)
                if "agent:" not in d["id"]}  # tests.support's editing keys live beside them

    before = agent_documents()
    summary = asyncio.run(seed(stack))
    assert summary.agents and sorted(summary.agents) == sorted(SPELLINGS)
    assert dict(summary.agent_runs) == {r.instance_id: r.state for r in AGENT_RUNS}
    assert agent_documents() == before


def test_the_agents_app_runs_on_its_own_venv_beside_its_sidecar_and_listens_on_nothing(stack):
    """Its interpreter is the agents venv's in the cache (dapr-agents pins dapr < 1.19, ours is 1.19),
    it imports nothing of ours (no PYTHONPATH), its log is in the run folder, its daprd alone loads the
    echo model and the pub/sub, and it opens no listening socket (its worker dials daprd)."""
    from explorer.localstack.app_processes import sidecar_metadata

    from .test_stack_runtime import listening

    app = stack.app_processes[AGENTS_APP]
    assert Path(app.process.argv[0]).parent.parent.name.startswith("agents-venv-")
    assert app.process.argv[1].endswith("stack/agents/app.py")
    environ = Path(f"/proc/{app.process.pid}/environ").read_bytes().decode(errors="replace").split("\0")
    assert not any(v.startswith("PYTHONPATH=") for v in environ)
    assert "READY travel-desk: Weather Bot, Trip Planner, Flight Desk" in app.process.log_path.read_text()
    assert listening(app.process.pid) == set()
    meta = sidecar_metadata(stack.sidecars[AGENTS_APP].http_port)
    components = {c["name"]: c["type"] for c in meta["components"]}
    assert components["agents-llm"] == "conversation.echo" and components["agents-pubsub"] == "pubsub.in-memory"
    assert meta["workflows"]["connectedWorkers"] == 1
    others = {c["name"] for app_id in stack.sidecars if app_id != AGENTS_APP
              for c in sidecar_metadata(stack.sidecars[app_id].http_port)["components"]}
    assert not others & {"agents-llm", "agents-pubsub"}, "scoped to agent-registry"
