"""The TUI on what Dapr can write but a careless tool mishandles (issue 9, items 2 and 3), driven by
Pilot against the real stack: keys Cosmos will not serve in a URL ('/', '%', '#', a trailing blank,
characters outside the BMP) open and save; and an array or a string saved by an app through Dapr's
HTTP API stays that JSON value after an edit in the editor (it used to become base64 bytes)."""

from __future__ import annotations

import os

import pytest

from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE
from tests.integration.test_tui import browse_to, make_app, open_key, save_through_dialog, until
from tests.support import http_save

from .conftest import own_stack

pytestmark = pytest.mark.integration

PARTITION = "odd-values"
ODD_KEYS = ["orders/1001", "per%cent", "hash#tag", "trailing-blank ", "emoji-🤖", "back\\slash"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_stack(tmp_path_factory, "tui-odd-stack", seeded=False) as local:
        port = local.sidecars[AGENTS_APP].http_port
        for key in ODD_KEYS:
            http_save(port, AGENTS_STORE, key, b'{"odd": true}', {"partitionKey": PARTITION})
        http_save(port, AGENTS_STORE, "list", b'["a", 1]', {"partitionKey": PARTITION})
        http_save(port, AGENTS_STORE, "text", b'"plain words"', {"partitionKey": PARTITION})
        saved = dict(os.environ)
        os.environ.update(local.client_env())
        try:
            yield local
        finally:
            os.environ.clear()
            os.environ.update(saved)


def item(stack, key):
    container = stack.cosmos_client().get_database_client("dapr-agents").get_container_client("agent-registry")
    return [i for i in container.query_items("SELECT * FROM c WHERE c.id = @id",
                                             parameters=[{"name": "@id", "value": f"{AGENTS_APP}||{key}"}],
                                             enable_cross_partition_query=True)]


async def test_keys_cosmos_will_not_serve_in_a_url_open_and_save(stack):
    app = make_app(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await browse_to(pilot, AGENTS_STORE, PARTITION)
        for key in ODD_KEYS:
            app.browser.keys.focus()
            await pilot.press(*["up"] * (len(ODD_KEYS) + 2))  # back to the first row: open_key counts from it
            editor = await open_key(pilot, key)
            assert editor.opened.key.state_key.key == key
            assert '"odd"' in editor.query_one("#value-edit").text or editor.opened.key.value_bytes == b'{"odd":true}'
            if key == "orders/1001":
                await pilot.press("e")
                editor.query_one("#value-edit").text = '{"odd": "edited"}'
                await save_through_dialog(pilot)
                await until(pilot, lambda: editor.saved_etags, "the save")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is app.browser, "the browser again")
    [edited] = item(stack, "orders/1001")
    assert edited["value"] == {"odd": "edited"} and edited["partitionKey"] == PARTITION


@pytest.mark.parametrize("key, typed, expected", [("list", '["b", 2, null]', ["b", 2, None]),
                                                  ("text", '"other words"', "other words")])
async def test_an_edit_keeps_the_json_type_dapr_stored(stack, key, typed, expected):
    app = make_app(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await browse_to(pilot, AGENTS_STORE, PARTITION)
        editor = await open_key(pilot, key)
        await pilot.press("e")
        editor.query_one("#value-edit").text = typed
        await save_through_dialog(pilot)
        await until(pilot, lambda: editor.saved_etags, "the save")
    [after] = item(stack, key)
    assert after["isBinary"] is False and after["value"] == expected


async def test_items_without_a_partition_key_are_listed_and_opened_but_not_written(stack):
    container = stack.cosmos_client().get_database_client("dapr-agents").get_container_client("agent-registry")
    container.upsert_item({"id": f"{AGENTS_APP}||loose", "value": {"from": "another tool"}, "isBinary": False})
    app = make_app(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await browse_to(pilot, AGENTS_STORE, "(no partitionKey)")
        editor = await open_key(pilot, "loose")
        assert editor.opened.key.document["value"] == {"from": "another tool"}
        assert "Dapr cannot address" in editor.opened.read_through
        bindings = {b.binding.action for b in editor.active_bindings.values() if b.enabled}
        assert not {"edit", "delete", "save"} & bindings, bindings
        assert "no partitionKey field" in (editor.reason_read_only or "")
        await pilot.press("e", "d", "ctrl+s")
        await pilot.pause(0.5)
    [after] = item(stack, "loose")
    assert after["value"] == {"from": "another tool"} and "partitionKey" not in after


async def test_copy_in_the_key_list_offers_no_value_and_v_does_not_crash(stack):
    """Found by bench/reliability.py R1: y then v in the key list ended the app (KeyError 'value')."""
    from explorer.tui.dialogs import CopyChoice

    app = make_app(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await browse_to(pilot, AGENTS_STORE, PARTITION)
        browser.keys.focus()
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, CopyChoice), "the copy dialog")
        await pilot.press("v")
        await pilot.pause(0.2)
        assert isinstance(app.screen, CopyChoice) and app.is_running
        await pilot.press("k")
        await until(pilot, lambda: app.screen is browser, "the key copied and the dialog closed")
