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

from explorer.app import ExplorerApp
from explorer.components import load_components
from explorer.widgets.key_editor import KeyEditor
from explorer.widgets.store_list import StoreList

from .recorded_session import NOW, RecordedSession

COMPONENTS = [Path(__file__).resolve().parents[2] / "components"]
SIZE = (80, 24)


def make_app(read_only: bool = False, theme: str | None = None) -> ExplorerApp:
    session = RecordedSession.for_paths(COMPONENTS, read_only)

    async def factory(app):
        return session

    app = ExplorerApp(load_components(COMPONENTS), COMPONENTS, read_only=read_only, clock=lambda: NOW,
                      session_factory=factory)
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


def test_confirm_save_with_diff_and_ttl_choice(snap_compare):
    async def run_before(pilot):
        await in_editor(pilot, "agent:planner")
        await pilot.press("e")
        pilot.app.screen.query_one("#value-edit").text = '{"name": "planner", "status": "paused"}'
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_etag_conflict(snap_compare):
    async def run_before(pilot):
        await in_editor(pilot, "agent:planner")
        pilot.app.recorded.conflict_on_save = True
        await pilot.press("e")
        pilot.app.screen.query_one("#value-edit").text = '{"name": "planner", "status": "paused"}'
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        await pilot.press("ctrl+s")
        await pilot.pause(0.3)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


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
