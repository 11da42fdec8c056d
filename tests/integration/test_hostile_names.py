"""Key names and values are data anyone who can write the store controls: shown by the CLI and the TUI
against the real daprd and server, none of their control, bidi or line-breaking characters reaches the
terminal raw (issue 19, defect 1), `--json` stays exact JSON, and one long partition key leaves the
Insight table's figures on screen.

Hostile keys are written the way an app writes them, through daprd's gRPC API (chat-api's sidecar, the
cache store), into this module's own stack. A lone surrogate cannot be written through daprd (gRPC:
protobuf refuses to encode it; HTTP: Go's JSON decoder stores U+FFFD in its place — checked below), so
the one item holding a lone surrogate is written by another writer, with the Cosmos SDK."""

from __future__ import annotations

import asyncio
import json
import urllib.request

import orjson
import pytest

from explorer.localstack.seed import CACHE_APP, CACHE_STORE
from explorer.dapr.sidecar import SidecarClient, StateWrite
from tests.support import REPO, no_traceback, raw_controls, run_cli, screen_lines, screen_raw_controls

from .conftest import own_stack

pytestmark = pytest.mark.integration

DATABASE, CONTAINER = "dapr-cache", "session-cache"
PARTITION = "hostile"
ATTACKS = {
    "title": "t\x1b]0;owned\x07",
    "clear": "c\x1b[2J\x1b[H",
    "csi": "c1\u009b2J",
    "bidi": "invoice\u202efdp.exe",
    "newline": "first\nfake line",
    "clipboard": "p\x1b]52;c;ZXZpbA==\x07",
    "markup": "[bold red]x[/]",
}
VALUE = {"v": "\x1b[2J\u009b\u202e\nend"}
HOSTILE_PARTITION = "pk\x1b]0;pk\x07\u202e\n"
LONG_PARTITION = "long-" + "p" * 400
SURROGATE_ID = f"{CACHE_APP}||s\udc80"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_stack(tmp_path_factory, "hostile-stack", seeded=False, app_ids=(CACHE_APP,)) as local:
        async def write():
            async with SidecarClient(local.sidecars[CACHE_APP].grpc_address) as sidecar:
                await sidecar.save(CACHE_STORE, [
                    StateWrite(key, orjson.dumps(VALUE), metadata={"partitionKey": PARTITION}) for key in ATTACKS.values()])
                await sidecar.save(CACHE_STORE, [StateWrite("in-a-hostile-partition", b'{"n":1}',
                                                            metadata={"partitionKey": HOSTILE_PARTITION})])
                await sidecar.save(CACHE_STORE, [StateWrite(f"long:{i}", b'{"n":1}', metadata={"partitionKey": LONG_PARTITION})
                                                 for i in range(3)])
                await sidecar.save(CACHE_STORE, [StateWrite(f"short:{i}", b'{"n":2}', metadata={"partitionKey": "short"})
                                                 for i in range(2)])
        asyncio.run(write())
        container = local.cosmos_client().get_database_client(DATABASE).get_container_client(CONTAINER)
        container.create_item({"id": SURROGATE_ID, "partitionKey": PARTITION, "value": {"v": "half \udc80"}})
        yield local


def cli(stack, *args, stdin: str | None = None):
    result = run_cli([*args, "--resources-path", str(REPO / "components"), "--dapr-grpc-port",
                      str(stack.sidecars[CACHE_APP].grpc_port)], {**stack.client_env(), "COLUMNS": "400"}, stdin=stdin)
    no_traceback(result)
    return result


def assert_terminal_safe(result) -> None:
    for name, text in (("stdout", result.stdout), ("stderr", result.stderr)):
        assert raw_controls(text) == 0, f"raw control characters on {name}: {text!r}"
        assert "\ufffd" not in text, f"a character that is no UTF-8 on {name}: {text!r}"


def test_daprd_cannot_store_a_lone_surrogate(stack):
    """Why the lone surrogate item is written with the SDK: through daprd's gRPC API the client cannot
    even encode it, and through its HTTP API Go stores U+FFFD instead."""
    async def grpc():
        async with SidecarClient(stack.sidecars[CACHE_APP].grpc_address) as sidecar:
            await sidecar.save(CACHE_STORE, [StateWrite("g\udc80", b'{"n":1}', metadata={"partitionKey": "surrogate"})])
    with pytest.raises(Exception):  # noqa: B017,PT011 - protobuf's encoder refuses it, whichever error it names
        asyncio.run(grpc())
    body = b'[{"key":"h\\udc80","value":"\\udc80","metadata":{"partitionKey":"surrogate"}}]'  # JSON's escape for it
    request = urllib.request.Request(f"http://127.0.0.1:{stack.sidecars[CACHE_APP].http_port}/v1.0/state/{CACHE_STORE}",
                                     data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 204
    container = stack.cosmos_client().get_database_client(DATABASE).get_container_client(CONTAINER)
    ids = [item["id"] for item in container.query_items("SELECT c.id FROM c", partition_key="surrogate")]
    assert ids == [f"{CACHE_APP}||h\ufffd"]


@pytest.mark.parametrize("argv", [
    ["keys", CACHE_STORE, "--partition", PARTITION],
    ["partitions", CACHE_STORE],
    ["search", CACHE_STORE, "{}", "--partition", PARTITION],
    ["bulk", CACHE_STORE, "delete", "--partition", PARTITION, "--dry-run"],
    ["export", CACHE_STORE, "--partition", PARTITION],
    ["stats", CACHE_STORE],
    ["keys", CACHE_STORE, "--partition", HOSTILE_PARTITION],
], ids=["keys", "partitions", "search", "bulk-dry-run", "export", "stats", "keys-of-a-hostile-partition"])
def test_listings_show_hostile_names_visibly_never_raw(stack, argv):
    result = cli(stack, *argv)
    assert result.returncode == 0, result.stderr
    assert_terminal_safe(result)
    if argv[0] in {"keys", "search", "bulk"} and argv[3] == PARTITION:
        out = result.stdout
        assert "t\\x1b]0;owned\\x07" in out and "first⏎fake line" in out and "c1\\x9b2J" in out
        assert "invoice\\u202efdp.exe" in out and "[bold red]x[/]" in out and "s\\udc80" in out
        assert not any(line.strip().startswith("fake line") for line in out.splitlines())


def test_a_newline_in_a_name_never_adds_a_line(stack):
    """Seven keys: the bulk dry run prints one line per key (the surrogate item is left alone; set-ttl,
    since a delete also leaves alone the id with a line break, which Dapr cannot delete on Cosmos DB), and
    `partitions` one per partition."""
    dry = cli(stack, "bulk", CACHE_STORE, "set-ttl", "--ttl", "3600", "--partition", PARTITION, "--dry-run")
    assert len(dry.stdout.splitlines()) == len(ATTACKS), dry.stdout
    assert "  first⏎fake line  [hostile]" in dry.stdout
    partitions = cli(stack, "partitions", CACHE_STORE)
    assert sorted(partitions.stdout.splitlines()) == sorted([PARTITION, "pk\\x1b]0;pk\\x07\\u202e⏎", LONG_PARTITION,
                                                             "short", "surrogate"])


def test_get_and_its_errors_show_the_key_visibly(stack):
    result = cli(stack, "get", CACHE_STORE, ATTACKS["title"], "--partition", PARTITION, "--app-id", CACHE_APP)
    assert result.returncode == 0, result.stderr
    assert_terminal_safe(result)
    assert "\\u001b]0;owned\\u0007" in result.stdout and "\\u009b" in result.stdout
    missing = cli(stack, "get", CACHE_STORE, "gone\x1b[2J\u202e", "--partition", PARTITION, "--app-id", CACHE_APP)
    assert missing.returncode == 3, missing.stderr
    assert_terminal_safe(missing)
    assert len(missing.stderr.strip().splitlines()) == 1


def test_json_output_is_exact_json_with_nothing_raw(stack):
    """--json lines read back to the exact names and values; C0 is escaped by JSON itself, C1, bidi and the
    separators by the explorer (\\u009b, \\u202e), a lone surrogate as its escape \\udc80."""
    for argv in (["keys", CACHE_STORE, "--partition", PARTITION], ["export", CACHE_STORE, "--partition", PARTITION],
                 ["search", CACHE_STORE, "{}", "--partition", PARTITION]):
        result = cli(stack, "--json", *argv)
        assert result.returncode == 0, result.stderr
        assert_terminal_safe(result)
        records = [json.loads(line) for line in result.stdout.splitlines()]
        keys = {r["key"] for r in records}
        assert set(ATTACKS.values()) | {"s\udc80"} == keys, argv
        if argv[0] != "keys":
            assert VALUE in [r["value"] for r in records]
    raw = cli(stack, "--json", "keys", CACHE_STORE, "--partition", PARTITION).stdout
    assert "\\u009b2J" in raw and "\\u202e" in raw and "\\udc80" in raw


def test_bulk_run_and_report_lines_are_terminal_safe(stack):
    """A real bulk run on the hostile keys: each line shows its key visibly; the item whose id holds half a
    surrogate pair (no text Dapr can be sent) is left alone, said so in the dry run, never a crash."""
    result = cli(stack, "bulk", CACHE_STORE, "set-ttl", "--ttl", "3600", "--partition", PARTITION,
                 "--confirm", str(len(ATTACKS)))
    assert result.returncode == 0, result.stderr
    assert "unexpected error" not in result.stderr
    assert f"would set a TTL of 3,600 s on {len(ATTACKS)} keys" in result.stderr
    assert "1 left alone (1 id holds half of a surrogate pair)" in result.stderr
    assert_terminal_safe(result)


async def test_tui_key_table_keeps_one_row_per_hostile_key(stack):
    """In the browser, a key with a newline stays one row of the key table, and nothing on the screen is
    a raw control (every text segment of a full repaint)."""
    from explorer.tui.app import ExplorerApp
    from explorer.components.files import load_components

    from .conftest import stack_env
    from .test_tui import browse_to

    with stack_env(stack):
        paths = [stack.resources_path]
        app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
        async with app.run_test(size=(120, 40)) as pilot:
            browser = await browse_to(pilot, CACHE_STORE, PARTITION)
            await pilot.pause(0.3)
            assert browser.keys.row_count == len(ATTACKS) + 1
            labels = [browser.keys.label(e) for e in browser.keys.entries]
            assert "first⏎fake line" in labels and "s\\udc80" in labels
            lines = screen_lines(app)
            assert not any(line.lstrip("│ ▏▕|").startswith("fake line") for line in lines), "\n".join(lines)
            assert sum("first⏎fake line" in line for line in lines) == 1
            count, first = screen_raw_controls(app)
            assert count == 0, first
            await pilot.press("i")  # the insight view, with the hostile and the long partition
            from explorer.tui.screens.stats import StatsView
            from .test_tui import until
            await until(pilot, lambda: isinstance(app.screen, StatsView) and not app.screen.running, "insight")
            await pilot.pause(0.3)
            count, first = screen_raw_controls(app)
            assert count == 0, first


@pytest.mark.parametrize("width", [80, 120, 200])
async def test_tui_insight_keeps_every_column_with_one_long_partition_key(stack, width):
    """One partition key of 405 characters: the table still shows keys, size and ages of every partition
    on screen, the long name cut with …"""
    from explorer.tui.app import ExplorerApp
    from explorer.components.files import load_components
    from explorer.tui.screens.stats import StatsView

    from .conftest import stack_env
    from .test_tui import to_store, until

    with stack_env(stack):
        paths = [stack.resources_path]
        app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
        async with app.run_test(size=(width, 34)) as pilot:
            await to_store(pilot, CACHE_STORE)
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, StatsView), "the insight view")
            view = app.screen
            await until(pilot, lambda: not view.running and view.shown, "the figures")
            # The table measures its columns when its message queue is idle, which a loaded machine can
            # hold back past a paint: wait for the long row (at most 20 s), then check what is on screen.
            await until(pilot, lambda: any("long-ppp" in line and " ago" in line and "…" in line
                                           for line in screen_lines(app)), "the long partition's row, cut with …")
            table = view.query_one("#stats-table")
            assert sum(c.get_render_width(table) for c in table.columns.values()) <= width
            lines = screen_lines(app)
            header = next(line for line in lines if "Partition" in line and "Keys" in line)
            assert all(title in header for title in ("Size", "<1h", "<1d", "Oldest", "Newest")), header
            long_row = next(line for line in lines if "long-ppp" in line and " ag" in line)  # the table's row
            assert "…" in long_row and " 3 " in long_row, long_row
