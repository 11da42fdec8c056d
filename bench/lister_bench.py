"""Benchmark of the Cosmos lister against the bare azure-cosmos SDK, side by side in one run.

Starts its own local stack, seeds --keys bench keys over --partitions partitions
through daprd, then measures (medians over --repeat runs):
  1. first page (100 keys) of a partition: CosmosLister.keys_page vs the bare SDK's same query;
  2. partition discovery: time to the first batch, and the whole scan, lister vs bare SDK;
  3. memory: RSS after the first page vs after streaming every key of every partition
     through CosmosLister.iter_keys (skipped with --skip-memory).

Usage: .venv/bin/python bench/lister_bench.py [--keys 100000] [--partitions 10000] [--repeat 5]
Never a test: the machines are shared and noisy; quote the medians and ratios it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import time


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(args) -> None:
    from explorer.cosmos_connect import async_client
    from explorer.cosmos_lister import CosmosLister
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import seed

    with LocalStack(app_ids=("agent-registry", "chat-api", "order-processor")) as stack:
        started = time.perf_counter()
        await seed(stack, args.keys, args.partitions)
        print(f"seeded {args.keys:,} keys over {args.partitions:,} partitions in {time.perf_counter() - started:.1f}s")
        url, key, ca = stack.cosmos.url, stack.cosmos.master_key, str(stack.cosmos.ca_file)
        db, coll, pk = "dapr-agents", "agent-registry", "tenant-00000"

        async with CosmosLister(url, key, ca) as lister:
            bare_client = async_client(url, key, ca)
            bare = bare_client.get_database_client(db).get_container_client(coll)

            async def bare_first_page():
                pages = bare.query_items(
                    "SELECT c.id, c.partitionKey, c._etag, c._ts, c.ttl, c.isBinary FROM c WHERE c.partitionKey = @pk",
                    parameters=[{"name": "@pk", "value": pk}], partition_key=pk, max_item_count=100,
                ).by_page()
                async for page in pages:
                    return [item async for item in page]

            lister_times, bare_times = [], []
            for _ in range(args.repeat):
                t = time.perf_counter()
                await bare_first_page()
                bare_times.append(time.perf_counter() - t)
                t = time.perf_counter()
                await lister.keys_page(db, coll, pk)
                lister_times.append(time.perf_counter() - t)
            lm, bm = statistics.median(lister_times), statistics.median(bare_times)
            print(f"first page (100 keys): lister median {lm * 1000:.1f} ms, bare SDK {bm * 1000:.1f} ms, ratio {lm / bm:.2f}")

            first_batch, scan_l, scan_b = [], [], []
            for _ in range(args.scan_repeat):
                t = time.perf_counter()
                got_first = None
                async for batch in lister.partitions(db, coll):
                    if got_first is None:
                        got_first = time.perf_counter() - t
                first_batch.append(got_first)
                scan_l.append(time.perf_counter() - t)
                t = time.perf_counter()
                seen = set()
                async for page in bare.query_items("SELECT c.partitionKey FROM c", max_item_count=1000).by_page():
                    async for item in page:
                        seen.add(item.get("partitionKey"))
                scan_b.append(time.perf_counter() - t)
            sl, sb = statistics.median(scan_l), statistics.median(scan_b)
            print(f"partition discovery: first partitions after {statistics.median(first_batch) * 1000:.0f} ms (median); "
                  f"whole scan lister {sl:.2f} s, bare SDK {sb:.2f} s, ratio {sl / sb:.2f}")

            if not args.skip_memory:
                await lister.keys_page(db, coll, pk)
                after_first = rss_mb()
                count = 0
                async for batch in lister.partitions(db, coll):
                    for part in batch.partitions:
                        async for _row in lister.iter_keys(db, coll, part):
                            count += 1
                after_all = rss_mb()
                print(f"memory: RSS {after_first:.1f} MB after the first page, {after_all:.1f} MB after streaming "
                      f"{count:,} keys; growth {after_all - after_first:.1f} MB")
            await bare_client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--scan-repeat", type=int, default=3)
    parser.add_argument("--skip-memory", action="store_true")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
