"""ExplorerSession.stats over a FAKE lister (no server): every discovered partition's figures
arrive once, while discovery goes on; progress adds up; the first error ends the run; leaving the
loop cancels the queries under way. The real queries are in tests/integration/test_stats.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from explorer.core.envelope import KeyPrefix
from explorer.core.model import StoreLocation
from explorer.core.stats import PartitionStats
from explorer.core.listing import PartitionBatch
from explorer.errors import CosmosError
from explorer.session.explorer_session import ExplorerSession

LOCATION = StoreLocation("s", "db", "coll", KeyPrefix.from_metadata(None), -1)


class FakeLister:
    def __init__(self, pages: list[list[str]], fail_on: str | None = None, slow: float = 0.0):
        self.pages, self.fail_on, self.slow = pages, fail_on, slow
        self.asked: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.cancelled = 0

    async def partitions(self, database, container):
        seen = 0
        for page in self.pages:
            await asyncio.sleep(0)
            seen += len(page)
            yield PartitionBatch(tuple(page), seen, seen, 1.0)

    async def partition_figures(self, database, container, partition, default_ttl, now):
        self.asked.append(partition)
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        try:
            await asyncio.sleep(self.slow)
            if partition == self.fail_on:
                raise CosmosError(f"reading a partition's figures failed: {partition}")
            return PartitionStats(partition, len(partition), 10, 1, 2, (0, 0, 0, 0, len(partition)), 2.0)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.running -= 1


def session_on(lister) -> ExplorerSession:
    return ExplorerSession(SimpleNamespace(lister=lambda store: lister))


def test_every_partition_arrives_once_and_progress_adds_up():
    lister = FakeLister([[f"p{i}" for i in range(5)], [f"q{i}" for i in range(5)], []], slow=0.001)
    seen = []

    async def run():
        return [s async for s in session_on(lister).stats(LOCATION, seen.append, concurrency=3)]

    got = asyncio.run(run())
    assert sorted(s.partition for s in got) == sorted(lister.asked) == sorted([f"p{i}" for i in range(5)] + [f"q{i}" for i in range(5)])
    assert 1 < lister.most_at_once <= 3
    last = seen[-1]
    assert last.finished and last.done == last.discovered == 10
    assert last.request_charge == 3 * 1.0 + 10 * 2.0  # the discovery pages and every partition's queries


def test_the_first_error_ends_the_run_with_its_line():
    lister = FakeLister([["a", "bad", "c"]], fail_on="bad")

    async def run():
        return [s async for s in session_on(lister).stats(LOCATION)]

    with pytest.raises(CosmosError, match="bad"):
        asyncio.run(run())


def test_leaving_the_loop_cancels_the_queries_under_way():
    lister = FakeLister([[f"p{i}" for i in range(40)]], slow=0.05)

    async def run():
        stream = session_on(lister).stats(LOCATION, concurrency=4)
        async for _ in stream:
            break
        await stream.aclose()
        await asyncio.sleep(0.1)

    asyncio.run(run())
    assert lister.cancelled >= 1 and lister.running == 0
    assert len(lister.asked) < 40
