"""The insight view's cursor while partitions arrive, with a scripted stand-in for the session (a
fake: it only hands the view figures in a set order, the view's own logic is under test). A person
who has not moved the cursor stays on the top row as the sort fills in; one who moved it down
stays on the partition they chose while rows move under it."""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from textual.app import App

from explorer.core.stats import PartitionStats
from explorer.tui.screens.stats import StatsView


def figures(partition: str, keys: int) -> PartitionStats:
    return PartitionStats(partition=partition, keys=keys, bytes=keys * 10, oldest=1, newest=2)


class ScriptedSession:
    """Fake session: yields the figures it was given, waiting for `go` between the first and the rest."""

    def __init__(self, first: list[PartitionStats], rest: list[PartitionStats]) -> None:
        self.first, self.rest, self.go = first, rest, asyncio.Event()

    async def stats(self, location, on_progress):
        for s in self.first:
            yield s
        await self.go.wait()
        for s in self.rest:
            yield s


class InsightApp(App):
    def __init__(self, session: ScriptedSession) -> None:
        super().__init__()
        self.session = session
        self.opened: list[str | None] = []

    def now(self) -> float:
        return time.time()

    def on_mount(self) -> None:
        self.push_screen(StatsView(self.session, location=SimpleNamespace(store="cache")), self.opened.append)


async def drawn(pilot, view: StatsView, count: int) -> None:
    for _ in range(100):
        if len(view.shown) == count and not view._dirty:
            return
        await pilot.pause(0.05)
    raise AssertionError(f"the view never showed {count} rows")


async def test_an_untouched_cursor_stays_on_top_as_larger_partitions_arrive():
    session = ScriptedSession([figures("small", 2)], [figures("hot", 30), figures("big", 7)])
    app = InsightApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.screen
        await drawn(pilot, view, 1)  # drawn with "small" alone, the cursor on it
        session.go.set()
        await drawn(pilot, view, 3)
        table = view.query_one("#stats-table")
        assert [s.partition for s in view.shown] == ["hot", "big", "small"]
        assert table.cursor_row == 0  # on "hot", the top by keys, not held on "small"
        await pilot.press("down", "enter")
        await pilot.pause(0.1)
        assert app.screen is not view  # dismissed with the partition under the cursor
    assert app.opened == ["big"]


async def test_a_chosen_row_keeps_its_partition_when_the_sort_moves_it():
    session = ScriptedSession([figures("hot", 30), figures("big", 7), figures("small", 2)], [])
    session.go.set()
    app = InsightApp(session)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.screen
        await drawn(pilot, view, 3)
        while view.running:
            await pilot.pause(0.05)
        table = view.query_one("#stats-table")
        await pilot.press("down", "down")  # on "small"
        assert view.shown[table.cursor_row].partition == "small"
        await pilot.press("o")  # oldest first: the order changes, the cursor follows "small"
        assert view.shown[table.cursor_row].partition == "small"
