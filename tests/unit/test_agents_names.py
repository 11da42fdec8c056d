"""One agent's three spellings and the keys dapr-agents builds from them (explorer.core.agents).

The expected values are the examples dapr-agents 1.0.9 gives for its own functions
(`sanitize_openai_tool_name`, `agent_workflow_id`, `DaprInfra`/`ConversationDaprStateMemory` key
builders: tool/utils/function_calling.py, tool/workflow/agent_tool.py, agents/components.py,
memory/daprstatestore.py), so a change in how the explorer ties the names together shows here.
"""

from __future__ import annotations

import pytest

from explorer.core.agents.names import (
    AgentNames,
    RunPart,
    parse_registry_key,
    parse_run_key,
    registry_key,
    state_name,
    team_partition,
    workflow_name,
    workflow_short_name,
)


def test_the_three_spellings_of_weather_bot():
    names = AgentNames.of("Weather Bot")
    assert (names.registry, names.state, names.workflow) == ("Weather Bot", "weather-bot", "dapr.agents.WeatherBot.workflow")
    assert names.short == "WeatherBot"
    assert names.run_key("3f2a9c") == "weather-bot:_workflow_3f2a9c"
    assert names.memory_key("3f2a9c") == "weather-bot:_memory_3f2a9c"


@pytest.mark.parametrize(("name", "short"), [
    ("get-xyz-count", "get-xyz-count"), ("get_user", "get_user"), ("My Agent", "MyAgent"),
    ("agent<name>", "agentname"), ("café_finder", "caf_finder"), ("", "unnamed_tool"), ("???", "unnamed_tool"),
])
def test_the_workflow_spelling_strips_what_tool_names_may_not_hold(name, short):
    assert workflow_short_name(name) == short


@pytest.mark.parametrize(("framework", "expected"), [
    (None, "dapr.agents.catering-coordinator.workflow"),
    ("Dapr Agents", "dapr.agents.catering-coordinator.workflow"),  # what DurableAgent registers
    ("dapr-agents", "dapr.agents.catering-coordinator.workflow"),
    ("Dapr.Agents", "dapr.agents.catering-coordinator.workflow"),
    ("openai", "dapr.openai.catering-coordinator.workflow"),
    ("Pydantic_AI", "dapr.pydantic-ai.catering-coordinator.workflow"),
])
def test_workflow_names_follow_the_framework_rules(framework, expected):
    assert workflow_name("catering-coordinator", framework) == expected


def test_a_full_workflow_name_is_kept_and_a_published_one_wins():
    assert workflow_name("dapr.agents.Other.workflow") == "dapr.agents.Other.workflow"
    metadata = {"agent": {"framework": "Dapr Agents", "metadata": {"workflow_name": "dapr.agents.Custom.workflow"}}}
    assert AgentNames.of("Weather Bot", metadata).workflow == "dapr.agents.Custom.workflow"
    assert AgentNames.of("Weather Bot", {"agent": "not an object"}).workflow == "dapr.agents.WeatherBot.workflow"


def test_state_keys_are_lower_case_with_dashes_and_so_is_the_run_id_in_them():
    assert state_name("Weather Bot") == "weather-bot"
    assert state_name("Trip  Planner") == "trip--planner"  # each space, as the library replaces them
    assert AgentNames.of("Weather Bot").run_key("Run-ABC") == "weather-bot:_workflow_run-abc"


def test_registry_keys_name_the_team_and_the_agent_or_the_index():
    assert registry_key("default", "Weather Bot") == "agents:default:Weather Bot"
    assert registry_key("default") == "agents:default:_index"
    assert team_partition("default") == "agents:default"
    agent = parse_registry_key("agents:default:Weather Bot")
    assert (agent.team, agent.agent, agent.index, agent.partition) == ("default", "Weather Bot", False, "agents:default")
    assert parse_registry_key("agents:default:_index").index
    # A team name with ':' is read from the partition the document is in.
    assert parse_registry_key("agents:eu:west:Planner", "agents:eu:west").team == "eu:west"
    assert parse_registry_key("agents:eu:west:Planner").team == "eu"
    for key in ("agents:", "agents:default", "agent:default:x", "weather-bot:_workflow_1"):
        assert parse_registry_key(key) is None, key


def test_run_keys_name_the_agent_the_part_and_the_instance():
    run = parse_run_key("weather-bot:_workflow_3f2a9c")
    assert (run.agent, run.part, run.instance_id) == ("weather-bot", RunPart.WORKFLOW, "3f2a9c")
    memory = parse_run_key("weather-bot:_memory_3f2a9c")
    assert (memory.agent, memory.part, memory.instance_id) == ("weather-bot", RunPart.MEMORY, "3f2a9c")
    for key in ("weather-bot:_workflow_", ":_workflow_1", "agents:default:_index", "plain"):
        assert parse_run_key(key) is None, key
