"""Partition discovery at a million items (issue 13): the rows each way of discovering a container's
partitions transfers, as the container grows from --steps[0] to 1,000,000 items in 100 partitions.

Starts the local Cosmos-compatible server alone (LocalStack(app_ids=()): no daprd) and writes
Dapr-shaped documents straight into it with the azure-cosmos async SDK, transactional batches of
100 per partition, --concurrency in flight (bench/many_keys.py), up to each size of --steps in
turn; no seeding batch is started after --seed-budget seconds in all (then the last size is what
fits, counted with COUNT, and said so). At each size, after one write (so every way pays the
server's evaluation of the container alike: docs/local-stack.md, "Query cost"), then once more
warm, each of:

  lister     CosmosLister.partitions: the explorer's partition discovery as the product has it in
             this checkout (the SQL it sends is recorded from the SDK call and printed);
  scan       bare SDK `SELECT c.partitionKey FROM c`, pages of 1,000 (the lister's query until the
             product switches);
  distinct   bare SDK `SELECT DISTINCT c.partitionKey FROM c`, pages of 1,000 (the query helper
             "stats" is switching CosmosLister.partitions to);
  value      bare SDK `SELECT DISTINCT VALUE c.partitionKey FROM c`, pages of 1,000.
(GROUP BY is not among them: across partitions Cosmos DB's gateway and the Python SDK refuse it, and
so does the local server; docs/local-stack.md.)

Rows = rows the client read off the wire (exact; for the lister its `items_scanned`), pages =
responses, and wall time (this machine's: shared, noisy). Also the server's resident memory.

What it cannot show: Cosmos DB's own cost. There, the gateway refuses DISTINCT and GROUP BY across
partitions (substatus 1004) and the SDK runs them per partition-key range from a query plan, so
rows are the distinct values per range (docs/local-stack.md); RU were not measured.

Usage: .venv/bin/python bench/discovery_rows_bench.py [--steps 100000,1000000] [--partitions 100]
           [--seed-budget 300] [--concurrency 16] [--smoke]
Never a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.many_keys import envelope, progress_printer, seed  # noqa: E402
from bench.server_partition_discovery import CONTAINER, DATABASE, lister_scan, sdk_pages  # noqa: E402
from bench.smoke import smoke_args  # noqa: E402
from bench.tui_bench import print_report  # noqa: E402

QUERIES = {
    "scan": "SELECT c.partitionKey FROM c",
    "distinct": "SELECT DISTINCT c.partitionKey FROM c",
    "value": "SELECT DISTINCT VALUE c.partitionKey FROM c",
}


def document(n: int, p: int) -> dict:
    return envelope("bench-app", f"k{n:07d}", f"tenant-{p:03d}", {"n": n, "note": f"item {n}"})


def proc_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class SqlRecorder:
    """The SQL texts sent through azure.cosmos.aio's ContainerProxy.query_items while installed."""

    def __init__(self) -> None:
        from azure.cosmos.aio import ContainerProxy

        self.sent: list[str] = []
        self._cls, self._original = ContainerProxy, ContainerProxy.query_items
        original, sent = self._original, self.sent

        def recording(proxy, query, *a, **kw):
            sent.append(query)
            return original(proxy, query, *a, **kw)

        ContainerProxy.query_items = recording

    def remove(self) -> None:
        self._cls.query_items = self._original


async def bench(args) -> None:
    from azure.cosmos import PartitionKey

    from explorer.backends.cosmos.connection import async_client
    from explorer.backends.cosmos.lister import CosmosLister
    from explorer.localstack.manager import LocalStack

    steps = [int(s) for s in args.steps.split(",")]
    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows: list[tuple[str, str, str]] = []
    notes: list[str] = []
    deadline = time.monotonic() + args.seed_budget
    with LocalStack(app_ids=()) as stack:
        cosmos = stack.cosmos
        server_pid = stack._server.pid  # noqa: SLF001 - the server's memory is part of the story
        async with async_client(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as client:
            database = await client.create_database_if_not_exists(DATABASE)
            container = await database.create_container_if_not_exists(CONTAINER, PartitionKey(path="/partitionKey"))
            async with CosmosLister(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as lister:
                have = 0
                for target in steps:
                    seconds, written = await seed(container, target, args.partitions, document, args.concurrency,
                                                  progress_printer(target - have), start=have, deadline=deadline)
                    have = next(iter([n async for n in container.query_items("SELECT VALUE COUNT(1) FROM c")]))
                    notes.append(f"seeded {written:,} items in {seconds:.0f} s ({written / max(seconds, 1e-9):,.0f} "
                                 f"items/s, {args.concurrency} batches of 100 in flight): {have:,} items; server VmRSS "
                                 f"{proc_rss_mb(server_pid):,.0f} MB")
                    first = await container.read_item("bench-app||k0000000", partition_key="tenant-000")
                    recorder = SqlRecorder()
                    ways = {"lister": lambda: lister_scan(lister),
                            **{name: (lambda sql=sql, value=name == "value": sdk_pages(container, sql, value))
                               for name, sql in QUERIES.items()}}
                    measured: dict[str, dict] = {}
                    try:
                        for name, way in ways.items():
                            for state in ("after a write", "warm"):
                                if state == "after a write":
                                    await container.upsert_item({k: v for k, v in first.items() if not k.startswith("_")})
                                recorder.sent.clear()
                                started = time.perf_counter()
                                got, pages, found = await way()
                                took = time.perf_counter() - started
                                measured.setdefault(name, {"sql": recorder.sent[0] if recorder.sent else "?"})
                                measured[name] |= {"rows": got, "pages": pages, "found": found, state: took}
                    finally:
                        recorder.remove()
                    for name, m in measured.items():
                        label = "lister.partitions (the product)" if name == "lister" else f"bare SDK {name}"
                        ok = "" if m["found"] == args.partitions else f" (found {m['found']}!)"
                        rows.append((f"{have:,} items / {args.partitions} partitions: {label}",
                                     f"{m['rows']:,} rows in {m['pages']:,} page(s){ok}; {m['after a write']:.2f} s after a "
                                     f"write, {m['warm']:.2f} s warm; {m['sql']}", ""))
                    if have < target:
                        notes.append(f"the seeding budget ({args.seed_budget:.0f} s) ran out at {have:,} items of "
                                     f"{target:,}: the last size is what fitted")
                        break
                    print(f"measured at {have:,} items", flush=True)
    print_report(rows, notes, load_at_start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="100000,1000000", help="container sizes, comma-separated, ascending")
    parser.add_argument("--partitions", type=int, default=100)
    parser.add_argument("--seed-budget", type=float, default=300.0, help="seconds of seeding in all")
    parser.add_argument("--concurrency", type=int, default=16)
    asyncio.run(bench(smoke_args(parser, steps="200,400", partitions=10, seed_budget=60.0, concurrency=4)))


if __name__ == "__main__":
    main()
