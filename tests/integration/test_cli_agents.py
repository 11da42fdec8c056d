"""`dapr-explorer agents` and `agent-run` against the session's real stack: the team the dapr-agents
app registered (stack/agents/app.py, dapr-agents 1.0.9 in its own venv beside the agent-registry
sidecar) and the runs the seed started (explorer.localstack.seed.AGENT_RUNS: completed with a tool,
with a tool that raised, without a tool, after an approval, waiting for one, failed) — every
document written by the library through daprd, read as a user types the commands."""

from __future__ import annotations

import orjson
import pytest

from explorer.localstack.apps import AGENTS_APP_ID, AGENTS_TEAM
from explorer.localstack.seed import AGENT_RUNS, AGENTS_STORE, STATE_STORE_OF_AGENTS
from .test_cli_workflows import cli, lines

pytestmark = pytest.mark.integration

RUNS = {run.instance_id: run for run in AGENT_RUNS}
AGENTS = list(dict.fromkeys(run.agent for run in AGENT_RUNS))


def run_of(stack, instance: str, *more: str) -> tuple[dict, list[dict], list[dict]]:
    """`agent-run --json`: the run, its conversation's messages, its memory's messages."""
    result = cli(stack, "agent-run", STATE_STORE_OF_AGENTS, instance, "--json", *more)
    assert result.returncode == 0, result.stderr
    head, *rest = lines(result.stdout)
    return head["run"], [m["message"] for m in rest if "message" in m], [m["memory"] for m in rest if "memory" in m]


# -- the team -------------------------------------------------------------------------------------


def test_agents_json_gives_the_team_its_index_and_each_agent_with_its_three_spellings(stack):
    result = cli(stack, "agents", AGENTS_STORE, "--json")
    assert result.returncode == 0, result.stderr
    found = lines(result.stdout)
    (team,) = [line["team"] for line in found if "team" in line]
    assert (team["team"], team["appId"], team["partitionKey"]) == (AGENTS_TEAM, AGENTS_APP_ID, f"agents:{AGENTS_TEAM}")
    assert team["index"]["id"] == f"{AGENTS_APP_ID}||agents:{AGENTS_TEAM}:_index" and team["index"]["etag"]
    assert set(team["listed"]) >= set(AGENTS) and team["flagged"] == 0 and not team["problems"]
    agents = {line["agent"]["name"]: line["agent"] for line in found if "agent" in line}
    assert set(agents) == set(team["listed"])
    weather = agents["Weather Bot"]
    assert weather["names"] == {"registry": "Weather Bot", "state": "weather-bot",
                                "workflow": "dapr.agents.WeatherBot.workflow"}
    for agent in agents.values():
        assert agent["flags"] == [] and agent["listed"] and not agent["problems"] and not agent["unknown"]
        assert agent["type"] == "DurableAgent" and agent["appId"] == AGENTS_APP_ID
        assert agent["workflowStore"] == STATE_STORE_OF_AGENTS
        assert agent["document"]["isBinary"] is False and agent["metadata"]["name"] == agent["name"]
    assert "get_forecast" in weather["tools"] and "1 team" in result.stderr and "RU" in result.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_one_team_in_words_in_any_option_order_and_read_only(stack, where):
    args = ["agents", AGENTS_STORE, "--team", AGENTS_TEAM]
    result = cli(stack, *(["--read-only", *args] if where == "before" else [*args, "--read-only"]))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"team {AGENTS_TEAM} · app {AGENTS_APP_ID} · _index lists ")
    for agent in AGENTS:
        assert agent.split()[0] in result.stdout
    assert "weather-bot" in result.stdout and "WeatherBot" in result.stdout


def test_an_unknown_team_or_store_exits_3_with_one_line(stack):
    for args in (["agents", AGENTS_STORE, "--team", "no-such-team"], ["agents", "no-such-store"]):
        result = cli(stack, *args)
        assert result.returncode == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stdout == ""
    assert "no-such-team" in cli(stack, "agents", AGENTS_STORE, "--team", "no-such-team").stderr


def test_a_store_without_agents_says_so_and_lists_nothing(stack):
    result = cli(stack, "agents", "statestore-cache-cosmos", "--json")
    assert result.returncode == 0 and result.stdout == ""
    assert "no agent teams in statestore-cache-cosmos" in result.stderr


# -- a run ----------------------------------------------------------------------------------------


def test_a_completed_run_with_a_tool_its_conversation_memory_and_workflow_instance(stack):
    run, messages, memory = run_of(stack, "weather-0001")
    assert run["instance_id"] == "weather-0001" and run["names"]["registry"] == "Weather Bot"
    assert run["registered"]["team"] == AGENTS_TEAM
    assert run["workflow"]["status"] == "COMPLETED" and run["workflow"]["store"] == STATE_STORE_OF_AGENTS
    assert run["workflow"]["instance"]["name"] == "dapr.agents.WeatherBot.workflow"
    roles = [m["role"] for m in messages]
    assert roles[0] == "system" and roles[1:4] == ["user", "assistant", "tool"], roles
    assert messages[1]["content"] == RUNS["weather-0001"].task
    (call,) = messages[2]["tool_calls"]
    assert call["name"] == "get_forecast" and orjson.loads(call["arguments"]) == {"city": "Lisbon"}
    assert messages[2]["tool_runs"][0]["status"] == "completed" and messages[3]["tool_call_id"] == call["id"]
    assert not any(m["problems"] or m["unknown"] for m in messages) and not run["problems"]
    assert run["memory"]["store"] == STATE_STORE_OF_AGENTS and run["memory"]["document"]["isBinary"] is False
    assert [m["role"] for m in memory] == ["assistant"] and "Lisbon" in memory[0]["content"]


def test_a_tool_that_raised_reads_failed(stack):
    _, messages, _ = run_of(stack, "weather-0002")
    tool = next(m for m in messages if m["role"] == "tool")
    assert tool["summary"].startswith("← get_forecast · ✖ ") and "Atlantis" in tool["summary"]
    assert "Atlantis" in tool["tool_runs"][0]["failure"]


def test_a_run_waiting_for_an_approval_says_for_what(stack):
    run, messages, memory = run_of(stack, "trip-0002")
    assert run["workflow"]["status"] == "RUNNING" and memory == []
    (approval,) = run["pending_approvals"]
    assert approval["step"] == "book_hotel" and approval["arguments"] == {"city": "Madeira", "nights": 5}
    assert run["pending_approvals_document"]["key"] == "trip planner:pending_approvals"
    assert run["waiting"] and run["waiting"][0].startswith("approval of book_hotel")
    assert messages[-1]["tool_calls"][0]["name"] == "book_hotel"


def test_the_failed_run_in_words_says_why_from_its_workflow(stack):
    result = cli(stack, "agent-run", STATE_STORE_OF_AGENTS, "flight-0001")
    assert result.returncode == 0, result.stderr
    head = result.stdout.splitlines()
    assert head[0].startswith("run flight-0001 · agent Flight Desk (keys flight-desk · workflow "
                              "dapr.agents.FlightDesk.workflow)")
    assert head[1].startswith("workflow instance FAILED in ") and head[2].startswith("  ✖ AgentError: ")
    assert "flights-llm" in result.stdout
    assert "memory: no memory key 'flight-desk:_memory_flight-0001'" in result.stdout


@pytest.mark.parametrize("where", ["before", "after"])
def test_agent_run_in_any_option_order_with_the_agent_in_any_spelling(stack, where):
    args = ["agent-run", STATE_STORE_OF_AGENTS, "trip-0001", "--agent", "Trip Planner", "--json"]
    result = cli(stack, *(["--read-only", *args] if where == "before" else [*args, "--read-only"]))
    assert result.returncode == 0, result.stderr
    assert lines(result.stdout)[0]["run"]["agent"] == "trip-planner"
    assert cli(stack, "agent-run", STATE_STORE_OF_AGENTS, "trip-0001", "--agent", "trip-planner").returncode == 0


@pytest.mark.parametrize("args", [
    ["agent-run", STATE_STORE_OF_AGENTS, "no-such-run"],
    ["agent-run", STATE_STORE_OF_AGENTS, "weather-0001", "--agent", "Trip Planner"],
    ["agent-run", STATE_STORE_OF_AGENTS, "weather-0001", "--memory-store", "no-such-store"],
])
def test_what_is_not_there_exits_3_with_one_line(stack, args):
    result = cli(stack, *args)
    assert result.returncode == 3 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stdout == ""


def test_the_readmes_agent_run_on_the_agents_store_finds_the_run_in_its_workflow_store(stack):
    """The README's `agent-run statestore-agents-cosmos RUN`: the user gives the agents' registry store; the
    run's entry is in the store its agents registered for workflow entries, found there and named."""
    result = cli(stack, "agent-run", AGENTS_STORE, "weather-0001")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("run weather-0001 · agent Weather Bot") and f" · {STATE_STORE_OF_AGENTS} · " \
        in result.stdout.splitlines()[0], result.stdout
    run = orjson.loads(cli(stack, "agent-run", AGENTS_STORE, "weather-0001", "--json").stdout.splitlines()[0])["run"]
    assert run["store"] == STATE_STORE_OF_AGENTS and run["workflow"]["status"] == "COMPLETED"
    missing = cli(stack, "agent-run", AGENTS_STORE, "no-such-run")
    assert missing.returncode == 3 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert f"in {AGENTS_STORE}, {STATE_STORE_OF_AGENTS}" in missing.stderr
