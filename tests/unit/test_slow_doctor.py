"""A slow doctor must not move the user: badges arriving while a partition is open leave the
store, the partition and the keys as they are.

Uses the FAKE recorded session of tests/snapshots (no I/O) with a deliberately slow doctor; it
tests the screen's own logic. Browsing itself is tested on the real stack in
tests/integration/test_tui.py.
"""

from __future__ import annotations

import asyncio
import time

from explorer.tui.widgets.store_list import StoreList
from tests.snapshots.recorded_session import RecordedSession
from tests.snapshots.test_snapshots import make_app


async def test_badges_arriving_late_do_not_reopen_or_reset_the_open_store():
    app = make_app()
    session: RecordedSession = app.recorded
    fast_findings = session.findings

    async def slow_findings(store: str):
        await asyncio.sleep(0.3)
        return await fast_findings(store)

    session.findings = slow_findings
    opened: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        deadline = time.monotonic() + 10
        while (app.browser is None or app.session is None) and time.monotonic() < deadline:
            await pilot.pause(0.02)
        browser = app.browser
        original_open_store = browser.open_store

        def counting_open_store(store: str) -> None:
            opened.append(store)
            original_open_store(store)

        browser.open_store = counting_open_store
        stores = browser.query_one(StoreList)
        stores.focus()
        await pilot.press("down")  # to the cache store, while the doctor is still checking
        while not (browser.store == "statestore-cache-cosmos" and "user" in browser.partitions.partitions):
            await pilot.pause(0.02)
        browser.partitions.select("user")
        browser.open_partition("user")
        while not browser.keys.entries:
            await pilot.pause(0.02)
        keys_before = [e.doc_id for e in browser.keys.entries]
        while len(browser.findings) < 3:  # every badge arrives while the partition is open
            await pilot.pause(0.05)
        await pilot.pause(0.3)
        assert browser.store == "statestore-cache-cosmos" and stores.current_store == "statestore-cache-cosmos"
        assert browser.partition == "user"
        assert [e.doc_id for e in browser.keys.entries] == keys_before
        assert opened == ["statestore-cache-cosmos"], opened  # opened once, by the user's keypress
