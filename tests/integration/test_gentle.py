"""Gentle on production, against the real local server told to throttle (stack/cosmos/throttle.js):
a full scan and an export finish under 429s, send only low-priority requests, stay within an RU
budget, say "throttled, waiting N s" on stderr; a write throttled at Cosmos is sent once by the
explorer (daprd's own retries are counted, and explained in docs/production-load.md). Every
assertion reads the server's own record of the requests it answered (server_control.requests)."""

from __future__ import annotations

import asyncio
import math
import re
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest

from explorer.core.ru_budget import RuBudget
from explorer.backends.cosmos.lister import CosmosLister
from explorer.errors import StackError
from explorer.localstack import server_control
from explorer.localstack.seed import CACHE_APP, CACHE_STORE
from tests.support import no_traceback, run_cli

from .conftest import container, own_stack, stack_env
from .test_tui import make_app, text, to_store, until

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
DATABASE, CONTAINER = "dapr-cache", "session-cache"
PARTITIONS, PER_PARTITION = 200, 10  # 2,000 small documents in Dapr's envelope
DOCUMENTS = PARTITIONS * PER_PARTITION


def seed_many(local) -> None:
    """PARTITIONS x PER_PARTITION documents as Dapr writes them, one transactional batch per partition
    (straight through the SDK: this is load, not a test of Dapr's writes)."""
    items = container(local.cosmos_client(), DATABASE, CONTAINER)
    for p in range(PARTITIONS):
        pk = f"session-{p:04d}"
        ops = [("upsert", ({"id": f"{CACHE_APP}||{pk}:item-{i}", "partitionKey": pk, "isBinary": False,
                             "value": {"user": f"user-{p}", "n": i, "note": "x" * 120}},))
               for i in range(PER_PARTITION)]
        items.execute_item_batch(ops, partition_key=pk)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own (it throttles its server), with many small documents."""
    with own_stack(tmp_path_factory, "gentle", seeded=False, app_ids=(CACHE_APP,), api_logging=True) as local:
        seed_many(local)
        yield local


@pytest.fixture
def fresh(stack):
    """No throttling and an empty record before and after each test."""
    server_control.unthrottle(stack)
    server_control.clear(stack)
    yield stack
    server_control.unthrottle(stack)


def cli(stack, *args, timeout=180):
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    return run_cli([*args, "--resources-path", str(REPO / "components"),
                    "--dapr-grpc-port", str(stack.sidecars[CACHE_APP].grpc_port)], env, timeout=timeout)


@dataclass(frozen=True)
class ScanRun:
    partitions: int
    documents: int
    ru_spent: float
    seconds: float
    waits: tuple[float, ...]  # each 429's retry-after the lister waited out


async def scan_and_export(local, budget: RuBudget | None = None) -> ScanRun:
    """What `export` does, in process: scan the partitions, then read every document of each."""
    waits: list[float] = []
    async with CosmosLister(local.cosmos.url, local.cosmos.master_key, str(local.cosmos.ca_file), budget=budget,
                            on_throttle=waits.append) as lister:
        started = time.monotonic()
        partitions = []
        async for batch in lister.partitions(DATABASE, CONTAINER):
            partitions.extend(batch.partitions)
        documents = 0
        for pk in partitions:
            async for _ in lister.iter_documents(DATABASE, CONTAINER, pk):
                documents += 1
        return ScanRun(len(partitions), documents, lister.ru_spent, time.monotonic() - started, tuple(waits))


def explorers(record):
    return [r for r in record if r.from_explorer]


def test_partitions_and_export_finish_under_throttling_with_low_priority_only(fresh):
    # 150 RU/s for the container: the unpaced scan and export need several times that.
    server_control.throttle(fresh, 150, DATABASE, CONTAINER)
    scan = cli(fresh, "--json", "partitions", CACHE_STORE)  # a global option before the subcommand
    no_traceback(scan)
    assert scan.returncode == 0, scan.stderr
    found = {orjson.loads(line)["partitionKey"] for line in scan.stdout.splitlines()}
    assert found == {f"session-{p:04d}" for p in range(PARTITIONS)}

    export = cli(fresh, "export", CACHE_STORE)
    no_traceback(export)
    assert export.returncode == 0, export.stderr
    records = [orjson.loads(line) for line in export.stdout.splitlines()]
    assert len(records) == DOCUMENTS and len({r["id"] for r in records}) == DOCUMENTS
    assert f"exported {DOCUMENTS} items" in export.stderr

    # throttled, said so on stderr only, and waited out
    assert re.search(r"^throttled, waiting \d+(\.\d)? s$", export.stderr, re.M), export.stderr[-2000:]
    assert "throttled" not in scan.stdout + export.stdout
    others = [line for line in export.stderr.splitlines() if not line.startswith("throttled, waiting ")]
    assert others == [f"exported {DOCUMENTS} items"], others  # one line per wait, nothing else
    assert "throttled" in scan.stderr or "throttled" in export.stderr
    ours = explorers(server_control.requests(fresh))
    assert len(ours) > PARTITIONS  # a query per partition at least, told apart by the user agent
    assert sum(r.throttled for r in ours) >= 1
    # every request of the explorer is low priority, metadata and account reads included
    assert {r.priority for r in ours} == {"Low"}, {(r.method, r.path, r.priority) for r in ours if r.priority != "Low"}
    # and each 429 was followed by the same request again, not skipped: nothing was lost (checked above)


def test_a_budget_paces_a_full_scan_and_export_under_the_server_s_limit(fresh):
    """In process (the budget is a constructor argument; contexts wire it for users): a scan and an
    export paced at 400 RU/s against a container provisioned at 1,000 RU/s spend their RU at the
    budget's rate and are never throttled."""
    budget_rate = 400.0
    server_control.throttle(fresh, 1000, DATABASE, CONTAINER)
    budget = RuBudget(budget_rate)
    run = asyncio.run(scan_and_export(fresh, budget))
    spent, took = run.ru_spent, run.seconds
    assert (run.partitions, run.documents) == (PARTITIONS, DOCUMENTS)
    record = [r for r in explorers(server_control.requests(fresh)) if r.collection == CONTAINER and r.status != 429]
    charged = sum(r.charge for r in record)
    assert spent == pytest.approx(budget.spent)  # the lister counted every charge, the budget too
    assert spent == pytest.approx(charged, abs=5)  # (the SDK's own container read is not reported to us)
    assert charged > 3 * budget_rate, "enough work for the pacing to matter"
    assert took >= (charged - max(r.charge for r in record)) / budget_rate * 0.95
    assert run.waits == () and not any(r.throttled for r in server_control.requests(fresh))
    assert {r.priority for r in record} == {"Low"}
    # in any stretch between two request arrivals, what was spent stays within the budget plus one request
    # (and the jitter of arrival times on a loaded machine: 50 ms of budget)
    times = [(r.time, r.charge) for r in sorted(record, key=lambda r: r.time)]
    for i in range(len(times)):
        total = 0.0
        for j in range(i, len(times)):
            total += times[j][1]
            assert total <= budget_rate * (times[j][0] - times[i][0] + 0.05) + times[j][1] + 1e-6, (i, j, total)


def test_the_server_throttles_low_priority_before_high(fresh):
    """The local server's model of priority-based execution (throttle.js): with High requests using part
    of the second, Low ones are refused once the rest is gone, while High ones still get through."""
    server_control.throttle(fresh, 20, DATABASE, CONTAINER)
    items = container(fresh.cosmos_client(), DATABASE, CONTAINER)
    doc_id, pk = f"{CACHE_APP}||session-0000:item-0", "session-0000"
    items.read_item(doc_id, partition_key=pk, priority="High")  # the client's own metadata reads, first
    # Start at the top of the next second, apart from the reads above (they count in their own second's
    # window); the sequence below takes ~0.1 s, so it fits in one window.
    time.sleep(math.floor(time.time()) + 1.01 - time.time())
    server_control.clear(fresh)
    outcome = []

    def read(priority):
        try:
            items.read_item(doc_id, partition_key=pk, priority=priority)
            outcome.append((priority, 200))
        except Exception as exc:  # noqa: BLE001 - the 429 is what is measured
            assert getattr(exc, "status_code", None) == 429, exc
            assert exc.headers.get("x-ms-substatus") == "3200" and int(exc.headers["x-ms-retry-after-ms"]) > 0
            assert "Request rate is large" in str(exc)
            outcome.append((priority, 429))

    for _ in range(5):
        read("High")  # 5 RU of high-priority demand in this second
    for _ in range(20):
        read("Low")  # Low may use the rest of 20 less that demand: 15 RU, then 429
    for _ in range(3):
        read("High")  # High still has the room Low left
    record = [r for r in server_control.requests(fresh) if r.method == "GET" and "/docs/" in r.path]
    assert len({int(r.time) for r in record}) == 1, "the sequence ran within one second"
    assert outcome[:5] == [("High", 200)] * 5
    lows = [status for priority, status in outcome if priority == "Low"]
    assert lows == [200] * 10 + [429] * 10  # each read of this item costs 1 RU: 5 High + 10 Low = 15
    assert outcome[-3:] == [("High", 200)] * 3


def test_a_throttled_write_is_sent_once_by_the_explorer(fresh):
    """`set` while Cosmos answers the write 429: the explorer sends one SaveState; daprd's azcosmos
    (azcore's retry policy: 429 is retried up to 3 times after x-ms-retry-after-ms) tries again and the
    write lands once. A 429 is never executed by Cosmos, so daprd's retries cannot double a write."""
    key = "session-0001:item-1"
    before = container(fresh.cosmos_client(), DATABASE, CONTAINER).read_item(f"{CACHE_APP}||{key}", partition_key="session-0001")
    log = fresh.sidecars[CACHE_APP].process.log_path
    saves_before = log.read_text(errors="replace").count("SaveState")
    server_control.clear(fresh)
    server_control.fail_next(fresh, 2, method="POST", user_agent=server_control.DAPRD_AGENT, retry_after_ms=200)
    result = cli(fresh, "set", CACHE_STORE, key, '{"user":"user-1","n":1,"note":"changed"}')
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    writes = [r for r in server_control.requests(fresh) if r.from_daprd and r.method == "POST" and r.collection == CONTAINER]
    assert [r.status for r in writes] == [429, 429, 200], writes  # two refused (not executed), one upsert
    assert not [r for r in server_control.requests(fresh) if r.from_explorer and r.method not in {"GET"}
                and "isquery" not in r.path and r.status != 429 and r.charge >= 5], "the explorer itself never writes"
    deadline = time.monotonic() + 10
    while log.read_text(errors="replace").count("SaveState") == saves_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert log.read_text(errors="replace").count("SaveState") - saves_before == 1, "one SaveState from the explorer"
    after = container(fresh.cosmos_client(), DATABASE, CONTAINER).read_item(f"{CACHE_APP}||{key}", partition_key="session-0001")
    assert after["value"]["note"] == "changed" and after["_etag"] != before["_etag"]


def test_a_write_throttled_past_daprd_s_retries_fails_once_and_changes_nothing(fresh):
    key = "session-0002:item-2"
    items = container(fresh.cosmos_client(), DATABASE, CONTAINER)
    before = items.read_item(f"{CACHE_APP}||{key}", partition_key="session-0002")
    server_control.fail_next(fresh, 10, method="POST", user_agent=server_control.DAPRD_AGENT, retry_after_ms=100)
    result = cli(fresh, "set", CACHE_STORE, key, '{"never":"written"}')
    no_traceback(result)
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Cosmos DB throttled the write" in result.stderr and "nothing was written" in result.stderr
    writes = [r for r in server_control.requests(fresh) if r.from_daprd and r.method == "POST" and r.collection == CONTAINER]
    assert [r.status for r in writes] == [429] * 4, writes  # daprd: the first try and azcore's 3 retries, no more
    server_control.unthrottle(fresh)
    after = items.read_item(f"{CACHE_APP}||{key}", partition_key="session-0002")
    assert after["_etag"] == before["_etag"] and after["value"] == before["value"]


def test_the_browser_status_line_shows_the_ru_spent_and_a_429_wait(fresh):
    """The TUI: RU spent this session in the status line, and "throttled, waiting N s" while a 429's
    retry-after is waited out (the server refuses the explorer's next query for 3 s), then gone."""

    async def scenario():
        app = make_app(fresh)
        async with app.run_test(size=(160, 40)) as pilot:
            browser = await to_store(pilot, CACHE_STORE)
            await until(pilot, lambda: "RU this session" in text(browser, "#status"), "the RU spent")
            await until(pilot, lambda: len(browser.partitions.partitions) == PARTITIONS, "the partitions")
            await until(pilot, lambda: len(browser.findings) == 3, "the doctor's checks of the three stores")
            spent = float(text(browser, "#status").split(" RU this session")[0].split("· ")[-1].replace(",", ""))
            assert spent > 0
            # a budget (contexts will give one; here set on the session's lister) shows beside what is spent
            app.session.workspace.lister(CACHE_STORE).budget = RuBudget(100)
            await until(pilot, lambda: "RU this session · budget 100 RU/s" in text(browser, "#status"), "the budget")
            server_control.fail_next(fresh, 1, method="POST", user_agent=server_control.EXPLORER_AGENT, retry_after_ms=3000)
            await pilot.press("r")  # ask again: the scan's first query is refused for 3 s
            await until(pilot, lambda: "throttled, waiting" in text(browser, "#status"), "the 429 wait to show")
            assert re.search(r"throttled, waiting [0-3](\.\d)? s", text(browser, "#status"))
            await until(pilot, lambda: "throttled" not in text(browser, "#status"), "the wait to end", timeout=10)
            await until(pilot, lambda: len(browser.partitions.partitions) == PARTITIONS, "the scan to finish")

    with stack_env(fresh):
        asyncio.run(scenario())
    refused = [r for r in server_control.requests(fresh) if r.throttled]
    assert len(refused) == 1 and refused[0].from_explorer and refused[0].priority == "Low"


def test_an_account_wide_limit_covers_every_collection_and_bad_settings_are_refused(fresh):
    with pytest.raises(StackError, match="ruPerSecond must be a number >= 0"):
        server_control.throttle(fresh, -1)
    with pytest.raises(StackError, match="both database and collection"):
        server_control.throttle(fresh, 10, DATABASE)
    cosmos = fresh.cosmos_client()  # made first: the sync client reads the account as it is made
    server_control.throttle(fresh, 0)  # the account: nothing may be spent
    for database, collection in (("dapr-agents", "agent-registry"), (DATABASE, CONTAINER)):
        with pytest.raises(Exception) as caught:
            list(container(cosmos, database, collection).query_items("SELECT * FROM c", enable_cross_partition_query=True))
        assert getattr(caught.value, "status_code", None) == 429
    refused = [r for r in server_control.requests(fresh) if r.throttled]
    assert {r.collection for r in refused} >= {"agent-registry", CONTAINER} and all(r.charge == 0 for r in refused)
    server_control.unthrottle(fresh)
    assert list(container(cosmos, DATABASE, CONTAINER).query_items("SELECT TOP 1 c.id FROM c",
                                                                   enable_cross_partition_query=True))


def test_the_cli_export_keeps_to_the_budget_it_is_given(fresh):
    """`--ru-per-second` (a production context's default, or its ru_per_second, reach the same
    lister budget: tests/unit/test_contexts.py): an export paced at 300 RU/s, as a user types it
    (the option before the subcommand), takes at least its charge over the budget."""
    budget_rate = 300.0
    started = time.monotonic()
    export = cli(fresh, "--ru-per-second", str(budget_rate), "export", CACHE_STORE)
    took = time.monotonic() - started
    no_traceback(export)
    assert export.returncode == 0, export.stderr
    assert len(export.stdout.splitlines()) == DOCUMENTS
    record = [r for r in explorers(server_control.requests(fresh)) if r.collection == CONTAINER and r.status != 429]
    charged = sum(r.charge for r in record)
    assert charged > 2 * budget_rate, "enough work for the pacing to matter"
    assert took >= (charged - max(r.charge for r in record)) / budget_rate * 0.95
    assert {r.priority for r in record} == {"Low"}
