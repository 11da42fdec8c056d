"""The explorer's screens driven by Textual's Pilot against the real local stack.

Every flow a user has: browse to a key, edit and save (TTL kept or restarted),
invalid JSON, a concurrent writer forcing an etag conflict (reload and
overwrite), delete, a binary value, actor and workflow keys, go to, filter, and
a read-only session that presses every binding and changes nothing. Each test
checks the outcome in Cosmos itself (etag, value, ttl, item count), not just
what the screen says.
"""

from __future__ import annotations

import base64
import os
import time

import orjson
import pytest

from explorer.tui.app import ExplorerApp
from explorer.components.files import load_components
from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE, CACHE_STORE, WORKFLOWS_STORE
from explorer.dapr.sidecar import SidecarClient, StateWrite
from explorer.tui.screens.browser import Browser
from explorer.tui.dialogs import ConfirmDelete, ConfirmSave, EtagConflict
from explorer.tui.screens.key_editor import KeyEditor
from explorer.tui.widgets.store_list import StoreList

from .conftest import container, stack_env

pytestmark = pytest.mark.integration

AGENTS = ("dapr-agents", "agent-registry")
CACHE = ("dapr-cache", "session-cache")
WORKFLOWS = ("dapr-workflows", "workflow-state")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own: these tests edit and delete seeded keys."""
    from explorer.localstack.manager import LocalStack

    from .conftest import seed_for_tests

    with LocalStack(run_dir=tmp_path_factory.mktemp("tui-stack")) as local:
        seed_for_tests(local)
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


async def to_store(pilot, store: str) -> Browser:
    """As a user would: arrow down the store list to `store`; the browser once the store is open."""
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
    return browser


async def browse_to(pilot, store: str, partition: str) -> Browser:
    """As a user would: arrow to the store, filter the partitions, enter."""
    browser = await to_store(pilot, store)
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


def text(screen, selector: str) -> str:
    """What a widget shows, on one line (wrapped lines joined)."""
    return " ".join(shown(screen.query_one(selector)).split())


WRITES = {"Edit", "Delete", "Save"}


def footer(screen) -> set[str]:
    """The actions the screen's footer draws (dimmed ones too: they are offered, only not now)."""
    from textual.widgets._footer import FooterKey

    return {key.description for key in screen.query(FooterKey)}


def palette(app) -> set[str]:
    """The actions the command palette (ctrl+p) lists for the screen shown."""
    return {command.title for command in app.get_system_commands(app.screen)}


def still_running(app) -> bool:
    """No worker (or handler) raised: Textual exits the app on the first unhandled exception."""
    return app.is_running and app.return_code is None


async def open_key_failing(pilot, key: str) -> KeyEditor:
    """Enter on `key` in the key table, when the editor is expected to fail to read it."""
    table = pilot.app.browser.keys
    table.focus()
    keys = [e.state_key.key for e in table.entries]
    await pilot.press(*["up"] * len(keys), *["down"] * keys.index(key))
    assert table.current.state_key.key == key
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, KeyEditor)
                and "could not read the key" in text(pilot.app.screen, "#editor-message"), f"the editor on {key}")
    return pilot.app.screen


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
    """Not JSON, and JSON Dapr would not keep as typed: refused at its line and column, the app
    running. (A lone surrogate ended the app with UnicodeEncodeError; NaN, a number past float64,
    a key twice and deep nesting were sent, and Dapr stored something else than was typed.)"""
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
        for typed, says in [
            ('{"s": "\\ud800"}', "\\ud800 is half of a surrogate pair, with no other half: not a character (Dapr "
                                 "would store U+FFFD, the replacement character, in its place) at line 1, column 8"),
            ('{"s": "\ud800"}', "U+D800 is half of a surrogate pair"),  # pasted, not typed as an escape
            ('{\n  "n": NaN\n}', "NaN is not JSON (JSON has no NaN or Infinity; Dapr would refuse the value) "
                                 "at line 2, column 8"),
            ('{"n": 1e400}', "1e400 is too large for a number"),
            ('{"id": 12345678901234567891}', "Dapr and Cosmos DB would keep 12345678901234567000"),
            ('{"a": 1, "a": 2}', 'key "a" appears twice in one object'),
            ("[" * 300 + "]" * 300, "nested more than 127 levels deep"),
        ]:
            editor.query_one("#value-edit").text = typed
            await pilot.press("ctrl+s")
            await pilot.pause(0.1)
            assert still_running(app), typed
            assert isinstance(app.screen, KeyEditor) and editor.editing, typed
            message = text(editor, "#editor-message")
            assert says in message and "nothing was sent" in message, message
    assert item(cosmos, AGENTS, doc_id, "gpt4")["_etag"] == before["_etag"]


async def test_an_unexpected_failure_in_a_worker_is_one_line_in_the_editor_and_the_app_keeps_running(stack):
    """Asking Dapr about the key raised something nobody expected: the editor said nothing and the
    app ended. Now the key stays shown with the failure as one line where Dapr's verdict goes."""

    class Failing:
        """The real session, but its check through Dapr raises an exception of no known kind."""

        def __init__(self, real):
            self._real = real

        def __getattr__(self, name):
            return getattr(self._real, name)

        async def check_through_dapr(self, location, opened):
            raise RuntimeError("the unexpected happened\n  a traceback line the pane must not show")

    async def factory(app):
        from explorer.session.explorer_session import ExplorerSession

        return Failing(await ExplorerSession.open(app.resources_paths, app.sidecar_addresses, None, False, None))

    paths = [stack.resources_path]
    addresses = [s.grpc_address for s in stack.sidecars.values()]
    app = ExplorerApp(load_components(paths), paths, addresses, session_factory=factory)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, AGENTS_STORE, "gpt4")
        editor = await open_key(pilot, "agent:planner", verdict=False)
        await until(pilot, lambda: "RuntimeError" in text(editor, "#editor-message"), "the failure in the editor")
        message = text(editor, "#editor-message")
        assert "RuntimeError: the unexpected happened" in message and "traceback" not in message, message
        assert '"planner"' in shown(editor.query_one("#value"))
        assert still_running(app)


async def _make_gone(stack, key: str, value: bytes | None) -> None:
    """Save `key` in the cache store's partition "gone" (None: delete it), as the app would."""
    async with SidecarClient(stack.sidecars["chat-api"].grpc_address) as client:
        if value is None:
            await client.delete(CACHE_STORE, key, metadata={"partitionKey": "gone"})
        else:
            await client.save(CACHE_STORE, [StateWrite(key, value, metadata={"partitionKey": "gone"})])


@pytest.mark.parametrize("read_only", [False, True], ids=["writable", "read-only"])
async def test_a_key_deleted_since_the_list_was_read_offers_no_r_and_no_write(stack, cosmos, read_only):
    """Retrying cannot bring back a deleted key: the editor says what happened without "r to
    retry", and offers no edit, delete or save while it shows no key. When the key exists again,
    r shows it, and edit and delete come back — never in a read-only session."""
    key = f"gone:{'ro' if read_only else 'rw'}"
    await _make_gone(stack, key, b'{"here": 1}')
    app = make_app(stack, read_only=read_only)
    async with app.run_test(size=(100, 30)) as pilot:
        await browse_to(pilot, CACHE_STORE, "gone")
        await _make_gone(stack, key, None)
        editor = await open_key_failing(pilot, key)
        message = text(editor, "#editor-message")
        assert "no item" in message and "retry" not in message and "r to" not in message, message
        assert "retry" not in text(editor, "#envelope")
        await until(pilot, lambda: not WRITES & footer(editor), "the footer without edit, delete, save")
        assert not WRITES & palette(app)
        await pilot.press("e", "d", "ctrl+s")
        await pilot.pause(0.1)
        assert isinstance(app.screen, KeyEditor) and not editor.editing

        await _make_gone(stack, key, b'{"here": 2}')
        await pilot.press("r")
        await until(pilot, lambda: editor.opened is not None, "the key, back")
        assert '"here": 2' in shown(editor.query_one("#value"))
        if read_only:
            await pilot.pause(0.1)
            assert not WRITES & footer(editor) and not WRITES & palette(app)
        else:
            await until(pilot, lambda: {"Edit", "Delete"} <= footer(editor), "edit and delete, back")
            assert {"Edit", "Delete"} <= palette(app)
    await _make_gone(stack, key, None)


async def test_a_store_whose_container_is_missing_says_what_to_fix_not_r(stack, tmp_path):
    """The component names a container that does not exist: the pane says to check the component
    (no "r retries": asking again finds the same nothing) and offers no edit or delete."""
    for path in stack.resources_path.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    agents = next(p for p in tmp_path.glob("*.yaml") if f"name: {AGENTS_STORE}" in p.read_text())
    (tmp_path / "statestore-missing.yaml").write_text(
        agents.read_text().replace(f"name: {AGENTS_STORE}", "name: statestore-missing")
        .replace("value: agent-registry", "value: no-such-container"))
    addresses = [s.grpc_address for s in stack.sidecars.values()]
    app = ExplorerApp(load_components([tmp_path]), [tmp_path], addresses)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.session is not None, "the session to open")
        browser = app.browser
        stores = browser.query_one(StoreList)
        stores.focus()
        for _ in range(10):
            if stores.current_store == "statestore-missing":
                break
            await pilot.press("down")
        await until(pilot, lambda: "partitions of statestore-missing" in text(browser, "#keys-message"),
                    "the pane to say why")
        message = text(browser, "#keys-message")
        assert "dapr-agents/no-such-container not found" in message, message
        assert "Check the component's database and collection fields" in message and "r retries" not in message
        await until(pilot, lambda: not WRITES & footer(browser), "the footer without edit and delete")
        assert not WRITES & palette(app)


@pytest.mark.parametrize(("error", "offers_r"), [
    ("ComponentError", False), ("CosmosUnreachable", True), ("OSError", False),
])
async def test_the_status_line_offers_r_only_when_asking_again_can_help(error, offers_r):
    """The session could not open: "r retries" only for what was down, not for what must be fixed."""
    from pathlib import Path

    from explorer import errors

    cause = getattr(errors, error, OSError)("the reason, and what to do about it")

    async def factory(app):
        raise cause

    components = [Path(__file__).resolve().parents[2] / "components"]
    app = ExplorerApp(load_components(components), components, session_factory=factory)
    async with app.run_test(size=(100, 30)) as pilot:
        browser = app.browser
        await until(pilot, lambda: "the reason" in text(browser, "#status"), "the status line to say why")
        status = text(browser, "#status")
        assert "the reason, and what to do about it" in status
        assert ("r retries" in status) is offers_r, status


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
    ("cart-service||CartActor||cart-42", "CartActor||cart-42||items", "actor state"),
    ("order-processor||dapr.internal.default.order-processor.workflow||order-1002",
     "dapr.internal.default.order-processor.workflow||order-1002||metadata", "workflow state"),
])
async def test_actor_and_workflow_state_open_read_only_with_the_reason(seeded_stack, partition, key, reason):
    """On the session's stack, whose actor and workflow documents daprd wrote from the apps (this
    module's own stack runs no apps); nothing is changed."""
    cosmos = seeded_stack.cosmos_client()
    doc_id = f"{partition.split('||')[0]}||{key}"
    before = item(cosmos, WORKFLOWS, doc_id, partition)["_etag"]
    with stack_env(seeded_stack):
        app = make_app(seeded_stack)
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
    from explorer.tui.screens.browser import KEY_PAGE, WINDOW_PAGES

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
