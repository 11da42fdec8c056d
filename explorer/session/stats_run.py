"""The stats engine: each partition's figures as they arrive, partitions discovered and figured at once.

What it is for: the session's `stats` (the `stats` command and the TUI's stats view). Partitions are
discovered by DISTINCT and each one's figures asked for by `concurrency` single-partition queries at a
time while discovery goes on, all through the store's lister (low priority, paced by its RU budget).
What it must never do: write, hold more than a page of partitions and the figures not yet taken, or
leave a query running once its caller stops.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

from explorer.backends.base import PartitionLister
from explorer.core.model import StoreLocation
from explorer.core.stats import PartitionStats, StatsProgress

#: Partitions whose figures are asked for at once by `stats` (each a single-partition query, low priority).
STATS_CONCURRENCY = 4


async def stats_run(lister: PartitionLister, location: StoreLocation, on_progress: Callable[[StatsProgress], None] | None = None,
                    concurrency: int = STATS_CONCURRENCY, now: float | None = None) -> AsyncIterator[PartitionStats]:
    """Each partition's figures (explorer.core.stats) through `lister` (the store's backend lister), as
    they arrive. `on_progress` hears after every discovery page and every partition. Expiries are
    bucketed against one instant (`now`, default the start). Stop by leaving the loop (or cancelling
    the worker): every query under way is cancelled. The first error ends the run and is raised."""
    now = time.time() if now is None else now
    todo: asyncio.Queue = asyncio.Queue()
    results: asyncio.Queue = asyncio.Queue()
    finished = object()
    state = {"found": 0, "done": 0, "over": False, "charge": 0.0}

    def report() -> None:
        if on_progress is not None:
            on_progress(StatsProgress(state["found"], state["done"], state["over"], state["charge"]))

    async def discover() -> None:
        try:
            async for batch in lister.partitions(location.database, location.container):
                state["charge"] += batch.request_charge
                state["found"] = batch.total_partitions
                for pk in batch.partitions:
                    todo.put_nowait(pk)
                report()
            state["over"] = True
            report()
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            results.put_nowait(exc)
        finally:
            for _ in range(concurrency):
                todo.put_nowait(finished)

    async def figures() -> None:
        try:
            while (pk := await todo.get()) is not finished:
                results.put_nowait(await lister.partition_figures(
                    location.database, location.container, pk, location.default_ttl, now))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            results.put_nowait(exc)
        finally:
            results.put_nowait(finished)

    tasks = [asyncio.create_task(discover())] + [asyncio.create_task(figures()) for _ in range(concurrency)]
    try:
        running = concurrency
        while running:
            item = await results.get()
            if item is finished:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                state["done"] += 1
                state["charge"] += item.request_charge
                report()
                yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
