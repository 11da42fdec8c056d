"""Shared parts of the many-keys benches (issue 13): load — Dapr-shaped documents written straight
into a container of the local server with the azure-cosmos async SDK, in transactional batches of 100
per partition — and a profile of a call, to say where its time goes.

What it is for: putting 100,000 or 1,000,000 items into a container fast, as daprd's Cosmos DB
store would have left them — `id` "<app>||<key>", `partitionKey`, `value` (a JSON object), `isBinary`
false — so the search and discovery benches measure reading, not Dapr's writes. Bulk deletes
(bench/bulk_delete_bench.py) write their keys through daprd instead.

What it must never do: run against anything but a local stack's server (it upserts blindly), or be
imported by the product.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

BATCH = 100  # the most operations a Cosmos DB transactional batch takes


def envelope(app: str, key: str, partition: str, value: dict[str, Any]) -> dict[str, Any]:
    """A document as daprd's Cosmos DB store writes a JSON value (no TTL)."""
    return {"id": f"{app}||{key}", "partitionKey": partition, "value": value, "isBinary": False}


async def seed(container, items: int, partitions: int, document: Callable[[int, int], dict[str, Any]],
               concurrency: int = 16, progress: Callable[[int, float], None] | None = None, start: int = 0,
               deadline: float | None = None) -> tuple[float, int]:
    """Write items `start`..`items`-1 over `partitions` partitions, item n in partition n % partitions
    (so a property that follows n is spread over every partition); `document(n, p)` makes item n of
    partition p. Batches of 100 per partition, `concurrency` in flight; no batch is started after
    `deadline` (time.monotonic()). Returns (seconds taken, items written)."""
    started = time.perf_counter()
    gate = asyncio.Semaphore(concurrency)
    done = [0]

    async def partition(p: int) -> None:
        numbers = range(start + (p - start) % partitions, items, partitions)
        for first in range(0, len(numbers), BATCH):
            docs = [document(n, p) for n in numbers[first:first + BATCH]]
            async with gate:
                if deadline is not None and time.monotonic() > deadline:
                    return
                await container.execute_item_batch([("upsert", (d,)) for d in docs], partition_key=docs[0]["partitionKey"])
            done[0] += len(docs)
            if progress is not None:
                progress(done[0], time.perf_counter() - started)

    # Partitions are taken a window at a time so a million items never sit in memory as coroutines' lists.
    window = max(concurrency * 4, 1)
    for first in range(0, partitions, window):
        await asyncio.gather(*(partition(p) for p in range(first, min(first + window, partitions))))
    return time.perf_counter() - started, done[0]


def progress_printer(total: int, every: float = 10.0) -> Callable[[int, float], None]:
    """A progress callback printing items written and the rate at most every `every` seconds."""
    last = [0.0]

    def show(done: int, seconds: float) -> None:
        if seconds - last[0] >= every or done == total:
            last[0] = seconds
            print(f"  seeded {done:,}/{total:,} in {seconds:.0f} s ({done / max(seconds, 1e-9):,.0f} items/s)", flush=True)

    return show


async def profile(call: Callable[[], Awaitable[Any]], runs: int, what: str, top: int = 12) -> list[str]:
    """`runs` awaits of `call()` under cProfile: lines naming the functions with the most time of their
    own, per run (cProfile slows Python code down, so quote shares, not times)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(runs):
        await call()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in stats.values())
    ranked = sorted(stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    return [f"profile ({runs} x {what}, under cProfile): {total * 1000 / runs:.1f} ms of own time a run"] + [
        f"  {tt * 1000 / runs:7.2f} ms own ({tt / total:4.0%}), {ct * 1000 / runs:8.2f} ms cumulative, {nc // runs:>6} calls: "
        f"{Path(file).name}:{line} {func}" for (file, line, func), (_, nc, tt, ct, _) in ranked]
