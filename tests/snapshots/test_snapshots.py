"""SVG snapshots of each pane at 80×24, drawn from a FAKE recorded session (no I/O).

They catch layout and styling changes: what the store list, partition browser,
key editor and dialogs look like in dark and light themes, and in a read-only
session. The data is frozen (tests/snapshots/recorded_session.py) so etags,
timestamps and countdowns draw the same every run. Behaviour is tested against
the real stack in tests/integration/test_tui.py. Update after an intended
change with `pytest tests/snapshots --snapshot-update` and review the SVGs.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from explorer.tui.app import ExplorerApp
from explorer.components.files import load_components
from explorer.tui.screens.key_editor import KeyEditor
from explorer.tui.widgets.store_list import StoreList

from .recorded_session import NOW, RecordedSession

COMPONENTS = [Path(__file__).resolve().parents[2] / "components"]
SIZE = (80, 24)


def make_app(read_only: bool = False, theme: str | None = None, production: bool | None = None) -> ExplorerApp:
    """`production`: on a production context "prod-eu", opened with --allow-writes (True) or without (False)."""
    prepared = None
    if production is not None:
        from explorer.session.contexts import Prepared
        from explorer.core.contexts import Context, decide_writes

        context = Context("prod-eu", "contexts.yaml", resources=tuple(map(str, COMPONENTS)), production=True,
                          color="#d70000", description="orders, West Europe")
        prepared = Prepared(context, decide_writes(context, read_only, production), list(COMPONENTS), [], None, {}, None)
        read_only = prepared.policy.read_only
    session = RecordedSession.for_paths(COMPONENTS, read_only)

    async def factory(app):
        return session

    app = ExplorerApp(load_components(COMPONENTS), COMPONENTS, read_only=read_only, clock=lambda: NOW,
                      session_factory=factory, prepared=prepared)
    if theme:
        app.theme = theme
    app.recorded = session
    return app


async def until(pilot, condition, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)
    await pilot.pause(0.1)


async def at_partition(pilot, store: str = "statestore-agents-cosmos", partition: str = "gpt4") -> None:
    app = pilot.app
    await until(pilot, lambda: app.browser and len(app.browser.findings) == 3, "every store's doctor badge")
    stores = app.browser.query_one(StoreList)
    while stores.current_store != store:
        await pilot.press("down")
    await until(pilot, lambda: partition in app.browser.partitions.partitions, "partitions")
    app.browser.partitions.select(partition)
    app.browser.open_partition(partition)
    app.browser.keys.focus()
    await until(pilot, lambda: app.browser.keys.entries, "keys")


async def in_editor(pilot, key: str, store: str = "statestore-agents-cosmos", partition: str = "gpt4") -> None:
    await at_partition(pilot, store, partition)
    entries = [e.state_key.key for e in pilot.app.browser.keys.entries]
    for _ in range(entries.index(key)):
        await pilot.press("down")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, KeyEditor) and pilot.app.screen.opened, "the editor")
    opened = pilot.app.screen.opened
    await until(pilot, lambda: opened.dapr_app is None or pilot.app.screen.opened.dapr_checked, "Dapr's verdict")


def test_browser(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=at_partition)


def pressed_at_partition(*keys: str):
    """A run_before: the partition open, the key table focused, then `keys` pressed."""
    async def run_before(pilot):
        await at_partition(pilot)
        pilot.app.browser.keys.focus()
        await pilot.press(*keys)
        await pilot.pause(0.2)

    return run_before


def test_browser_with_marked_keys(snap_compare):
    """Two keys marked for a bulk action: their dots, and the count in the key pane's title."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=pressed_at_partition("space", "down", "space"))


def test_bulk_choice_with_marked_keys(snap_compare):
    """B with two keys marked: the action, the TTL box, the marked keys or the whole partition."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=pressed_at_partition("space", "space", "B"))


def test_browser_light_theme(snap_compare):
    assert snap_compare(make_app(theme="textual-light"), terminal_size=SIZE, run_before=at_partition)


def test_browser_ttl_countdowns(snap_compare):
    async def run_before(pilot):
        await at_partition(pilot, "statestore-cache-cosmos", "user")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_read_only_browser(snap_compare):
    assert snap_compare(make_app(read_only=True), terminal_size=SIZE, run_before=at_partition)


def test_key_editor(snap_compare):
    async def run_before(pilot):
        await in_editor(pilot, "agent:planner")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_key_editor_binary_value(snap_compare):
    async def run_before(pilot):
        await in_editor(pilot, "agent:ocr-worker:avatar", partition="custom")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_key_editor_actor_state_is_read_only(snap_compare):
    async def run_before(pilot):
        await in_editor(pilot, "CartActor||cart-42||items", "statestore-workflows-cosmos",
                        "order-processor||CartActor||cart-42")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_invalid_json_message(snap_compare):
    async def run_before(pilot):
        await in_editor(pilot, "agent:planner")
        await pilot.press("e")
        pilot.app.screen.query_one("#value-edit").text = '{\n  "name": "planner",,\n}'
        await pilot.press("ctrl+s")
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


async def at_save_confirmation(pilot) -> None:
    """agent:planner edited and ctrl+s pressed: the save confirmation (diff and TTL choice) is up."""
    await in_editor(pilot, "agent:planner")
    await pilot.press("e")
    pilot.app.screen.query_one("#value-edit").text = '{"name": "planner", "status": "paused"}'
    await pilot.press("ctrl+s")
    await pilot.pause(0.2)


def test_confirm_save_with_diff_and_ttl_choice(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=at_save_confirmation)


def test_etag_conflict(snap_compare):
    async def run_before(pilot):
        pilot.app.recorded.conflict_on_save = True
        await at_save_confirmation(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_production_context_without_allow_writes(snap_compare):
    assert snap_compare(make_app(production=False), terminal_size=SIZE, run_before=at_partition)


def test_production_context_asks_for_its_name_before_a_save(snap_compare):
    async def run_before(pilot):
        await at_save_confirmation(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        await pilot.press(*"prod", "enter")
        await pilot.pause(0.2)

    assert snap_compare(make_app(production=True), terminal_size=SIZE, run_before=run_before)


def test_doctor_findings(snap_compare):
    async def run_before(pilot):
        await at_partition(pilot, "statestore-cache-cosmos", "user")
        pilot.app.browser.query_one(StoreList).focus()
        await pilot.press("f")
        await pilot.pause(0.2)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare):
    async def run_before(pilot):
        await at_partition(pilot)
        await pilot.press("question_mark")
        await pilot.pause(0.2)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("theme", ["textual-light"])
def test_key_editor_light_theme(snap_compare, theme):
    async def run_before(pilot):
        await in_editor(pilot, "agent:planner")

    assert snap_compare(make_app(theme=theme), terminal_size=SIZE, run_before=run_before)


# -- workflows and actors (daprd's recorded workflow documents) ---------------------------------

WORKFLOWS_STORE = "statestore-workflows-cosmos"
APPROVAL = "order-processor||dapr.internal.default.order-processor.workflow||rec-approval"


async def in_workflows(pilot) -> None:
    from explorer.tui.screens.workflows.instances import Workflows

    await at_partition(pilot, WORKFLOWS_STORE, "order-processor||CartActor||cart-42")
    await pilot.press("w")
    await until(pilot, lambda: isinstance(pilot.app.screen, Workflows) and pilot.app.screen.exhausted
                and not pilot.app.screen.reading, "every instance")


async def in_timeline(pilot, instance: str, event: int) -> None:
    from explorer.tui.screens.workflows.timeline import Timeline

    await in_workflows(pilot)
    workflows = pilot.app.screen
    await pilot.press("slash", *instance, "enter")
    while workflows.current.instance_id != instance:
        await pilot.press("down")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, Timeline) and pilot.app.screen.summary is not None
                and pilot.app.screen.table.row_count and pilot.app.screen.inbox_note, "the timeline")
    for _ in range(event):
        await pilot.press("down")
    timeline = pilot.app.screen
    await until(pilot, lambda: (timeline.detail_for or "").endswith(f"history-{event:06d}"), "the event's detail")


def test_workflows_list(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=in_workflows)


def test_timeline_with_a_failure(snap_compare):
    async def run_before(pilot):
        await in_timeline(pilot, "rec-failed", 4)  # TaskFailed: the activity's error and stack trace

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_partitions_and_keys_decoded_at_80_columns(snap_compare):
    async def run_before(pilot):
        await at_partition(pilot, WORKFLOWS_STORE, APPROVAL)
        browser = pilot.app.browser
        await until(pilot, lambda: browser.keys.label(browser.keys.entries[3]).startswith("history-000002 · "),
                    "the keys' labels")
        browser.partitions.options.focus()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_actors_view(snap_compare):
    async def run_before(pilot):
        from explorer.tui.screens.actors import Actors

        await at_partition(pilot, WORKFLOWS_STORE, "order-processor||CartActor||cart-42")
        await pilot.press("a")
        await until(pilot, lambda: isinstance(pilot.app.screen, Actors) and len(pilot.app.screen.actors) == 3,
                    "the actors")
        actors = pilot.app.screen
        await pilot.press("down", "space")  # CartActor › cart-42, expanded
        await until(pilot, lambda: any(n.data is not None and type(n.data).__name__ == "KeyNode"
                                       for n in actors.actor_tree.cursor_node.children), "its keys")
        await pilot.press("down")
        await until(pilot, lambda: actors.shown_key is not None, "the value")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_insight_view(snap_compare):
    """i on the workflow store: its partitions by keys, the largest as bars, the expiry histogram."""
    async def run_before(pilot):
        from explorer.tui.screens.stats import StatsView

        await at_partition(pilot, WORKFLOWS_STORE, "order-processor||CartActor||cart-42")
        await pilot.press("i")
        await until(pilot, lambda: isinstance(pilot.app.screen, StatsView) and not pilot.app.screen.running
                    and pilot.app.screen.shown, "every partition's figures")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


# -- dapr-agents (its recorded documents) ------------------------------------------------------

async def in_teams(pilot, agent: str = "Trip Planner") -> None:
    from explorer.tui.screens.agents.teams import Teams

    await at_partition(pilot)  # statestore-agents-cosmos: the registry store
    await pilot.press("t")
    await until(pilot, lambda: isinstance(pilot.app.screen, Teams) and not pilot.app.screen.reading, "the teams")
    teams = pilot.app.screen
    while teams.current.agent is None or teams.current.agent.name != agent:
        await pilot.press("down")
    await until(pilot, lambda: teams.detail_for == ("travel-desk", agent), "the agent's detail")


async def in_run(pilot, agent: str, run: str, part: str = "c", role: str | None = None) -> None:
    from explorer.tui.screens.agents.run_view import AgentRunView
    from explorer.tui.screens.agents.runs import AgentRuns

    await in_teams(pilot, agent)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, AgentRuns) and pilot.app.screen.exhausted, "the runs")
    runs = pilot.app.screen
    while runs.current.summary.instance_id != run:
        await pilot.press("down")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, AgentRunView) and pilot.app.screen.view is not None,
                "the run, its memory and workflow instance")
    view = pilot.app.screen
    await pilot.press(part)
    messages = view.parts[view.part].messages
    if role is not None:
        while messages[view.table.current].role != role:
            await pilot.press("down")
    await until(pilot, lambda: view.detail_for == (view.part, view.table.current), "the message's detail")


def test_agent_teams(snap_compare):
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=in_teams)


def test_agent_run_with_a_tool_that_failed(snap_compare):
    async def run_before(pilot):
        await in_run(pilot, "Weather Bot", "weather-0002", role="tool")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_agent_run_waiting_for_an_approval(snap_compare):
    async def run_before(pilot):
        await in_run(pilot, "Trip Planner", "trip-0002")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_agent_run_memory(snap_compare):
    async def run_before(pilot):
        await in_run(pilot, "Weather Bot", "weather-0001", part="m")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)
