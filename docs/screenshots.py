"""Regenerate the README's screenshots from the app itself, on the real seeded local stack.

    .venv/bin/python docs/screenshots.py      # writes docs/screenshots/*.svg

Starts the local stack (real daprd + Cosmos-compatible server), seeds it, drives
the explorer with Textual's Pilot exactly as a user would (arrow keys, filter,
enter, e, ctrl+s, w) and saves what the terminal shows. Never writes outside the
stack it starts.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explorer.tui.app import ExplorerApp  # noqa: E402
from explorer.components.files import load_components  # noqa: E402
from explorer.localstack.manager import LocalStack  # noqa: E402
from explorer.localstack.seed import seed  # noqa: E402
from explorer.tui.dialogs import ConfirmSave  # noqa: E402
from explorer.tui.screens.key_editor import KeyEditor  # noqa: E402
from explorer.tui.screens.agents.teams import Teams  # noqa: E402
from explorer.tui.widgets.store_list import StoreList  # noqa: E402
from explorer.tui.screens.workflows.timeline import Timeline  # noqa: E402
from explorer.tui.screens.workflows.instances import Workflows  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
SIZE = (100, 30)


async def until(pilot, condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"the app did not reach the expected state in time: {condition.__code__.co_firstlineno}")
        await pilot.pause(0.05)
    await pilot.pause(0.3)


async def shoot(stack: LocalStack) -> None:
    paths = [stack.resources_path]
    app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
    async with app.run_test(size=SIZE) as pilot:
        browser = app.browser
        await until(pilot, lambda: app.session is not None and len(browser.findings) == 3)
        stores = browser.query_one(StoreList)
        await pilot.press("down")
        await until(pilot, lambda: stores.current_store == "statestore-cache-cosmos" and browser.partitions.partitions)
        await pilot.press("slash", *"user", "enter")
        await until(pilot, lambda: browser.partition == "user" and len(browser.keys.entries) > 3)
        app.save_screenshot(str(OUT / "browser.svg"))
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: isinstance(app.screen, KeyEditor) and app.screen.opened is not None)
        await until(pilot, lambda: app.screen.opened.dapr_checked)  # "read via" has Dapr's verdict
        app.save_screenshot(str(OUT / "editor.svg"))
        await pilot.press("e")
        app.screen.query_one("#value-edit").text = '{"sessionType": "user", "turns": 3, "pinned": true}'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmSave))
        app.save_screenshot(str(OUT / "save.svg"))
    app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
    async with app.run_test(size=SIZE) as pilot:
        await shoot_workflows(pilot)
    app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
    async with app.run_test(size=SIZE) as pilot:
        await shoot_teams(pilot)
    app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
    async with app.run_test(size=SIZE) as pilot:
        await shoot_stats(pilot)


async def to_store(pilot, store: str):
    app = pilot.app
    browser = app.browser
    await until(pilot, lambda: app.session is not None and len(browser.findings) == 3)
    stores = browser.query_one(StoreList)
    stores.focus()
    for _ in range(10):
        if stores.current_store == store:
            break
        await pilot.press("down")
    await until(pilot, lambda: browser.store == store and browser.location is not None)
    return browser


async def shoot_teams(pilot) -> None:
    """The team view: t on the agents store (what dapr-agents registered on the stack)."""
    app = pilot.app
    await to_store(pilot, "statestore-agents-cosmos")
    await pilot.press("t")
    await until(pilot, lambda: isinstance(app.screen, Teams) and not app.screen.reading and app.screen.rows)
    await pilot.press("down")
    await pilot.pause(0.5)
    app.save_screenshot(str(OUT / "teams.svg"))


async def shoot_stats(pilot) -> None:
    """Partition insight: i on the workflow store, every partition's figures in, largest first."""
    from explorer.tui.screens.stats import StatsView

    app = pilot.app
    await to_store(pilot, "statestore-workflows-cosmos")
    await pilot.press("i")
    await until(pilot, lambda: isinstance(app.screen, StatsView) and not app.screen.running and app.screen.shown)
    app.save_screenshot(str(OUT / "stats.svg"))


async def shoot_workflows(pilot) -> None:
    """The README's walk-through: w on the workflow store, the failed order, why it failed."""
    app = pilot.app
    await to_store(pilot, "statestore-workflows-cosmos")
    await pilot.press("w")
    await until(pilot, lambda: isinstance(app.screen, Workflows) and app.screen.exhausted and not app.screen.reading)
    workflows = app.screen
    app.save_screenshot(str(OUT / "workflows.svg"))
    await pilot.press("slash", *"1002", "enter")
    await until(pilot, lambda: [row.instance_id for row in workflows.shown] == ["order-1002"])
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, Timeline) and app.screen.summary is not None
                and app.screen.table.row_count and not app.screen.view.more)
    timeline = app.screen
    failed = [n for n, row in enumerate(timeline.view.rows) if row[2] == "TaskFailed"][-1]
    timeline.table.focus()
    while timeline.table.current != failed:
        await pilot.press("down")
    await until(pilot, lambda: timeline.detail_for == timeline.view.meta[failed].doc_id)
    app.save_screenshot(str(OUT / "timeline.svg"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with LocalStack(run_dir=Path(tempfile.mkdtemp(prefix="screenshots-")), apps=True) as stack:
        asyncio.run(seed(stack))
        os.environ.update(stack.client_env())
        asyncio.run(shoot(stack))
    print("wrote", ", ".join(p.name for p in sorted(OUT.glob("*.svg"))))


if __name__ == "__main__":
    main()
