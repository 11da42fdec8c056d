"""Every action is in the command palette (ctrl+p), and a read-only session offers no write there.

Uses the FAKE recorded session of tests/snapshots (no I/O): this checks which
commands the app lists, not what they do; the actions themselves are tested
against the real stack in tests/integration/test_tui.py.
"""

from __future__ import annotations

import time

from tests.snapshots.test_snapshots import at_partition, make_app


async def _titles(read_only: bool, open_editor: bool = False) -> set[str]:
    app = make_app(read_only=read_only)
    async with app.run_test(size=(100, 30)) as pilot:
        await at_partition(pilot)
        if open_editor:
            await pilot.press("enter")
            deadline = time.monotonic() + 10
            while getattr(app.screen, "opened", None) is None and time.monotonic() < deadline:
                await pilot.pause(0.02)
        return {command.title for command in app.get_system_commands(app.screen)}


async def test_browser_actions_are_in_the_palette():
    titles = await _titles(read_only=False)
    assert {"Filter", "Go to", "Refresh", "Edit", "Delete", "Copy", "Doctor", "Help", "Quit"} <= titles


async def test_editor_actions_are_in_the_palette():
    titles = await _titles(read_only=False, open_editor=True)
    assert {"Back", "Edit", "Delete", "Reload", "Copy", "Help"} <= titles


async def test_read_only_palette_has_no_write_actions():
    for editor in (False, True):
        titles = await _titles(read_only=True, open_editor=editor)
        assert not {"Edit", "Delete", "Save"} & titles
        assert "Copy" in titles
