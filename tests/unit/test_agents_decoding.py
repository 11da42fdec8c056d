"""dapr-agents state decoded (explorer.core.agents), over the documents dapr-agents 1.0.9 really
wrote on the local stack (tests/unit/recorded/dapr-agents-1.0.9.json: team `travel-desk`, six runs).

Where a test needs something the library did not write — an index entry whose document is gone, a
document the index does not list, a memory array an editor re-saved as bytes — it makes it by
changing a copy of a recorded document, and says so. No Cosmos here: the queries are tested against
the real stack in tests/integration/test_cli_agents.py and test_tui_agents.py.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from explorer.core.agents.names import RunPart, parse_run_key
from explorer.core.agents.runs import RunSummary, decode_memory, decode_pending_approvals, decode_run
from explorer.core.agents.schema import BASE64_NOTE, fit
from explorer.core.agents.teams import Flag, build_teams
from explorer.core.envelope import KeyPrefix

RECORDED = json.loads((Path(__file__).parent / "recorded" / "dapr-agents-1.0.9.json").read_text())
PREFIX = KeyPrefix.from_metadata(None)  # the stack's stores: Dapr's default, the app-id
APP = RECORDED["app_id"]
TEAM = RECORDED["team"]
REGISTRY = RECORDED["documents"]["statestore-agents-cosmos"]
STATE = {d["id"]: d for d in RECORDED["documents"]["statestore-workflows-cosmos"]}
RUNS = {r["instance_id"]: r for r in RECORDED["runs"]}


def registry(*, drop: str | None = None, unlist: str | None = None, index: bool = True) -> list[dict]:
    """Copies of the recorded registry documents: `drop` an agent's document, `unlist` an agent from
    the index, or leave the index out (changes of ours, to the library's own documents)."""
    docs = copy.deepcopy(REGISTRY)
    if drop:
        docs = [d for d in docs if d["id"] != f"{APP}||agents:{TEAM}:{drop}"]
    if not index:
        docs = [d for d in docs if not d["id"].endswith(":_index")]
    if unlist:
        for d in docs:
            if d["id"].endswith(":_index"):
                d["value"]["agents"].remove(unlist)
    return docs


def entry(instance: str) -> dict:
    """The recorded workflow entry of a run (its key: the agent's state spelling, the run id)."""
    agent = RUNS[instance]["agent"].replace(" ", "-").lower()
    return STATE[f"{APP}||{agent}:_workflow_{instance}"]


def agents_by_name(docs) -> dict:
    (team,) = build_teams(docs, PREFIX)
    return {a.name: a for a in team.agents}


# -- the team ---------------------------------------------------------------------------------------

def test_the_recorded_team_lists_its_three_agents_in_index_order_with_nothing_flagged():
    (team,) = build_teams(REGISTRY, PREFIX)
    assert (team.name, team.app_id, team.partition) == (TEAM, APP, f"agents:{TEAM}")
    assert [a.name for a in team.agents] == ["Weather Bot", "Trip Planner", "Flight Desk"]
    assert team.flagged == 0 and not team.problems and not team.unknown and not team.others
    for agent in team.agents:
        assert agent.listed and agent.document is not None and not agent.flags
        assert not agent.problems and not agent.unknown, (agent.name, agent.problems, agent.unknown)


def test_an_agent_shows_its_metadata_and_its_three_spellings():
    weather = agents_by_name(REGISTRY)["Weather Bot"]
    assert (weather.names.registry, weather.names.state, weather.names.workflow) == (
        "Weather Bot", "weather-bot", "dapr.agents.WeatherBot.workflow")
    assert weather.agent_type == "DurableAgent" and weather.app_id == APP and weather.role
    assert [t.name for t in weather.tools] == ["get_forecast"]
    assert weather.llm.startswith("dapr") and "DaprChatClient" in weather.llm
    assert weather.store_of("short_term") == weather.store_of("long_term") == "statestore-workflows-cosmos"
    assert weather.registered_at is not None
    # The workflow spelling is also the name on the agent's own messages.
    assistant = [m for m in decode_run(entry("weather-0001"), PREFIX).messages if m.role == "assistant"]
    assert {m.name for m in assistant} == {weather.names.short}


def test_an_index_entry_whose_document_is_gone_is_flagged():
    flight = agents_by_name(registry(drop="Flight Desk"))["Flight Desk"]
    assert flight.flags == (Flag.NO_DOCUMENT,) and flight.listed and flight.document is None
    assert "skips it" in Flag.NO_DOCUMENT.why


def test_a_document_the_index_does_not_list_is_flagged_and_comes_after_the_listed_ones():
    agents = agents_by_name(registry(unlist="Trip Planner"))
    assert list(agents) == ["Weather Bot", "Flight Desk", "Trip Planner"]
    assert agents["Trip Planner"].flags == (Flag.NOT_IN_INDEX,) and not agents["Trip Planner"].listed
    assert "orchestrators cannot see" in Flag.NOT_IN_INDEX.why


def test_without_its_index_every_agent_of_the_team_says_so():
    (team,) = build_teams(registry(index=False), PREFIX)
    assert team.index is None and {a.flags for a in team.agents} == {(Flag.NO_INDEX,)}


def test_a_document_that_does_not_fit_says_where_and_keeps_its_raw_json():
    docs = registry()
    weather = next(d for d in docs if d["id"].endswith(":Weather Bot"))
    weather["value"]["agent"].pop("appid")  # changes of ours: a field the model requires, a wrong type,
    weather["value"]["tools"][0]["args"] = {"city": "str"}  # and one it does not know
    weather["value"]["owner"] = "travel team"
    agent = agents_by_name(docs)["Weather Bot"]
    assert Flag.DOES_NOT_FIT in agent.flags
    assert {(p.path, p.text) for p in agent.problems} == {
        ("agent.appid", "missing (the model requires it)"), ("tools[0].args", "should be text, is an object")}
    assert [(u.path, u.value) for u in agent.unknown] == [("owner", "travel team")]
    assert agent.metadata["owner"] == "travel team" and agent.metadata["tools"][0]["args"] == {"city": "str"}


def test_a_document_whose_name_was_edited_is_flagged():
    docs = registry()
    next(d for d in docs if d["id"].endswith(":Flight Desk"))["value"]["name"] = "Flight Desk 2"
    assert Flag.NAME_DIFFERS in agents_by_name(docs)["Flight Desk"].flags


def test_the_same_team_under_another_apps_prefix_is_a_team_of_its_own_and_each_names_the_other():
    other = copy.deepcopy(REGISTRY)
    for d in other:
        d["id"] = d["id"].replace(f"{APP}||", "other-app||")  # another app, same team: ids of ours
    teams = build_teams(REGISTRY + other, PREFIX)
    assert [(t.app_id, t.others) for t in teams] == [(APP, ("other-app",)), ("other-app", (APP,))]


def test_documents_that_are_not_the_registrys_are_left_out():
    assert build_teams(list(STATE.values()), PREFIX) == []


# -- a run -----------------------------------------------------------------------------------------

def test_a_run_with_a_tool_call_reads_as_a_conversation_with_the_call_its_result_and_its_record():
    run = decode_run(entry("weather-0001"), PREFIX)
    assert (run.instance_id, run.agent, run.document.app_id) == ("weather-0001", "weather-bot", APP)
    assert [m.role for m in run.timeline] == ["system", "user", "assistant", "tool", "assistant"]
    user, call, result = run.messages[0], run.messages[1], run.messages[2]
    assert user.content == RUNS["weather-0001"]["task"]
    (tool_call,) = call.tool_calls
    assert tool_call.name == "get_forecast" and tool_call.arguments_json == {"city": "Lisbon"}
    (record,) = call.runs
    assert record is result.runs[0] and record.status == "completed" and record.duration_ms > 0
    assert record.tool_call_id == tool_call.id == result.tool_call_id and record.failure is None
    assert call.summary.startswith('→ get_forecast({"city": "Lisbon"}) completed')
    assert result.summary.startswith("← get_forecast · ")
    assert not run.problems and not run.unknown and not run.waiting and not run.unanswered_tools
    assert run.started is not None and run.ended >= run.started


def test_a_tool_that_raised_reads_as_failed_though_its_record_says_completed():
    run = decode_run(entry("weather-0002"), PREFIX)
    tool = next(m for m in run.messages if m.role == "tool")
    assert tool.runs[0].status == "completed"  # as dapr-agents records a tool that raised
    assert "no weather station near 'Atlantis'" in tool.runs[0].failure
    assert tool.summary.startswith("← get_forecast · ✖ ") and "Atlantis" in tool.summary
    call = next(m for m in run.messages if m.tool_calls)
    assert call.summary == '→ get_forecast({"city": "Atlantis"}) ✖ failed'


def test_a_run_waiting_for_its_tool_call_says_so():
    run = decode_run(entry("trip-0002"), PREFIX)
    assert RUNS["trip-0002"]["status"] == "RUNNING"
    assert run.waiting == ("tool book_hotel",)
    assert RunSummary.of(run).waiting == ("tool book_hotel",)


def test_a_run_whose_model_failed_has_an_empty_entry_that_still_decodes():
    run = decode_run(entry("flight-0001"), PREFIX)
    assert RUNS["flight-0001"]["status"] == "FAILED"
    assert run.timeline == () and not run.problems and RunSummary.of(run).last == "(no messages)"


@pytest.mark.parametrize("instance", sorted(RUNS))
def test_every_recorded_entry_fits_the_model_with_no_unknown_field(instance):
    run = decode_run(entry(instance), PREFIX)
    assert not run.problems and not run.unknown
    assert not [m for m in run.timeline if m.problems or m.unknown]
    summary = RunSummary.of(run)
    assert summary.instance_id == instance and summary.problems == 0 and summary.messages == len(run.messages)


def test_a_message_that_does_not_fit_says_so_beside_its_raw_json():
    item = copy.deepcopy(entry("weather-0003"))
    item["value"]["messages"].append("not a message")  # changes of ours
    item["value"]["messages"][0]["mood"] = "cheerful"
    item["value"]["tool_history"] = {"oops": 1}
    run = decode_run(item, PREFIX)
    bad = run.messages[-1]
    assert bad.raw == "not a message" and bad.summary.startswith("✖ should be an object")
    assert [(u.path, u.value) for u in run.messages[0].unknown] == [("messages[0].mood", "cheerful")]
    assert [p.path for p in run.problems] == ["tool_history"] and run.tool_history == ()


# -- memory and approvals ------------------------------------------------------------------------------

def test_memory_is_the_array_of_messages_the_summarize_step_wrote():
    item = STATE[f"{APP}||weather-bot:_memory_weather-0001"]
    assert item["isBinary"] is False and isinstance(item["value"], list)
    memory = decode_memory(item, PREFIX)
    assert (memory.instance_id, memory.agent, memory.problems) == ("weather-0001", "weather-bot", ())
    (message,) = memory.messages
    assert message.role == "assistant" and message.name == "Weather Bot" and message.at is not None
    assert "Lisbon" in message.content


def test_memory_stored_as_bytes_still_decodes_and_says_how_it_was_stored():
    item = copy.deepcopy(STATE[f"{APP}||weather-bot:_memory_weather-0001"])
    raw = json.dumps(item["value"]).encode()  # what Dapr stores when the contentType is dropped
    item.update(isBinary=True, value=base64.b64encode(raw).decode())
    memory = decode_memory(item, PREFIX)
    assert [p.text for p in memory.problems] == [BASE64_NOTE]
    assert [m.content for m in memory.messages] == [item_value["content"] for item_value in json.loads(raw)]


def test_memory_that_is_not_an_array_says_so():
    item = copy.deepcopy(STATE[f"{APP}||weather-bot:_memory_weather-0001"])
    item["value"] = {"content": "x"}  # a change of ours
    memory = decode_memory(item, PREFIX)
    assert memory.messages == () and "should be a list of messages" in memory.problems[-1].text


def test_the_pending_approval_names_the_waiting_run_and_the_booking():
    (doc_id,) = [i for i in STATE if i.endswith(":pending_approvals")]
    assert doc_id == f"{APP}||trip planner:pending_approvals"  # the registry name, lower case, with its space
    stored, approvals, problems = decode_pending_approvals(STATE[doc_id], PREFIX)
    assert stored.key == "trip planner:pending_approvals" and problems == ()
    (approval,) = approvals
    assert approval.instance_id == "trip-0002" and approval.step == "book_hotel"
    assert approval.arguments == {"city": "Madeira", "nights": 5} and not approval.problems and not approval.unknown
    assert approval.summary.startswith('approval of book_hotel {"city": "Madeira", "nights": 5} asked ')


def test_run_and_memory_keys_of_the_recording_parse():
    keys = [i.split("||", 1)[1] for i in STATE if "dapr.internal" not in i and "pending_approvals" not in i]
    parsed = [parse_run_key(k) for k in keys]
    assert all(parsed) and {p.part for p in parsed} == {RunPart.WORKFLOW, RunPart.MEMORY}


def test_fit_reports_missing_required_wrong_null_and_unknown_fields():
    problems, unknown = fit({"tool_call_id": None, "tool_name": 3, "status": "lost", "extra": 1}, "ToolExecutionRecord")
    assert {(p.path, p.text) for p in problems} == {
        ("tool_call_id", "is null; the model wants text"), ("tool_name", "should be text, is a number"),
        ("status", "should be a tool status, is text")}
    assert [u.path for u in unknown] == ["extra"]
    assert fit([], "AgentWorkflowEntry")[0][0].text == "should be an object (AgentWorkflowEntry), is a list"


@pytest.mark.parametrize("calls", [True, 1.5, "abc", {"id": "x"}])
def test_a_message_whose_tool_calls_is_not_a_list_decodes_without_calls(calls):
    """Found by bench/fuzz_inputs.py: `"tool_calls": true` in a memory message raised TypeError out of
    decode_memory, which never raises on what a store holds."""
    item = {"id": "app||weather-bot:_memory_trip-0001", "partitionKey": "weather-bot:_memory_trip-0001",
            "isBinary": False, "value": [{"role": "assistant", "content": "hi", "tool_calls": calls}]}
    (message,) = decode_memory(item, KeyPrefix.from_metadata(None)).messages
    assert message.content == "hi" and message.tool_calls == ()
