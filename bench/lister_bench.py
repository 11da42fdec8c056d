"""Benchmark of the Cosmos lister against the bare azure-cosmos SDK, side by side in one run.

Starts its own local stack, seeds --keys bench keys over --partitions partitions through
daprd (explorer.localstack.seed, as `dapr-explorer stack --scale K --partitions P` does),
then measures, lister and bare SDK alternating (each round reverses the order), medians over
the repeats, plus the median of the per-round lister/bare ratios (steadier when the load of
the shared machine drifts during a run):

  1. first page: CosmosLister.keys_page (100 keys at most) of --partition vs the bare SDK's
     same query (same SQL, same partition key, max_item_count=100, first page only). With the
     default seed every partition holds 10 keys; `--partitions 1` puts all keys in one, so the
     page is a full 100;
  2. partition discovery (skipped with --scan-repeat 0): time to the first batch of partitions
     and the whole scan, CosmosLister.partitions vs the bare SDK streaming
     `SELECT c.partitionKey FROM c` in pages of 1,000 into a set; twice: with the server's rows
     for that query cached ("warm", like Cosmos DB, where a page costs about the page) and right
     after a write ("after a write": one item of --partition written back unchanged with the
     SDK, so the local server evaluates the query over the whole container once —
     docs/local-stack.md; a cost of this server that both sides pay);
  3. memory: RSS of this process after the first page, and after streaming every key of every
     partition through CosmosLister.iter_keys (skipped with --skip-memory).

What "bare SDK" means here. The lister is azure-cosmos plus our code; the baseline is the same
azure-cosmos client without our code: `explorer.backends.cosmos.connection.async_client`, i.e.
`azure.cosmos.aio.CosmosClient` with TLS verified against the stack's CA, the settings every
client of the explorer uses. Plain `CosmosClient(url, key, connection_verify=<CA file>)` is NOT a
verified client on this stack: the SDK turns verification off for hosts named localhost or
127.0.0.1 unless an `ssl_config` is given (measured: aiohttp is handed `ssl=False`), and with
an `ssl_config` plain azure-core fails ("certfile should be a valid filesystem path", its empty
client-certificate pair) — cosmos_connect's transport exists for exactly that. So the fair
baseline is that client; the SDK's own defaults (`CosmosClient(url, credential=key)`, TLS
unverified on loopback) are timed too, on the first page, and printed for reference.

Usage:
  .venv/bin/python bench/lister_bench.py                                    # 100,000 keys over 10,000 partitions
  .venv/bin/python bench/lister_bench.py --partitions 1                     # one partition of 100,000 keys
  .venv/bin/python bench/lister_bench.py --smoke                            # 200 keys, one round: seconds
Never a test: the machines are shared and noisy; quote the medians and ratios it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.smoke import smoke_args  # noqa: E402

KEY_SQL = "SELECT c.id, c.partitionKey, c._etag, c._ts, c.ttl, c.isBinary FROM c WHERE c.partitionKey = @pk"
DATABASE, CONTAINER = "dapr-agents", "agent-registry"


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


async def bare_first_page(container, partition: str) -> int:
    pages = container.query_items(
        KEY_SQL, parameters=[{"name": "@pk", "value": partition}], partition_key=partition, max_item_count=100
    ).by_page()
    async for page in pages:
        return len([item async for item in page])
    return 0


async def bare_scan(container) -> tuple[float, float, int]:
    """(seconds to the first page, seconds for the whole scan, distinct partitions)"""
    started = time.perf_counter()
    first = None
    seen: set[str] = set()
    async for page in container.query_items("SELECT c.partitionKey FROM c", max_item_count=1000).by_page():
        async for item in page:
            pk = item.get("partitionKey")
            if pk is not None:
                seen.add(str(pk))
        if first is None:
            first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, len(seen)


async def lister_scan(lister) -> tuple[float, float, int]:
    started = time.perf_counter()
    first = None
    total = 0
    async for batch in lister.partitions(DATABASE, CONTAINER):
        total = batch.total_partitions
        if first is None:
            first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, total


def touch(stack, partition: str) -> None:
    """Write one item back unchanged (new _etag/_ts only): the server drops its cached query rows."""
    container = stack.cosmos_client().get_database_client(DATABASE).get_container_client(CONTAINER)
    item = next(iter(container.query_items(
        "SELECT * FROM c WHERE c.partitionKey = @pk", parameters=[{"name": "@pk", "value": partition}],
        partition_key=partition, max_item_count=1,
    )))
    container.upsert_item({k: v for k, v in item.items() if k not in ("_rid", "_self", "_etag", "_ts", "_attachments")})


async def bench(args) -> None:
    from azure.cosmos.aio import CosmosClient

    from explorer.backends.cosmos.connection import async_client
    from explorer.backends.cosmos.lister import CosmosLister
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import seed

    with LocalStack(app_ids=("agent-registry", "chat-api", "order-processor")) as stack:
        started = time.perf_counter()
        await seed(stack, args.keys, args.partitions)
        print(f"seeded {args.keys:,} keys over {args.partitions:,} partitions in {time.perf_counter() - started:.1f} s")
        url, key, ca = stack.cosmos.url, stack.cosmos.master_key, str(stack.cosmos.ca_file)
        pk = args.partition

        async with CosmosLister(url, key, ca) as lister:
            bare_client = async_client(url, key, ca)
            sdk_defaults = CosmosClient(url, credential=key)  # TLS unverified on loopback: reference only
            bare = bare_client.get_database_client(DATABASE).get_container_client(CONTAINER)
            plain = sdk_defaults.get_database_client(DATABASE).get_container_client(CONTAINER)
            try:
                # 1. first page
                await bare_first_page(bare, pk), await bare_first_page(plain, pk), await lister.keys_page(DATABASE, CONTAINER, pk)
                times: dict[str, list[float]] = {"lister": [], "bare": [], "plain": []}
                runs = {
                    "lister": lambda: lister.keys_page(DATABASE, CONTAINER, pk),
                    "bare": lambda: bare_first_page(bare, pk),
                    "plain": lambda: bare_first_page(plain, pk),
                }
                for i in range(args.repeat):
                    for name in list(runs)[:: 1 if i % 2 else -1]:  # alternate the order: no side always goes first
                        t = time.perf_counter()
                        await runs[name]()
                        times[name].append(time.perf_counter() - t)
                rows = len((await lister.keys_page(DATABASE, CONTAINER, pk)).rows)
                lister_times, bare_times, plain_times = times["lister"], times["bare"], times["plain"]
                lm, bm, pm = median_ms(lister_times), median_ms(bare_times), median_ms(plain_times)
                paired = statistics.median(lt / bt for lt, bt in zip(lister_times, bare_times))
                print(f"first page of {pk} ({rows} keys), median of {args.repeat}: lister {lm:.2f} ms, bare SDK {bm:.2f} ms, "
                      f"ratio {lm / bm:.2f} (median of per-round ratios {paired:.2f}); "
                      f"SDK defaults (TLS unverified) {pm:.2f} ms")

                # 2. partition discovery
                for label, cold in (("warm", False), ("after a write", True)) if args.scan_repeat else ():
                    if not cold:
                        await lister_scan(lister)  # the server's rows for this query are now cached
                    firsts_l, firsts_b, scans_l, scans_b = [], [], [], []
                    found = found_b = 0
                    for i in range(args.scan_repeat):
                        for side in ("lister", "bare")[:: 1 if i % 2 else -1]:
                            if cold:
                                touch(stack, pk)
                            if side == "lister":
                                first, whole, found = await lister_scan(lister)
                                firsts_l.append(first), scans_l.append(whole)
                            else:
                                first, whole, found_b = await bare_scan(bare)
                                firsts_b.append(first), scans_b.append(whole)
                    assert found_b == found, (found_b, found)
                    sl, sb = statistics.median(scans_l), statistics.median(scans_b)
                    paired = statistics.median(lt / bt for lt, bt in zip(scans_l, scans_b))
                    print(f"partition discovery ({label}), {found:,} partitions, median of {args.scan_repeat}: first partitions "
                          f"after lister {median_ms(firsts_l):.0f} ms / bare SDK {median_ms(firsts_b):.0f} ms; "
                          f"whole scan lister {sl:.2f} s, bare SDK {sb:.2f} s, ratio {sl / sb:.2f} "
                          f"(median of per-round ratios {paired:.2f})")

                # 3. memory
                if not args.skip_memory:
                    await lister.keys_page(DATABASE, CONTAINER, pk)
                    after_first = rss_mb()
                    count = partitions = 0
                    started = time.perf_counter()
                    async for batch in lister.partitions(DATABASE, CONTAINER):
                        for part in batch.partitions:
                            partitions += 1
                            async for _row in lister.iter_keys(DATABASE, CONTAINER, part):
                                count += 1
                    after_all = rss_mb()
                    print(f"memory: RSS {after_first:.1f} MB after the first page, {after_all:.1f} MB after streaming "
                          f"{count:,} keys of {partitions:,} partitions in {time.perf_counter() - started:.1f} s; "
                          f"growth {after_all - after_first:+.1f} MB (limit +50 MB)")
            finally:
                await bare_client.close()
                await sdk_defaults.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=10_000)
    parser.add_argument("--partition", default="tenant-00000", help="the partition whose first page is timed")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--scan-repeat", type=int, default=5)
    parser.add_argument("--skip-memory", action="store_true")
    asyncio.run(bench(smoke_args(parser, keys=200, partitions=20, repeat=1, scan_repeat=1)))


if __name__ == "__main__":
    main()
