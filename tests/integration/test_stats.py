"""Partition insight against the real daprd and server, as users run it: `dapr-explorer stats` gives,
for every partition, the figures Cosmos itself holds — checked against a full scan of the container
with the SDK in the test (keys, the JSON length of the documents, oldest and newest `_ts`, each key's
expiry bucket from its ttl and the container's defaultTtl) — sorted, cut and as JSON lines; the
TUI's insight view (`i`) fills in, draws the chart, sorts, and opens a partition; and discovery
transfers a row per partition, not per item (the lister's row count and the server's record of the
charge). Keys are written through daprd; one item without a partitionKey through the SDK."""

from __future__ import annotations

import asyncio
import json
import time

import orjson
import pytest

from explorer.backends.cosmos.lister import CosmosLister
from explorer.localstack import server_control
from explorer.localstack.seed import CACHE_APP, CACHE_STORE
from explorer.dapr.sidecar import SidecarClient, StateWrite
from tests.support import REPO, no_traceback, run_cli

from .conftest import own_stack

pytestmark = pytest.mark.integration

DATABASE, CONTAINER = "dapr-cache", "session-cache"  # the cache store's container (defaultTtl -1: TTL on, no default)
HOUR, DAY = 3600, 86400
# partition -> (count, ttl of each key or None, padding of each value): sizes and expiries that differ
KEYS = {
    "hot": (30, lambda i: (60, 1800, None)[i % 3], 10),
    "big": (6, lambda i: 2 * HOUR if i % 2 else 2 * DAY, 2000),
    "cold": (3, lambda i: None, 50),
    "later": (2, lambda i: 30 * DAY, 5),
    "café ü": (1, lambda i: -1, 1),
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_stack(tmp_path_factory, "stats-stack", seeded=False, app_ids=(CACHE_APP,)) as local:
        async def write():
            async with SidecarClient(local.sidecars[CACHE_APP].grpc_address) as sidecar:
                for partition, (count, ttl, pad) in KEYS.items():
                    writes = []
                    for i in range(count):
                        meta = {"partitionKey": partition, "contentType": "application/json"}
                        if ttl(i) is not None:
                            meta["ttlInSeconds"] = str(ttl(i))
                        writes.append(StateWrite(f"{partition}:{i}", orjson.dumps({"n": i, "pad": "x" * (pad + i)}),
                                                 metadata=meta))
                    await sidecar.save(CACHE_STORE, writes)
                await sidecar.save(CACHE_STORE, [StateWrite("bytes:0", bytes(range(200)), metadata={"partitionKey": "big"})])
        asyncio.run(write())
        container = local.cosmos_client().get_database_client(DATABASE).get_container_client(CONTAINER)
        container.create_item({"id": "no-pk", "value": {"by": "another tool"}, "ttl": 90})  # Cosmos' undefined partition
        yield local


def expected(stack) -> dict[str, dict]:
    """Every partition's figures from a full scan with the SDK, with the rules Cosmos documents."""
    container = stack.cosmos_client().get_database_client(DATABASE).get_container_client(CONTAINER)
    now = time.time()
    out: dict[str, dict] = {}
    for doc in container.query_items("SELECT * FROM c", enable_cross_partition_query=True):
        pk = doc.get("partitionKey")
        e = out.setdefault(json.dumps(pk), {"partitionKey": pk, "keys": 0, "bytes": 0, "oldestTs": None, "newestTs": None,
                                            "expiries": dict.fromkeys(("hour", "day", "week", "later", "never"), 0)})
        e["keys"] += 1
        e["bytes"] += len(json.dumps(doc, separators=(",", ":"), ensure_ascii=False))  # what ToString(c) writes
        e["oldestTs"] = min(e["oldestTs"] or doc["_ts"], doc["_ts"])
        e["newestTs"] = max(e["newestTs"] or doc["_ts"], doc["_ts"])
        ttl = doc.get("ttl")  # defaultTtl -1: only an item's own ttl > 0 makes it expire
        left = None if ttl is None or ttl == -1 else doc["_ts"] + ttl - now
        bucket = ("never" if left is None else "hour" if left < HOUR else "day" if left < DAY
                  else "week" if left < 7 * DAY else "later")
        e["expiries"][bucket] += 1
    for e in out.values():
        e["expiringWithinHour"] = e["expiries"]["hour"]
        e["expiringWithinDay"] = e["expiries"]["hour"] + e["expiries"]["day"]
    return out


def cli(stack, *args):
    result = run_cli([*args, "--resources-path", str(REPO / "components"), "--dapr-grpc-port",
                      str(stack.sidecars[CACHE_APP].grpc_port)], stack.client_env())
    no_traceback(result)
    return result


def lines(result) -> list[dict]:
    return [orjson.loads(line) for line in result.stdout.splitlines()]


def test_json_figures_equal_what_cosmos_holds(stack):
    result = cli(stack, "--json", "stats", CACHE_STORE)  # a global option before the subcommand
    assert result.returncode == 0, result.stderr
    got = {json.dumps(r["partitionKey"] if r.get("defined", True) else None): r for r in lines(result)}
    want = expected(stack)
    assert set(got) == set(want) == {json.dumps(p) for p in [*KEYS, None]}
    for pk, e in want.items():
        g = got[pk]
        assert {k: g[k] for k in e} | {"partitionKey": e["partitionKey"]} == e, pk
        assert g["requestCharge"] > 0
    assert got["null"]["defined"] is False and got["null"]["keys"] == 1 and got["null"]["expiringWithinHour"] == 1
    assert [r["keys"] for r in lines(result)] == sorted((r["keys"] for r in lines(result)), reverse=True)  # by keys
    assert result.stderr.strip().endswith("RU") and f"{len(want)} partitions · {sum(e['keys'] for e in want.values())} keys" in result.stderr


def test_sort_and_top(stack):
    want = expected(stack)
    by_bytes = lines(cli(stack, "stats", CACHE_STORE, "--sort", "bytes", "--top", "2", "--json"))
    assert [r["partitionKey"] for r in by_bytes] == [e["partitionKey"] for e in sorted(want.values(), key=lambda e: -e["bytes"])[:2]]
    assert by_bytes[0]["partitionKey"] == "big"
    expiring = lines(cli(stack, "stats", CACHE_STORE, "--json", "--sort", "expiring"))
    assert expiring[0]["partitionKey"] == "hot" and expiring[0]["expiringWithinHour"] == 20
    oldest = lines(cli(stack, "stats", CACHE_STORE, "--json", "--sort", "oldest", "--top", "1"))
    assert len(oldest) == 1 and oldest[0]["oldestTs"] == min(e["oldestTs"] for e in want.values())
    newest = lines(cli(stack, "stats", CACHE_STORE, "--json", "--sort", "newest"))
    assert [r["newestTs"] for r in newest] == sorted((e["newestTs"] for e in want.values()), reverse=True)


def test_the_table_chart_and_histogram_as_a_person_reads_them(stack):
    result = cli(stack, "stats", CACHE_STORE, "--top", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "top 3 of 6 by keys" in out
    chart = out.split("Largest partitions by keys:")[1].split("Expiries")[0].strip().splitlines()
    assert chart[0].startswith("hot") and chart[0].rstrip().endswith("30") and "█" in chart[0]
    assert len(chart) == 3
    histogram = out.split("Expiries (keys, by when they expire from now):")[1].strip().splitlines()[:5]
    want = expected(stack)
    counts = {b: sum(e["expiries"][b] for e in want.values()) for b in ("hour", "day", "week", "later", "never")}
    assert [int(line.rsplit(" ", 1)[1].replace(",", "")) for line in histogram] == list(counts.values())
    assert histogram[0].startswith("< 1 hour") and histogram[4].startswith("never")
    assert all(len(line) <= 120 for line in out.splitlines())
    assert f"6 partitions · {sum(counts.values())} keys" in out


def test_a_bad_sort_is_one_line_and_a_missing_store_is_not_found(stack):
    bad = cli(stack, "stats", CACHE_STORE, "--sort", "size")
    assert bad.returncode == 2 and "invalid choice: 'size'" in bad.stderr
    missing = cli(stack, "stats", "no-such-store")
    assert missing.returncode == 3 and len(missing.stderr.strip().splitlines()) == 1
    zero = cli(stack, "stats", CACHE_STORE, "--top", "0")
    assert zero.returncode == 2 and "must be at least 1" in zero.stderr


def test_discovery_reads_a_row_per_partition_not_per_item(stack):
    """2,000 items in 4 partitions: the discovery reads 4 rows, in one request charged like a
    request of a few rows (the server charges 2 RU + 1 RU per KB it sends)."""
    local = stack
    cosmos = local.cosmos_client()
    database = cosmos.create_database_if_not_exists("discovery")
    from azure.cosmos import PartitionKey

    container = database.create_container_if_not_exists("items", PartitionKey(path="/partitionKey"))
    for p in range(4):
        for start in range(0, 500, 100):
            container.execute_item_batch([("upsert", ({"id": f"k{p}-{n}", "partitionKey": f"p{p}", "value": {"n": n}},))
                                          for n in range(start, start + 100)], partition_key=f"p{p}")

    async def discover():
        async with CosmosLister(local.cosmos.url, local.cosmos.master_key, str(local.cosmos.ca_file)) as lister:
            batches = [b async for b in lister.partitions("discovery", "items")]
            return batches, lister.ru_spent

    server_control.clear(local)
    batches, charge = asyncio.run(discover())
    assert sorted(p for b in batches for p in b.partitions) == ["p0", "p1", "p2", "p3"]
    assert batches[-1].rows_read == 4
    queries = [r for r in server_control.requests(local) if r.collection == "items" and r.method == "POST"]
    assert len(queries) == 1 and queries[0].charge <= 3 and charge <= 3


# -- the TUI's insight view (i in the browser) ----------------------------------------------------

async def test_tui_insight_fills_in_draws_the_chart_sorts_and_opens_a_partition(stack):
    from explorer.tui.app import ExplorerApp
    from explorer.components.files import load_components
    from explorer.tui.screens.stats import StatsView, TextLines

    from .conftest import stack_env
    from .test_tui import to_store, until

    with stack_env(stack):
        paths = [stack.resources_path]
        app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
        async with app.run_test(size=(100, 34)) as pilot:
            browser = await to_store(pilot, CACHE_STORE)
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, StatsView), "the insight view")
            view = app.screen
            await until(pilot, lambda: not view.running and len(view.shown) == 6, "every partition's figures")
            assert [s.partition for s in view.shown][:2] == ["hot", "big"]  # by keys: 30, then 7
            status = str(view.query_one("#stats-status").render())
            assert "6 partitions" in status and "RU" in status
            chart = str(view.query_one("#stats-chart", TextLines).render())
            assert "Largest partitions by keys" in chart
            hot_line = next(line for line in chart.splitlines() if line.startswith("hot"))
            assert "█" in hot_line and hot_line.rstrip().endswith("30")
            histogram = str(view.query_one("#stats-histogram", TextLines).render())
            assert "< 1 hour" in histogram and "never" in histogram
            await pilot.press("b")
            assert view.sort == "bytes" and view.shown[0].partition == "big"
            assert "Largest partitions by bytes" in str(view.query_one("#stats-chart", TextLines).render())
            await pilot.press("e")
            assert view.shown[0].partition == "hot"
            table = view.query_one("#stats-table")
            columns = list(table.columns.values())
            size_at = sum(c.get_render_width(table) for c in columns[:2]) + 1  # the Size header
            await pilot.click("#stats-table", offset=(size_at, 0))
            assert view.sort == "bytes" and view.shown[0].partition == "big"
            await pilot.press("k")
            table.focus()
            await pilot.press("down", "enter")  # the second by keys: big
            await until(pilot, lambda: app.screen is browser and browser.partition == "big", "the partition in the browser")
            await until(pilot, lambda: len(browser.keys.entries) == 7, "its keys")
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, StatsView), "the insight view again")
            await pilot.press("escape")  # stops the run, or goes back when it has finished
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is browser, "back in the browser")
