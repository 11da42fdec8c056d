"""The explorer's screens driven by Textual's Pilot against the real local stack.

Every flow a user has: browse to a key, edit and save (TTL kept or restarted),
invalid JSON, a concurrent writer forcing an etag conflict (reload and
overwrite), delete, a binary value, actor and workflow keys, go to, filter, and
a read-only session that presses every binding and changes nothing. Each test
checks the outcome in Cosmos itself (etag, value, ttl, item count), not just
what the screen says.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time

import orjson
import pytest

from explorer.app import ExplorerApp
from explorer.components import load_components
from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE, CACHE_STORE, WORKFLOWS_STORE
from explorer.sidecar import SidecarClient, StateWrite
from explorer.widgets.browser import Browser
from explorer.widgets.dialogs import ConfirmDelete, ConfirmSave, EtagConflict
from explorer.widgets.key_editor import KeyEditor
from explorer.widgets.store_list import StoreList

from .conftest import container

pytestmark = pytest.mark.integration

AGENTS = ("dapr-agents", "agent-registry")
CACHE = ("dapr-cache", "session-cache")
WORKFLOWS = ("dapr-workflows", "workflow-state")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own: these tests edit and delete seeded keys."""
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import seed

    with LocalStack(run_dir=tmp_path_factory.mktemp("tui-stack")) as local:
        asyncio.run(seed(local))
        saved = dict(os.environ)
        os.environ.update(local.client_env())  # the component files resolve COSMOS_URL etc. from here
        try:
            yield local
        finally:
            os.environ.clear()
            os.environ.update(saved)


@pytest.fixture(scope="module")
def cosmos(stack):
    return stack.cosmos_client()


def make_app(stack, read_only: bool = False) -> ExplorerApp:
    paths = [stack.resources_path]
    addresses = [s.grpc_address for s in stack.sidecars.values()]
    return ExplorerApp(load_components(paths), paths, addresses, read_only=read_only)


async def until(pilot, condition, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


async def browse_to(pilot, store: str, partition: str) -> Browser:
    """As a user would: arrow to the store, filter the partitions, enter."""
    app = pilot.app
    browser = app.browser
    await until(pilot, lambda: app.session is not None, "the session to open")
    stores = browser.query_one(StoreList)
    stores.focus()
    for _ in range(10):
        if stores.current_store == store:
            break
        await pilot.press("down")
    assert stores.current_store == store
    await until(pilot, lambda: browser.store == store and browser.location is not None, f"{store} to open")
    await until(pilot, lambda: partition in browser.partitions.partitions, f"partition {partition} to stream in")
    await pilot.press("slash")
    await pilot.press(*partition)
    await pilot.press("enter")
    await until(pilot, lambda: browser.partition == partition and browser.keys.entries, f"keys of {partition}")
    return browser


async def open_key(pilot, key: str, verdict: bool = True) -> KeyEditor:
    """Enter on `key`; the editor once it shows the key and (`verdict`) Dapr's read of it is in."""
    browser = pilot.app.browser
    table = browser.keys
    table.focus()
    keys = [e.state_key.key for e in table.entries]
    assert key in keys, keys
    for _ in range(keys.index(key)):
        await pilot.press("down")
    assert table.current.state_key.key == key
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, KeyEditor) and pilot.app.screen.opened is not None,
                f"the editor on {key}")
    editor = pilot.app.screen
    if verdict:
        await until(pilot, lambda: editor.opened.dapr_app is None or editor.opened.dapr_checked, f"Dapr's read of {key}")
    return editor


def shown(widget) -> str:
    """The text a widget draws, as the user sees it."""
    from textual.geometry import Region

    return "\n".join(line.text for line in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)))


def item(cosmos, where, doc_id: str, partition: str) -> dict:
    return container(cosmos, *where).read_item(doc_id, partition_key=partition)


def items_with_id(cosmos, where, doc_id: str) -> list[dict]:
    return list(container(cosmos, *where).query_items(
        "SELECT * FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": doc_id}],
        enable_cross_partition_query=True))


def all_etags(cosmos) -> dict[tuple[str, str], str]:
    etags = {}
    for where in (AGENTS, CACHE, WORKFLOWS):
        for doc in container(cosmos, *where).query_items("SELECT c.id, c.partitionKey, c._etag FROM c",
                                                          enable_cross_partition_query=True):
            etags[(where[1], doc["id"])] = doc["_etag"]
    return etags


async def save_through_dialog(pilot, ttl_button: str | None = None) -> None:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmSave), "the save confirmation")
    if ttl_button:
        await pilot.click(f"#{ttl_button}")
    await pilot.press("ctrl+s")


# -- browsing ---------------------------------------------------------------------------------


async def test_browse_to_a_key_shows_value_etag_and_live_countdown(stack, cosmos):
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        browser = await browse_to(pilot, CACHE_STORE, "temp")
        entry = next(e for e in browser.keys.entries if e.state_key.key == "session:temp:1008")
        first = browser.keys.ttl_text(entry.doc_id)
        assert first.startswith("expires in "), first
        await until(pilot, lambda: browser.keys.ttl_text(entry.doc_id) != first, "the countdown to tick")
        assert browser.keys.ttl_text(entry.doc_id).startswith("expires in ")
        editor = await open_key(pilot, "session:temp:1008")
        doc = item(cosmos, CACHE, entry.doc_id, "temp")
        assert editor.opened.key.etag == doc["_etag"]
        assert editor.opened.read_through.startswith("Dapr")
        assert "lastPrompt" in shown(editor.query_one("#value"))
        assert editor.countdown().startswith("expires in ")


async def test_filter_and_go_to_id(stack):
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        browser = await browse_to(pilot, AGENTS_STORE, "gpt4")
        await pilot.press("slash", "backspace", "backspace", "backspace", "backspace", "c", "l")
        assert browser.partitions.shown == ["claude"]
        await pilot.press("escape")
        await pilot.press("g")
        await pilot.click("#goto-id")
        await pilot.click("#goto-text")
        await pilot.press(*"agent:researcher", "enter")
        await until(pilot, lambda: isinstance(app.screen, KeyEditor) and app.screen.opened is not None, "go to id")
        assert app.screen.opened.key.state_key.key == "agent:researcher"
        assert app.screen.opened.key.partition_key == "claude"


# -- editing ----------------------------------------------------------------------------------


async def test_edit_and_save_keeps_the_expiry_instant_and_shows_the_new_etag(stack, cosmos):
    doc_id = "chat-api||session:llm:1004"
    before = item(cosmos, CACHE, doc_id, "llm")
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, CACHE_STORE, "llm")
        editor = await open_key(pilot, "session:llm:1004")
        await pilot.press("e")
        editor.query_one("#value-edit").text = '{"sessionType": "llm", "turns": 99}'
        await save_through_dialog(pilot)  # default: keep the current expiry instant
        await until(pilot, lambda: editor.saved_etags, "the save")
        after = item(cosmos, CACHE, doc_id, "llm")
        assert after["value"] == {"sessionType": "llm", "turns": 99}
        assert after["_etag"] == editor.saved_etags[-1] == editor.opened.key.etag != before["_etag"]
        assert abs((after["_ts"] + after["ttl"]) - (before["_ts"] + before["ttl"])) <= 2  # same instant
        assert len(items_with_id(cosmos, CACHE, doc_id)) == 1


async def test_save_with_restarted_ttl(stack, cosmos):
    doc_id = "chat-api||session:temp:1005"
    before = item(cosmos, CACHE, doc_id, "temp")
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, CACHE_STORE, "temp")
        editor = await open_key(pilot, "session:temp:1005")
        await pilot.press("e")
        editor.query_one("#value-edit").text = '{"restarted": true}'
        await save_through_dialog(pilot, "ttl-restart")
        await until(pilot, lambda: editor.saved_etags, "the save")
        after = item(cosmos, CACHE, doc_id, "temp")
        assert after["ttl"] == before["ttl"] == 600
        assert after["_ts"] >= before["_ts"]
        assert editor.countdown() in {"expires in 10m 00s", "expires in 9m 59s", "expires in 9m 58s"}


async def test_invalid_json_says_where_and_sends_nothing(stack, cosmos):
    doc_id = f"{AGENTS_APP}||agent:summarizer"
    before = item(cosmos, AGENTS, doc_id, "gpt4")
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, AGENTS_STORE, "gpt4")
        editor = await open_key(pilot, "agent:summarizer")
        await pilot.press("e")
        editor.query_one("#value-edit").text = '{\n  "name": "summarizer",,\n}'
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmSave)
        message = " ".join(shown(editor.query_one("#editor-message")).split())
        assert "not valid JSON" in message and "line 2, column 24" in message and "nothing was sent" in message
        assert editor.query_one("#value-edit").cursor_location == (1, 23)  # on the second comma
    assert item(cosmos, AGENTS, doc_id, "gpt4")["_etag"] == before["_etag"]


async def _edit_then_conflict(pilot, stack, theirs: bytes) -> KeyEditor:
    await browse_to(pilot, AGENTS_STORE, "claude")
    editor = await open_key(pilot, "agent:reviewer")
    await pilot.press("e")
    editor.query_one("#value-edit").text = '{"mine": true}'
    # A concurrent writer: the app itself, through its own sidecar, after we opened the key.
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as other:
        await other.save(AGENTS_STORE, [StateWrite("agent:reviewer", theirs, metadata={"partitionKey": "claude"})])
    await save_through_dialog(pilot)
    await until(pilot, lambda: isinstance(pilot.app.screen, EtagConflict), "the conflict dialog")
    return editor


async def test_etag_conflict_shows_theirs_and_reload_keeps_theirs(stack, cosmos):
    doc_id = f"{AGENTS_APP}||agent:reviewer"
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await _edit_then_conflict(pilot, stack, b'{"theirs":1}')
        assert "theirs" in shown(app.screen.query_one("#conflict-theirs"))
        assert item(cosmos, AGENTS, doc_id, "claude")["value"] == {"theirs": 1}  # nothing of ours was written
        await pilot.press("r")
        await until(pilot, lambda: not editor.editing and editor.opened.key.document.get("value") == {"theirs": 1},
                    "the reload")
    assert item(cosmos, AGENTS, doc_id, "claude")["value"] == {"theirs": 1}


async def test_etag_conflict_overwrite_is_an_explicit_choice(stack, cosmos):
    doc_id = f"{AGENTS_APP}||agent:reviewer"
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await _edit_then_conflict(pilot, stack, b'{"theirs":2}')
        await pilot.press("o")
        await until(pilot, lambda: editor.saved_etags, "the overwrite")
    after = item(cosmos, AGENTS, doc_id, "claude")
    assert after["value"] == {"mine": True} and after["_etag"] == editor.saved_etags[-1]
    assert len(items_with_id(cosmos, AGENTS, doc_id)) == 1


async def test_delete_asks_then_deletes_through_dapr(stack, cosmos):
    doc_id = "chat-api||session:user:1000"
    assert item(cosmos, CACHE, doc_id, "user")
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, CACHE_STORE, "user")
        await open_key(pilot, "session:user:1000")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "the delete confirmation")
        await pilot.press("n")
        assert isinstance(app.screen, KeyEditor)
        assert item(cosmos, CACHE, doc_id, "user")  # "no" deleted nothing
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmDelete), "the delete confirmation")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, Browser), "back to the browser")
    assert items_with_id(cosmos, CACHE, doc_id) == []


async def test_binary_value_shows_hex_and_stays_binary_when_saved(stack, cosmos):
    doc_id = f"{AGENTS_APP}||agent:ocr-worker:avatar"
    new_bytes = bytes([0xFF, 0x00, 0x80, 0x7F]) * 4
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, AGENTS_STORE, "custom")
        editor = await open_key(pilot, "agent:ocr-worker:avatar")
        value = shown(editor.query_one("#value"))
        assert "89 50 4e 47" in value and "24 B" in value and "base64" in value
        await pilot.press("e")
        editor.query_one("#value-edit").text = base64.b64encode(new_bytes).decode()
        await save_through_dialog(pilot)
        await until(pilot, lambda: editor.saved_etags, "the save")
    after = item(cosmos, AGENTS, doc_id, "custom")
    assert after["isBinary"] is True and base64.b64decode(after["value"]) == new_bytes


@pytest.mark.parametrize(("partition", "key", "reason"), [
    ("order-processor||CartActor||cart-42", "CartActor||cart-42||items", "actor state"),
    ("order-processor||dapr.internal.default.order-processor.workflow||order-wf-1001",
     "dapr.internal.default.order-processor.workflow||order-wf-1001||metadata", "workflow state"),
])
async def test_actor_and_workflow_state_open_read_only_with_the_reason(stack, cosmos, partition, key, reason):
    doc_id = f"order-processor||{key}"
    before = item(cosmos, WORKFLOWS, doc_id, partition)["_etag"]
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, WORKFLOWS_STORE, partition)
        editor = await open_key(pilot, key)
        assert f"read-only: {reason}" in shown(editor.query_one("#editor-message"))
        await pilot.press("e", "d")
        await pilot.pause(0.2)
        assert not editor.editing and isinstance(app.screen, KeyEditor)
        assert not editor.query_one("#value-edit").display
    assert item(cosmos, WORKFLOWS, doc_id, partition)["_etag"] == before


# -- read-only ----------------------------------------------------------------------------------


async def test_read_only_session_presses_every_binding_and_changes_nothing(stack, cosmos):
    before = all_etags(cosmos)
    app = make_app(stack, read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        browser = await browse_to(pilot, AGENTS_STORE, "gpt4")
        assert "READ-ONLY" in shown(browser.query_one(".banner"))
        assert not {"edit", "delete"} & {b.binding.action for b in browser.active_bindings.values() if b.enabled}
        browser.keys.focus()
        for keys in (["e"], ["d"], ["y", "escape"], ["f", "escape"], ["question_mark", "escape"],
                     ["g", "escape"], ["r"], ["slash", "escape"]):
            await pilot.press(*keys)
            await pilot.pause(0.1)
            assert isinstance(app.screen, Browser), keys
        await until(pilot, lambda: browser.keys.entries, "keys after refresh")
        editor = await open_key(pilot, "agent:planner")
        assert "READ-ONLY" in shown(editor.query_one(".banner"))
        for keys in (["e"], ["d"], ["ctrl+s"], ["x", "z"], ["r"], ["y", "escape"], ["question_mark", "escape"]):
            await pilot.press(*keys)
            await pilot.pause(0.1)
            assert isinstance(app.screen, KeyEditor) and not editor.editing, keys
        assert not editor.query_one("#value-edit").display
        await pilot.press("escape")
    assert all_etags(cosmos) == before


async def test_save_for_an_app_with_no_sidecar_starts_our_own_daprd(stack, cosmos):
    """The agent-registry sidecar is not given to the app: the save starts a daprd of our own for it."""
    doc_id = f"{AGENTS_APP}||agent:router"
    before = item(cosmos, AGENTS, doc_id, "gpt4")
    paths = [stack.resources_path]
    others = [s.grpc_address for app_id, s in stack.sidecars.items() if app_id != AGENTS_APP]
    app = ExplorerApp(load_components(paths), paths, others)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, AGENTS_STORE, "gpt4")
        editor = await open_key(pilot, "agent:router")
        assert editor.opened.read_through.startswith("Cosmos")
        await pilot.press("e")
        editor.query_one("#value-edit").text = '{"name": "router", "via": "own daprd"}'
        await save_through_dialog(pilot)
        await until(pilot, lambda: editor.saved_etags, "the save through our own daprd")
        assert any("started daprd for app-id agent-registry" in str(n.message) for n in app._notifications)
    after = item(cosmos, AGENTS, doc_id, "gpt4")
    assert after["value"] == {"name": "router", "via": "own daprd"} and after["_etag"] != before["_etag"]
    assert len(items_with_id(cosmos, AGENTS, doc_id)) == 1


async def test_scrolling_a_big_partition_holds_a_window_and_scrolls_back(stack, cosmos):
    """1,500 keys in one partition: scrolling to the end holds at most 10 pages; scrolling back
    to the top fetches the earlier pages again, in order."""
    from explorer.widgets.browser import KEY_PAGE, WINDOW_PAGES

    async with SidecarClient(stack.sidecars["chat-api"].grpc_address) as client:
        for start in range(0, 1500, 250):
            await client.save(CACHE_STORE, [
                StateWrite(f"bulk:{n:05d}", orjson.dumps({"n": n}), metadata={"partitionKey": "bulk"})
                for n in range(start, start + 250)])
    app = make_app(stack)
    async with app.run_test(size=(100, 30)) as pilot:
        browser = await browse_to(pilot, CACHE_STORE, "bulk")
        table = browser.keys
        table.focus()
        while not browser.window.at_end:
            await pilot.press("ctrl+end")
            await until(pilot, lambda: not browser.window.pending, "the next page")
        keys = [e.state_key.key for e in table.entries]
        assert len(keys) == len(set(keys)) == WINDOW_PAGES * KEY_PAGE  # 1,000 of the 1,500 held
        await pilot.press("ctrl+end")
        assert table.current.state_key.key == keys[-1]
        all_keys = set(keys)
        while not browser.window.at_start:
            await pilot.press("ctrl+home", "up")
            await until(pilot, lambda: not browser.window.pending, "the previous page")
        all_keys |= {e.state_key.key for e in table.entries}
        assert len(all_keys) == 1500  # every key was shown, none twice in the window
        assert len(table.entries) == 1000 and len({e.doc_id for e in table.entries}) == 1000
