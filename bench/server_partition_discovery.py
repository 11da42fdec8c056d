"""Partition discovery on the local server: `SELECT DISTINCT VALUE c.partitionKey FROM c` against
the scan the explorer does today (`SELECT c.partitionKey FROM c`, de-duplicated client-side by
CosmosLister.partitions), through the real azure-cosmos async SDK over HTTPS.

Starts the server alone (LocalStack(app_ids=()): no daprd), seeds --items items over --partitions
partitions in transactional batches of 100, then, --repeat times in alternating order, each of:

  scan      the bare SDK streaming `SELECT c.partitionKey FROM c` in pages of 1,000 into a set;
  lister    CosmosLister.partitions (the explorer's partition discovery: since issue 13 SELECT DISTINCT c.partitionKey);
  distinct  the bare SDK streaming `SELECT DISTINCT VALUE c.partitionKey FROM c` in pages of 1,000;

twice: "after a write" (one item written back unchanged first, so the server evaluates the query
over the whole container — a cost of this server, docs/local-stack.md) and "warm" (the server's
rows for that text cached). It prints rows transferred (rows the client received), pages, and
median wall time. Rows are exact; times are this machine's, shared and noisy.

What it cannot show: Cosmos DB's own cost. On the service the gateway refuses DISTINCT across
partitions with substatus 1004 and the SDK runs it per partition-key range from a query plan
(docs/local-stack.md); rows per range are then the distinct values of that range.

Usage: .venv/bin/python bench/server_partition_discovery.py [--items 100000] [--partitions 1000] [--repeat 3] [--smoke]
Never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from azure.cosmos import PartitionKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.smoke import smoke_args  # noqa: E402
from explorer.backends.cosmos.connection import async_client  # noqa: E402
from explorer.backends.cosmos.lister import CosmosLister  # noqa: E402
from explorer.localstack.manager import LocalStack  # noqa: E402

DATABASE, CONTAINER = "bench-discovery", "items"
SCAN = "SELECT c.partitionKey FROM c"
DISTINCT = "SELECT DISTINCT VALUE c.partitionKey FROM c"


async def seed(container, items: int, partitions: int) -> None:
    per = -(-items // partitions)
    gate = asyncio.Semaphore(8)

    async def one(p: int) -> None:
        pk = f"tenant-{p:05d}"
        docs = [{"id": f"app||k{p:05d}-{n:05d}", "partitionKey": pk, "value": {"n": n}, "isBinary": False}
                for n in range(per) if p * per + n < items]
        async with gate:
            for start in range(0, len(docs), 100):
                await container.execute_item_batch([("upsert", (d,)) for d in docs[start:start + 100]], partition_key=pk)

    await asyncio.gather(*(one(p) for p in range(partitions)))


async def sdk_pages(container, sql: str, value: bool) -> tuple[int, int, int]:
    """(rows received, pages, distinct partitions) for one streamed query."""
    rows = pages = 0
    seen: set[str] = set()
    async for page in container.query_items(sql, max_item_count=1000).by_page():
        pages += 1
        async for row in page:
            rows += 1
            seen.add(row if value else row["partitionKey"])
    return rows, pages, len(seen)


async def lister_scan(lister: CosmosLister) -> tuple[int, int, int]:
    pages = scanned = found = 0
    async for batch in lister.partitions(DATABASE, CONTAINER):
        pages += 1
        scanned, found = batch.rows_read, batch.total_partitions
    return scanned, pages, found


async def main(args) -> None:
    with LocalStack(app_ids=()) as stack:
        cosmos = stack.cosmos
        async with async_client(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as client:
            database = await client.create_database_if_not_exists(DATABASE)
            container = await database.create_container_if_not_exists(CONTAINER, PartitionKey(path="/partitionKey"))
            started = time.perf_counter()
            await seed(container, args.items, args.partitions)
            print(f"seeded {args.items:,} items over {args.partitions:,} partitions in {time.perf_counter() - started:.1f} s")
            first = await container.read_item("app||k00000-00000", partition_key="tenant-00000")
            async with CosmosLister(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as lister:
                ways = {
                    "scan (bare SDK)": lambda: sdk_pages(container, SCAN, value=False),
                    "lister.partitions (DISTINCT)": lambda: lister_scan(lister),
                    "DISTINCT VALUE (bare SDK)": lambda: sdk_pages(container, DISTINCT, value=True),
                }
                results: dict[tuple[str, str], list[float]] = {}
                shape: dict[str, tuple[int, int, int]] = {}
                for round_ in range(args.repeat):
                    order = list(ways) if round_ % 2 == 0 else list(reversed(ways))
                    for name in order:
                        for state in ("after a write", "warm"):
                            if state == "after a write":
                                await container.upsert_item(first)  # drops the server's cached rows
                            started = time.perf_counter()
                            shape[name] = await ways[name]()
                            results.setdefault((name, state), []).append(time.perf_counter() - started)
    print(f"\n{'way':28} {'rows received':>14} {'pages':>6} {'partitions':>10} {'after a write':>14} {'warm':>8}")
    for name in ways:
        rows, pages, found = shape[name]
        cold = statistics.median(results[(name, 'after a write')]) * 1000
        warm = statistics.median(results[(name, 'warm')]) * 1000
        print(f"{name:28} {rows:>14,} {pages:>6} {found:>10,} {cold:>11.0f} ms {warm:>5.0f} ms")
    print(f"\nmedians of {args.repeat} runs each; rows received = rows the client read off the wire")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    asyncio.run(main(smoke_args(parser, items=300, partitions=30, repeat=1)))
