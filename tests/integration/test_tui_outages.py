"""The explorer never freezes: a sidecar or the Cosmos account goes away and comes back.

Real outages on the real stack — the agent-registry daprd and the Cosmos-compatible
server are stopped and started again on the same ports (LocalStack.restart_sidecar,
LocalStack.restart_server); nothing is mocked. What a user would notice is checked:
what the panes and the editor say, that keys and stores keep moving, that the app is
still running, and in Cosmos itself that a refused save changed nothing and a save
after the comeback did — all without restarting the app.

`stack` and `cosmos` are test_tui's fixtures, imported: module-scoped, so this module
gets a stack of its own (its tests stop processes and re-seed).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE, CACHE_STORE, WORKFLOWS_STORE, seed
from explorer.tui.screens.browser import Browser
from explorer.tui.widgets.store_list import StoreList
from tests.integration.test_tui import (  # noqa: F401 - stack and cosmos are fixtures
    AGENTS, WRITES, browse_to, cosmos, footer, item, make_app, open_key, open_key_failing, palette,
    save_through_dialog, shown, stack, still_running, text, until,
)

pytestmark = pytest.mark.integration


async def clear_filter(pilot) -> None:
    """Esc in the partition list, as a user does before typing a new filter."""
    pilot.app.browser.partitions.options.focus()
    await pilot.press("escape")


async def choose_partition(pilot, partition: str) -> None:
    await clear_filter(pilot)
    await pilot.press("slash", *partition, "enter")


async def browse_again(pilot, store: str, partition: str) -> Browser:
    """browse_to from wherever the browser is: filter cleared, store list from the top."""
    await clear_filter(pilot)
    pilot.app.browser.query_one(StoreList).focus()
    await pilot.press(*["up"] * 5)
    return await browse_to(pilot, store, partition)


# -- a sidecar hangs -------------------------------------------------------------------------------


async def test_a_hung_sidecar_does_not_hold_the_key_back(stack, cosmos):
    """daprd stopped with SIGSTOP (its port still accepts, nothing answers): the key shows from
    Cosmos at once and "read via" says Dapr is being asked; when daprd resumes, Dapr's verdict
    fills in. Before, the editor waited for the sidecar's 20 s deadline."""
    doc_id = f"{AGENTS_APP}||agent:planner"
    before = item(cosmos, AGENTS, doc_id, "gpt4")
    daprd = stack.sidecars[AGENTS_APP].process.process.pid
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, AGENTS_STORE, "gpt4")
        os.kill(daprd, signal.SIGSTOP)
        try:
            started = time.monotonic()
            editor = await open_key(pilot, "agent:planner", verdict=False)
            assert time.monotonic() - started < 10
            assert editor.opened.key.etag == before["_etag"]
            assert '"planner"' in shown(editor.query_one("#value"))
            assert "asking Dapr (agent-registry)" in shown(editor.query_one("#envelope"))
            await pilot.pause(0.5)
            assert not editor.opened.dapr_checked  # still asking: daprd cannot answer
        finally:
            os.kill(daprd, signal.SIGCONT)
        await until(pilot, lambda: editor.opened.dapr_checked, "Dapr's verdict after daprd resumed", timeout=30)
        assert editor.opened.read_through == "Dapr (agent-registry)", editor.opened
        assert not editor.opened.warnings
        assert "Dapr (agent-registry)" in shown(editor.query_one("#envelope"))


# -- a sidecar goes away --------------------------------------------------------------------------


async def test_sidecar_outage_reads_from_cosmos_refuses_saves_plainly_and_recovers_without_restart(stack, cosmos):
    doc_id = f"{AGENTS_APP}||agent:router"
    before = item(cosmos, AGENTS, doc_id, "gpt4")
    grpc_address = stack.sidecars[AGENTS_APP].grpc_address
    app = make_app(stack)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await browse_to(pilot, AGENTS_STORE, "gpt4")
            stack.stop_sidecar(AGENTS_APP)

            # The key still opens, read from Cosmos, and the editor says why not through Dapr.
            editor = await open_key(pilot, "agent:router")
            assert editor.opened.read_through.startswith("Cosmos"), editor.opened.read_through
            assert editor.opened.key.etag == before["_etag"]
            assert '"router"' in shown(editor.query_one("#value"))
            warning = text(editor, "#editor-message")
            assert "Dapr could not read it" in warning and "no Dapr sidecar answers" in warning, warning

            # A save is refused with a plain message; nothing reaches Cosmos.
            await pilot.press("e")
            editor.query_one("#value-edit").text = '{"name": "router", "offline": true}'
            await save_through_dialog(pilot)
            await until(pilot, lambda: "nothing was saved" in text(editor, "#editor-message"), "the refused save")
            refused = text(editor, "#editor-message")
            assert "no Dapr sidecar answers" in refused, refused
            assert editor.saved_etags == [] and still_running(app)
            assert item(cosmos, AGENTS, doc_id, "gpt4")["_etag"] == before["_etag"]
            await pilot.press("escape", "escape")  # cancel the edit, back to the browser
            await until(pilot, lambda: isinstance(app.screen, Browser), "the browser")

            # r in the browser: the status line names the sidecar that does not answer.
            browser = app.browser
            await pilot.press("r")
            await until(pilot, lambda: f"sidecar not reachable: {grpc_address}" in text(browser, "#status"),
                        "the status line to name the missing sidecar")

            # The other stores keep working through their own sidecars.
            await browse_again(pilot, CACHE_STORE, "llm")
            cached = await open_key(pilot, "session:llm:1001")
            assert cached.opened.read_through == "Dapr (chat-api)"
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, Browser), "the browser")

            # Still down: the agents key opens from Cosmos again.
            await browse_again(pilot, AGENTS_STORE, "gpt4")
            editor = await open_key(pilot, "agent:router")
            assert editor.opened.read_through.startswith("Cosmos")

            # The same daprd comes back on the same gRPC port; r in the editor reads through Dapr again.
            assert stack.restart_sidecar(AGENTS_APP).grpc_address == grpc_address
            await pilot.press("r")
            await until(pilot, lambda: editor.opened.read_through == f"Dapr ({AGENTS_APP})",
                        "the reload to read through Dapr")
            assert "Dapr could not read it" not in text(editor, "#editor-message")

            # And a save goes through: a new etag in Cosmos.
            await pilot.press("e")
            editor.query_one("#value-edit").text = '{"name": "router", "back": true}'
            await save_through_dialog(pilot)
            await until(pilot, lambda: editor.saved_etags, "the save")
            after = item(cosmos, AGENTS, doc_id, "gpt4")
            assert after["value"] == {"name": "router", "back": True}
            assert after["_etag"] == editor.saved_etags[-1] != before["_etag"]

            # Back in the browser (and after r): no sidecar is reported missing any more.
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, Browser), "the browser")
            await pilot.press("r")
            await until(pilot, lambda: "not reachable" not in text(browser, "#status"), "the status line to clear")
            assert still_running(app)
    finally:
        if not stack.sidecars[AGENTS_APP].process.alive():
            stack.restart_sidecar(AGENTS_APP)


# -- Cosmos goes away -------------------------------------------------------------------------------


async def test_cosmos_outage_panes_say_so_the_app_keeps_moving_and_r_brings_partitions_back(stack):
    cosmos_address = stack.cosmos.url.removeprefix("https://").rstrip("/")
    app = make_app(stack)
    restarted = False
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            browser = await browse_to(pilot, AGENTS_STORE, "gpt4")
            await asyncio.to_thread(stack.stop_server)  # SIGTERM, then SIGKILL after 5 s

            # Opening a key that is still listed: the editor says it cannot be read, and esc goes back.
            editor = await open_key_failing(pilot, "agent:planner")
            # the message box grows to fit on the next layout pass: read it once the hint is drawn
            await until(pilot, lambda: "r to retry" in text(editor, "#editor-message"),
                        "the retry hint (Cosmos not answering: asking again can help)")
            message = text(editor, "#editor-message")
            assert "could not read the key" in message and "Cosmos DB not reachable" in message, message
            # No key is shown, so nothing offers to write one: not the footer, not the palette.
            await until(pilot, lambda: not WRITES & footer(editor), "the footer without edit, delete, save")
            assert not WRITES & palette(app)
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, Browser), "the browser")

            # Choosing a partition: the keys pane says what failed, where, and that r retries.
            await choose_partition(pilot, "claude")
            await until(pilot, lambda: "r retries" in text(browser, "#keys-message"), "the keys pane to say so")
            message = text(browser, "#keys-message")
            assert "Cosmos DB not reachable" in message and "listing keys failed" in message, message
            assert cosmos_address in message and "object at 0x" not in message, message
            assert browser.keys.entries == []
            await until(pilot, lambda: not WRITES & footer(browser), "the footer without edit and delete")
            assert not WRITES & palette(app)

            # Choosing another store: its partitions cannot be listed, and the browser says so.
            stores = browser.query_one(StoreList)
            stores.focus()
            await pilot.press("down")
            await until(pilot, lambda: browser.store == CACHE_STORE, "the cache store to be chosen")
            await until(pilot, lambda: f"partitions of {CACHE_STORE}" in text(browser, "#keys-message"),
                        "the reason, where there is room for it")
            message = text(browser, "#keys-message")
            assert "Cosmos DB not reachable" in message and cosmos_address in message and "r retries" in message
            assert "✖ failed — see →" in text(browser, "#partition-progress")  # the pane is 18 columns wide
            assert browser.partitions.partitions == []

            # The store list still moves and every store answers with the same plain failure.
            await pilot.press("down")
            await until(pilot, lambda: f"partitions of {WORKFLOWS_STORE}" in text(browser, "#keys-message"),
                        "the workflows store to say so")
            await pilot.press("up")
            await until(pilot, lambda: f"partitions of {CACHE_STORE}" in text(browser, "#keys-message"),
                        "back to the cache store")
            assert still_running(app)

            # Cosmos comes back on the same port (empty: provisioned and seeded again); r brings it back.
            stack.restart_server()
            restarted = True
            await seed(stack)
            await pilot.press("r")
            await until(pilot, lambda: set(browser.partitions.partitions) == {"user", "llm", "temp"},
                        "the cache store's partitions to come back")
            await until(pilot, lambda: "✖" not in text(browser, "#partition-progress"), "the pane to clear")
            assert not browser.query_one("#keys-message").display
            await choose_partition(pilot, "llm")
            await until(pilot, lambda: browser.partition == "llm" and browser.keys.entries, "the keys of llm")
            # A key is shown again: edit and delete are back.
            await until(pilot, lambda: {"Edit", "Delete"} <= footer(browser), "edit and delete in the footer")
            assert {"Edit", "Delete"} <= palette(app)
            assert still_running(app)
    finally:
        if not restarted:
            stack.restart_server()
            await seed(stack)
