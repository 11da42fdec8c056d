"""A screen's failed worker (exit_on_error=False) reaches its `<worker>_failed` method, or a
notification when it has none, and the app keeps running. No I/O: the workers raise on purpose."""

from __future__ import annotations

from textual import work
from textual.app import App
from textual.screen import Screen

from explorer.tui.failed_workers import ShowsFailedWorkers


async def settled(pilot, done) -> None:
    for _ in range(100):
        if done():
            return
        await pilot.pause(0.01)


class Failing(ShowsFailedWorkers, Screen):
    def __init__(self) -> None:
        super().__init__()
        self.failures: list[str] = []

    @work(exit_on_error=False)
    async def read(self) -> None:
        raise ValueError("the store said no")

    def read_failed(self, error: BaseException) -> None:
        self.failures.append(str(error))

    @work(exit_on_error=False)
    async def unhandled(self) -> None:
        raise ValueError("nobody shows this one")


async def test_a_failed_worker_calls_its_screens_failed_method_and_the_app_runs_on():
    app = App()
    async with app.run_test() as pilot:
        screen = Failing()
        await app.push_screen(screen)
        screen.read()
        await settled(pilot, lambda: screen.failures)
        assert screen.failures == ["the store said no"]
        assert app.is_running and app.screen is screen


async def test_a_failed_worker_without_a_failed_method_is_a_notification():
    app = App()
    async with app.run_test() as pilot:
        screen = Failing()
        await app.push_screen(screen)
        screen.unhandled()
        await settled(pilot, lambda: app._notifications)
        assert any("nobody shows this one" in n.message for n in app._notifications)
        assert screen.failures == [] and app.is_running
