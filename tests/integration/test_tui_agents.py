"""The dapr-agents views driven with Textual's Pilot against real stacks, where every agent document
was written by dapr-agents 1.0.9 itself (stack/agents/app.py in its own venv; the seed's
AGENT_RUNS): the team view (`t`), an agent's runs, a run's conversation and memory, and the Dapr
workflow instance of a run (`w`).

The first tests only read the session's stack. The last ones edit — a memory array in the key
editor opened from the run view, a registry entry and the team's `_index` through
ExplorerSession.save — on a stack of their own, and then ask the library itself, in the agents
app's venv, to load what was saved: dapr-agents' own `get_messages` and `get_agents_metadata`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess

import pytest

from explorer.core.model import TtlChoice
from explorer.core.writes import NewValue
from explorer.errors import EtagConflict
from explorer.localstack.apps import AGENTS_APP_ID, AGENTS_TEAM
from explorer.localstack.seed import AGENT_RUNS, AGENTS_STORE, STATE_STORE_OF_AGENTS
from explorer.session.explorer_session import ExplorerSession
from explorer.tui.screens.agents.run_view import AgentRunView
from explorer.tui.screens.agents.runs import AgentRuns
from explorer.tui.screens.agents.teams import TEAM_ROW, Teams
from explorer.tui.dialogs import ConfirmSave
from explorer.tui.screens.key_editor import KeyEditor
from explorer.tui.screens.workflows.timeline import Timeline

from .conftest import container, own_stack, stack_env
from .test_tui import footer, make_app, palette, shown, text, to_store, until

pytestmark = pytest.mark.integration

RUNS = {run.instance_id: run for run in AGENT_RUNS}
REGISTRY = ("dapr-agents", "agent-registry")
STATE = ("dapr-workflows", "workflow-state")


async def to_teams(pilot) -> Teams:
    app = pilot.app
    await to_store(pilot, AGENTS_STORE)
    await pilot.press("t")
    await until(pilot, lambda: isinstance(app.screen, Teams) and not app.screen.reading and app.screen.rows,
                "the teams")
    return app.screen


async def to_agent(pilot, teams: Teams, agent: str) -> None:
    for _ in range(len(teams.rows)):
        row = teams.current
        if row.agent is not None and row.agent.name == agent and row.team.name == AGENTS_TEAM:
            break
        await pilot.press("down")
    await until(pilot, lambda: teams.detail_for == (AGENTS_TEAM, agent), f"{agent}'s detail")


async def to_run(pilot, instance: str) -> AgentRunView:
    """From the browser: t, the run's agent, enter, the run, enter."""
    teams = await to_teams(pilot)
    await to_agent(pilot, teams, RUNS[instance].agent)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, AgentRuns) and pilot.app.screen.exhausted, "the runs")
    runs = pilot.app.screen
    while runs.current.summary.instance_id != instance:
        await pilot.press("down")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, AgentRunView) and pilot.app.screen.view is not None,
                f"run {instance} with its memory and workflow instance")
    return pilot.app.screen


def detail(screen) -> str:
    return " ".join(shown(screen.query_one("#ag-detail-body")).split())


# -- reading the session's stack --------------------------------------------------------------------


async def test_t_lists_the_team_with_its_index_and_each_agent_with_its_three_spellings(stack):
    with stack_env(stack):
        app = make_app(stack)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: app.session is not None, "the session")
            assert "Agents" in footer(app.browser) and "Agents" in palette(app)
            teams = await to_teams(pilot)
            rows = [(r.team.name, r.agent.name if r.agent else TEAM_ROW) for r in teams.rows]
            agents = list(dict.fromkeys(run.agent for run in AGENT_RUNS))
            assert rows[0] == (AGENTS_TEAM, TEAM_ROW) and {a for _, a in rows[1:]} >= set(agents)
            assert all(r.cells[2] == "ok" for r in teams.rows if r.agent is not None)
            assert f"_index lists {len(rows) - 1}" in teams.rows[0].cells[2]
            assert "1 team" in text(teams, "#status") and "RU" in text(teams, "#status")
            await to_agent(pilot, teams, "Weather Bot")
            said = detail(teams)
            assert "registry 'Weather Bot' · state keys weather-bot" in said
            assert "workflow dapr.agents.WeatherBot.workflow" in said and "get_forecast" in said
            assert f"workflow entries in {STATE_STORE_OF_AGENTS}" in said
            assert any("Weather Bot" in line and "ok" in line for line in shown(teams.table).splitlines())


async def test_a_runs_conversation_shows_the_task_the_tool_that_failed_and_the_answer(stack):
    with stack_env(stack):
        app = make_app(stack)
        async with app.run_test(size=(100, 30)) as pilot:
            view = await to_run(pilot, "weather-0002")
            assert "weather-0002" in text(view, "#ag-title") and "COMPLETED" in text(view, "#ag-title")
            assert "workflow instance COMPLETED" in text(view, "#ag-summary")
            messages = view.parts["conversation"].messages
            assert messages[view.table.current].content == RUNS["weather-0002"].task  # the cursor starts at the task
            tool = next(n for n, m in enumerate(messages) if m.role == "tool")
            while view.table.current != tool:
                await pilot.press("down")
            await until(pilot, lambda: view.detail_for == ("conversation", tool), "the tool's result")
            assert "✖ the tool failed" in detail(view) and "Atlantis" in detail(view)
            assert any("✖" in line and "get_forecast" in line for line in shown(view.table).splitlines())


async def test_m_shows_the_runs_memory_and_w_its_workflow_timeline(stack):
    with stack_env(stack):
        app = make_app(stack)
        async with app.run_test(size=(100, 30)) as pilot:
            view = await to_run(pilot, "weather-0001")
            assert f"memory: 1 message in {STATE_STORE_OF_AGENTS} (m)" in text(view, "#ag-summary")
            await pilot.press("m")
            await until(pilot, lambda: view.detail_for == ("memory", 0), "the memory")
            assert "Lisbon" in detail(view) and "createdAt" in detail(view)
            assert "Workflow" in footer(view)
            await pilot.press("w")
            await until(pilot, lambda: isinstance(app.screen, Timeline) and app.screen.summary is not None,
                        "the workflow instance's timeline")
            assert app.screen.ref.instance_id == "weather-0001" and app.screen.ref.app_id == AGENTS_APP_ID
            assert "COMPLETED" in text(app.screen, "#tl-title")
            assert "dapr.agents.WeatherBot.workflow" in text(app.screen, "#tl-title")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is view, "back to the run")


async def test_a_waiting_run_says_it_waits_for_an_approval_and_a_failed_one_why(stack):
    with stack_env(stack):
        app = make_app(stack)
        async with app.run_test(size=(100, 30)) as pilot:
            waiting = await to_run(pilot, "trip-0002")
            summary = text(waiting, "#ag-summary")
            assert "workflow instance RUNNING" in summary and "waiting for approval of book_hotel" in summary
            await pilot.press("escape", "escape", "escape")
            await until(pilot, lambda: app.screen is app.browser, "back in the browser")
            failed = await to_run(pilot, "flight-0001")
            assert "workflow instance FAILED" in text(failed, "#ag-summary")
            assert "no messages: the run failed" in detail(failed) and "flights-llm" in detail(failed)


async def test_read_only_every_agents_screen_says_so_and_v_opens_a_document_read_only(stack, cosmos):
    with stack_env(stack):
        app = make_app(stack, read_only=True)
        async with app.run_test(size=(100, 30)) as pilot:
            teams = await to_teams(pilot)
            assert "READ-ONLY SESSION" in text(teams, ".banner")
            await to_agent(pilot, teams, "Trip Planner")
            doc_id = f"{AGENTS_APP_ID}||agents:{AGENTS_TEAM}:Trip Planner"
            before = container(cosmos, *REGISTRY).read_item(doc_id, partition_key=f"agents:{AGENTS_TEAM}")
            await pilot.press("v")
            await until(pilot, lambda: isinstance(app.screen, KeyEditor) and app.screen.opened is not None,
                        "the registry entry")
            editor = app.screen
            assert editor.opened.key.state_key.doc_id == doc_id and '"Trip Planner"' in shown(editor.query_one("#value"))
            await pilot.press("e", "d")
            await pilot.pause(0.2)
            assert app.screen is editor and not editor.editing
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, Teams), "back to the teams")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, AgentRuns), "the runs")
            assert "READ-ONLY SESSION" in text(app.screen, ".banner")
    after = container(cosmos, *REGISTRY).read_item(doc_id, partition_key=f"agents:{AGENTS_TEAM}")
    assert after["_etag"] == before["_etag"]


# -- editing, on a stack of its own, and dapr-agents loading what was saved -------------------------------


@pytest.fixture(scope="module")
def editable(tmp_path_factory):
    """A seeded stack with the apps (the dapr-agents app too) for the tests that write."""
    with own_stack(tmp_path_factory, "agents-edits", apps=True) as local:
        yield local


def library_loads(stack, code: str) -> object:
    """What dapr-agents itself loads: `code` (which prints one JSON value) run by the agents app's
    own venv, its Dapr client pointed at the agent-registry sidecar (so the keys are that app's)."""
    from explorer.localstack.installs import agents_python

    sidecar = stack.sidecars[AGENTS_APP_ID]
    env = {**os.environ, "DAPR_GRPC_PORT": str(sidecar.grpc_port), "DAPR_HTTP_PORT": str(sidecar.http_port)}
    env.pop("DAPR_GRPC_ENDPOINT", None)
    result = subprocess.run([str(agents_python()), "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


LOAD_MEMORY = f"""
import json
from dapr_agents.memory.daprstatestore import ConversationDaprStateMemory
memory = ConversationDaprStateMemory(store_name={STATE_STORE_OF_AGENTS!r}, agent_name="Weather Bot")
print(json.dumps(memory.get_messages("weather-0001")))
"""

LOAD_TEAM = f"""
import json
from dapr_agents.agents.components import DaprInfra
from dapr_agents.agents.configs import AgentRegistryConfig
from dapr_agents.storage.daprstores import StateStoreService
registry = AgentRegistryConfig(store=StateStoreService(store_name={AGENTS_STORE!r}), team_name={AGENTS_TEAM!r})
print(json.dumps(DaprInfra(name="explorer-test", registry=registry).get_agents_metadata(exclude_self=False)))
"""


async def test_memory_edited_from_the_run_view_stays_a_json_array_dapr_agents_loads(editable):
    memory_id = f"{AGENTS_APP_ID}||weather-bot:_memory_weather-0001"
    with stack_env(editable):
        cosmos = editable.cosmos_client()
        before = container(cosmos, *STATE).read_item(memory_id, partition_key=memory_id)
        assert before["isBinary"] is False and isinstance(before["value"], list)
        edited = [dict(before["value"][0], content="Lisbon tomorrow: sunny, 25 °C (checked by support)."),
                  {"role": "user", "content": "A note added in the explorer.", "createdAt": before["value"][0]["createdAt"]}]
        app = make_app(editable)
        async with app.run_test(size=(100, 30)) as pilot:
            view = await to_run(pilot, "weather-0001")
            await pilot.press("m", "v")
            await until(pilot, lambda: isinstance(app.screen, KeyEditor) and app.screen.opened is not None, "the memory key")
            editor = app.screen
            assert editor.opened.key.state_key.doc_id == memory_id
            await pilot.press("e")
            editor.query_one("#value-edit").text = json.dumps(edited, indent=2, ensure_ascii=False)
            await pilot.press("ctrl+s")
            await until(pilot, lambda: isinstance(app.screen, ConfirmSave), "the save confirmation")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: editor.saved_etags, "the save")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is view and view.view is not None and view.part == "memory"
                        and len(view.parts["memory"].messages) == 2, "the run, read again")
            assert [m.content for m in view.parts["memory"].messages] == [m["content"] for m in edited]
        after = container(cosmos, *STATE).read_item(memory_id, partition_key=memory_id)
    assert after["isBinary"] is False and after["value"] == edited and after["_etag"] != before["_etag"]
    assert after["partitionKey"] == before["partitionKey"]
    assert library_loads(editable, LOAD_MEMORY) == edited


async def test_a_registry_entry_and_the_index_saved_through_the_session_keep_their_shape_and_etag(editable):
    partition = f"agents:{AGENTS_TEAM}"
    entry_id = f"{AGENTS_APP_ID}||agents:{AGENTS_TEAM}:Weather Bot"
    index_id = f"{AGENTS_APP_ID}||agents:{AGENTS_TEAM}:_index"
    with stack_env(editable):
        session = await ExplorerSession.open([editable.resources_path],
                                             [s.grpc_address for s in editable.sidecars.values()], None,
                                             read_only=False, ca_file=None, start_sidecars=False)
        try:
            location = await session.location(AGENTS_STORE)
            entry = await session.read(location, entry_id, partition)
            metadata = dict(entry.document["value"], agent=dict(entry.document["value"]["agent"], goal="Forecasts only."))
            saved = await session.save(location, entry, NewValue.json_text(json.dumps(metadata)), TtlChoice.parse("keep"))
            assert saved.document["isBinary"] is False and saved.document["value"] == metadata
            assert saved.partition_key == partition and saved.etag != entry.etag

            index = await session.read(location, index_id, partition)
            listed = index.document["value"]["agents"]
            without = {"agents": [name for name in listed if name != "Flight Desk"]}
            after = await session.save(location, index, NewValue.json_text(json.dumps(without)), TtlChoice.parse("keep"))
            assert after.document["value"] == without and after.document["isBinary"] is False
            with pytest.raises(EtagConflict):  # the etag it was read with is gone: nothing is written
                await session.save(location, index, NewValue.json_text(json.dumps({"agents": listed})),
                                   TtlChoice.parse("keep"))
            assert (await session.read(location, index_id, partition)).document["value"] == without

            (team,) = (await session.agents(location).teams(AGENTS_TEAM)).teams
            flagged = {a.name: [f.name for f in a.flags] for a in team.agents if a.flags}
            assert flagged == {"Flight Desk": ["NOT_IN_INDEX"]}  # what a user now sees in the team view
        finally:
            await session.close()
    loaded = await asyncio.to_thread(library_loads, editable, LOAD_TEAM)
    assert loaded["Weather Bot"]["agent"]["goal"] == "Forecasts only." and loaded["Weather Bot"] == metadata
    assert "Flight Desk" not in loaded and set(loaded) == set(without["agents"])
