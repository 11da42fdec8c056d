"""Partition insight on the local server: `ExplorerSession.stats` (what `dapr-explorer stats` and the
TUI's insight view run) against the bare azure-cosmos async SDK running the same queries, same run.

Starts the server alone (LocalStack(app_ids=()): no daprd), makes a container partitioned on
/partitionKey with defaultTtl -1 (Dapr's usual TTL setting: on, no default), seeds --items items over
--partitions partitions (bench/server_partition_discovery.py's seeder), then gives the items of
every tenth partition a ttl (so a tenth of the partitions need their expiry rows). Then, --repeat
times in alternating order:

  explorer  ExplorerSession.stats over a CosmosLister: DISTINCT discovery, then per partition the
            aggregate row and (where an item has a ttl) the expiring items, 4 partitions at a time,
            bucketed in explorer.core.stats;
  bare SDK  the same queries with the bare async SDK, 4 partitions at a time, results kept as dicts.

Why not "the bare SDK's GROUP BY query" (issue 13's target): Cosmos DB refuses GROUP BY across
partitions for the Python and Go SDKs (docs/local-stack.md, "Queries"), so no such query exists to
compare with; the comparison is with the bare SDK doing the discovery and the per-partition queries.
Each run is timed after a write (the server then evaluates the DISTINCT over the whole container
once, a cost Cosmos DB does not have); the per-partition queries are never cached (aggregates).
Prints wall time (median of --repeat) and the requests each way made. Times are this machine's, shared and noisy.

Usage: .venv/bin/python bench/stats_bench.py [--items 100000] [--partitions 10000] [--repeat 1] [--smoke]
Never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from azure.cosmos import PartitionKey  # noqa: E402

from bench.server_partition_discovery import seed  # noqa: E402
from bench.smoke import smoke_args  # noqa: E402
from explorer.core.envelope import KeyPrefix  # noqa: E402
from explorer.core.model import StoreLocation  # noqa: E402
from explorer.backends.cosmos.connection import async_client  # noqa: E402
from explorer.backends.cosmos.lister import STATS_AGGREGATES, CosmosLister  # noqa: E402
from explorer.session.explorer_session import ExplorerSession  # noqa: E402
from explorer.session.stats_run import STATS_CONCURRENCY  # noqa: E402

DATABASE, CONTAINER = "bench-stats", "items"
DISCOVERY = "SELECT DISTINCT c.partitionKey FROM c"


async def give_ttls(container, partitions: int) -> int:
    """A ttl (1 h to 8 d) on every item of every tenth partition; how many items got one."""
    gate = asyncio.Semaphore(8)
    count = 0

    async def one(p: int) -> None:
        nonlocal count
        pk = f"tenant-{p:05d}"
        async with gate:
            items = [item async for item in container.query_items("SELECT * FROM c", partition_key=pk)]
            for n, item in enumerate(items):
                item["ttl"] = 3600 * (1 + (p + n) % 200)
            for start in range(0, len(items), 100):
                await container.execute_item_batch([("upsert", (i,)) for i in items[start:start + 100]], partition_key=pk)
            count += len(items)

    await asyncio.gather(*(one(p) for p in range(0, partitions, 10)))
    return count


async def bare_sdk(container) -> tuple[int, int, int]:
    """The explorer's queries with the bare SDK: (partitions, requests, rows received)."""
    requests = rows = 0
    found: list = []
    async for page in container.query_items(DISCOVERY, max_item_count=1000).by_page():
        requests += 1
        async for row in page:
            rows += 1
            found.append(row.get("partitionKey"))
    todo: asyncio.Queue = asyncio.Queue()
    for pk in found:
        todo.put_nowait(pk)
    results = []

    async def worker() -> None:
        nonlocal requests, rows
        while not todo.empty():
            pk = todo.get_nowait()
            params = [{"name": "@pk", "value": pk}]
            figures = [r async for r in container.query_items(f"SELECT {STATS_AGGREGATES} FROM c WHERE c.partitionKey = @pk",
                                                              parameters=params, partition_key=pk)]
            requests, rows = requests + 1, rows + len(figures)
            expiring = []
            if figures and figures[0].get("withTtl"):
                async for page in container.query_items(
                        "SELECT c._ts, c.ttl FROM c WHERE c.partitionKey = @pk AND (IS_DEFINED(c.ttl) AND c.ttl != -1)",
                        parameters=params, partition_key=pk, max_item_count=1000).by_page():
                    requests += 1
                    expiring.extend([r async for r in page])
                rows += len(expiring)
            results.append((pk, figures, expiring))

    await asyncio.gather(*(worker() for _ in range(STATS_CONCURRENCY)))
    return len(results), requests, rows


async def explorer(lister: CosmosLister) -> tuple[int, int, int]:
    session = ExplorerSession(SimpleNamespace(lister=lambda store: lister))
    location = StoreLocation("bench", DATABASE, CONTAINER, KeyPrefix.from_metadata(None), -1)
    calls = {"n": 0}
    lister._on_charge = lambda operation, charge: calls.__setitem__("n", calls["n"] + 1)
    stats = [s async for s in session.stats(location)]
    return len(stats), calls["n"], 0


async def main(args) -> None:
    from explorer.localstack.manager import LocalStack

    with LocalStack(app_ids=()) as stack:
        cosmos = stack.cosmos
        async with async_client(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as client:
            database = await client.create_database_if_not_exists(DATABASE)
            container = await database.create_container_if_not_exists(
                CONTAINER, PartitionKey(path="/partitionKey"), default_ttl=-1)
            started = time.perf_counter()
            await seed(container, args.items, args.partitions)
            with_ttl = await give_ttls(container, args.partitions)
            print(f"seeded {args.items:,} items over {args.partitions:,} partitions ({with_ttl:,} with a ttl) "
                  f"in {time.perf_counter() - started:.1f} s", flush=True)
            first = await container.read_item("app||k00000-00000", partition_key="tenant-00000")
            async with CosmosLister(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as lister:
                ways = {"explorer (session.stats)": lambda: explorer(lister), "bare SDK, same queries": lambda: bare_sdk(container)}
                times: dict[str, list[float]] = {name: [] for name in ways}
                shape: dict[str, tuple[int, int, int]] = {}
                for round_ in range(args.repeat):
                    for name in (list(ways) if round_ % 2 == 0 else list(reversed(ways))):
                        await container.upsert_item(first)  # drops the server's cached DISTINCT rows
                        started = time.perf_counter()
                        shape[name] = await ways[name]()
                        times[name].append(time.perf_counter() - started)
                        print(f"  {name}: {times[name][-1]:.1f} s", flush=True)
    print(f"\n{'way':26} {'partitions':>10} {'requests':>9} {'median':>8}")
    for name in ways:
        partitions, requests, _ = shape[name]
        print(f"{name:26} {partitions:>10,} {requests:>9,} {statistics.median(times[name]):>7.1f} s")
    ratio = statistics.median(times["explorer (session.stats)"]) / statistics.median(times["bare SDK, same queries"])
    print(f"\nexplorer / bare SDK: {ratio:.2f}x (medians of {args.repeat})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=1)
    asyncio.run(main(smoke_args(parser, items=300, partitions=30, repeat=1)))
