"""The lister's answer to 429s and its pacing, on a FAKE container (no server, no I/O): pages asked
again from the same continuation, on_throttle told each wait, the wait capped, every call low
priority, scans paced by the budget. The real server's 429s are in tests/integration/test_gentle.py."""

from __future__ import annotations

import asyncio
import base64

import pytest
from azure.cosmos.exceptions import CosmosHttpResponseError

from explorer.core.ru_budget import RuBudget
from explorer.backends.cosmos.lister import MAX_THROTTLED_SECONDS, CosmosLister
from explorer.errors import CosmosError

KEY = base64.b64encode(b"k" * 64).decode()


def throttled(retry_after_ms: str | None = "250") -> CosmosHttpResponseError:
    exc = CosmosHttpResponseError(status_code=429, message="Request rate is large.")
    exc.headers = {"x-ms-retry-after-ms": retry_after_ms} if retry_after_ms is not None else {}
    return exc


class FakeContainer:
    """Pages of items behind continuation tokens 't1', 't2', …; `refuse[token]` 429s for that page
    (a count, or -1: always). Every call's keyword arguments are kept in `calls`."""

    def __init__(self, pages: list[list[dict]], charge: float = 3.0, refuse: dict | None = None,
                 retry_after_ms: str | None = "250"):
        self.pages, self.charge, self.refuse, self.retry_after_ms = pages, charge, dict(refuse or {}), retry_after_ms
        self.calls: list[tuple[str, dict]] = []
        self.asked: list[str | None] = []  # the token each page fetch started from

    def _refused(self, token) -> bool:
        left = self.refuse.get(token, 0)
        if left:
            self.refuse[token] = left - 1 if left > 0 else left
            return True
        return False

    def query_items(self, sql, **kwargs):
        self.calls.append(("query_items", kwargs))
        return FakeQuery(self, kwargs.get("response_hook"))

    async def read_item(self, item_id, **kwargs):
        self.calls.append(("read_item", kwargs))
        if self._refused(("read", item_id)):
            raise throttled(self.retry_after_ms)
        kwargs["response_hook"]({"x-ms-request-charge": "1"}, None)
        return {"id": item_id}

    async def read(self, **kwargs):
        self.calls.append(("read", kwargs))
        if self._refused("container"):
            raise throttled(self.retry_after_ms)
        kwargs["response_hook"]({"x-ms-request-charge": "1"}, None)
        return {"partitionKey": {"paths": ["/partitionKey"]}, "defaultTtl": None}


class FakeQuery:
    def __init__(self, container: FakeContainer, hook):
        self.container, self.hook = container, hook

    def by_page(self, token=None):
        return FakePager(self.container, self.hook, token)


class FakePager:
    def __init__(self, container: FakeContainer, hook, token):
        self.container, self.hook = container, hook
        self.index = 0 if token is None else int(token[1:])
        self.continuation_token = token

    def __aiter__(self):
        return self

    async def __anext__(self):
        if self.index >= len(self.container.pages):
            raise StopAsyncIteration
        token = None if self.index == 0 else f"t{self.index}"
        self.container.asked.append(token)
        if self.container._refused(token):
            raise throttled(self.container.retry_after_ms)
        items = self.container.pages[self.index]
        self.index += 1
        self.continuation_token = f"t{self.index}" if self.index < len(self.container.pages) else None
        self.hook({"x-ms-request-charge": str(self.container.charge)}, items)
        return _aiter(items)


async def _aiter(items):
    for item in items:
        yield item


def lister_on(fake: FakeContainer, budget: RuBudget | None = None, now: list[float] | None = None):
    """A real CosmosLister (its client never connects) whose container is the fake, and whose sleeps
    are recorded instead of slept (moving the fake clock `now`, if given, by as much)."""
    waits: list[float] = []
    slept: list[float] = []
    lister = CosmosLister("https://127.0.0.1:9/", KEY, budget=budget, on_throttle=waits.append)
    lister._container = lambda database, container: fake

    async def sleep(seconds):
        slept.append(seconds)
        if now is not None:
            now[0] += seconds

    lister._sleep = sleep
    return lister, waits, slept


def partition_pages(n_pages: int, per_page: int = 3) -> list[list[dict]]:
    return [[{"id": f"app||k{page}-{i}", "partitionKey": f"p{page}-{i}"} for i in range(per_page)] for page in range(n_pages)]


async def _scan(lister):
    found = []
    async for batch in lister.partitions("db", "coll"):
        found.extend(batch.partitions)
    await lister.close()
    return found


async def _documents(lister):
    found = [item["partitionKey"] async for item in lister.iter_documents("db", "coll", "p")]
    await lister.close()
    return found


def test_a_throttled_page_is_asked_again_from_the_same_continuation_and_nothing_is_lost():
    fake = FakeContainer(partition_pages(4), refuse={"t2": 2})
    lister, waits, slept = lister_on(fake)
    found = asyncio.run(_documents(lister))
    assert found == [f"p{page}-{i}" for page in range(4) for i in range(3)]  # each once, in order
    assert fake.asked == [None, "t1", "t2", "t2", "t2", "t3"]
    assert waits == [0.25, 0.25] and slept == [0.25, 0.25]
    assert lister.ru_spent == 4 * 3.0  # refused pages cost nothing
    assert lister.throttled_for() == 0


def test_a_throttled_discovery_starts_again_and_names_each_partition_once():
    """Cross-partition DISTINCT cannot resume a continuation on Cosmos DB (azure-cosmos README):
    the discovery asks again from the start, and the repeated rows add no partition twice."""
    fake = FakeContainer(partition_pages(4), refuse={"t2": 1})
    lister, waits, _ = lister_on(fake)
    found = asyncio.run(_scan(lister))
    assert found == [f"p{page}-{i}" for page in range(4) for i in range(3)]
    assert fake.asked == [None, "t1", "t2", None, "t1", "t2", "t3"]
    assert waits == [0.25]


def test_a_discovery_throttled_at_every_restart_still_gives_up_after_the_cap():
    fake = FakeContainer(partition_pages(3), refuse={"t1": -1}, retry_after_ms="100000")
    lister, waits, _ = lister_on(fake)
    with pytest.raises(CosmosError, match="429"):
        asyncio.run(_scan(lister))
    assert sum(waits) <= MAX_THROTTLED_SECONDS and len(waits) == 3


def test_the_first_page_throttled_starts_the_query_again():
    fake = FakeContainer(partition_pages(2), refuse={None: 1})
    lister, waits, _ = lister_on(fake)
    assert len(asyncio.run(_scan(lister))) == 6
    assert fake.asked == [None, None, "t1"] and waits == [0.25]


def test_every_call_is_low_priority():
    fake = FakeContainer(partition_pages(2))
    lister, _, _ = lister_on(fake)

    async def everything():
        await lister.container_info("db", "coll")
        await _scan(lister)
        await lister.keys_page("db", "coll", "p0-0")
        [d async for d in lister.iter_documents("db", "coll", "p0-0")]
        await lister.read_item("db", "coll", "app||k", "p0-0")
        await lister.read_item("db", "coll", "app||a/b", "p0-0")  # read by query
        await lister.items_with_id("db", "coll", "app||k")
        await lister.query_page("db", "coll", "SELECT * FROM c")
        await lister.item_with_ttl("db", "coll")
        await lister.workflow_state_sample("db", "coll")
        await lister.legacy_reminder_ids("db", "coll")

    asyncio.run(everything())
    kinds = {name for name, _ in fake.calls}
    assert kinds == {"read", "query_items", "read_item"}
    assert [kwargs.get("priority") for _, kwargs in fake.calls] == ["Low"] * len(fake.calls)


def test_a_point_read_and_the_container_read_wait_out_429s_too():
    fake = FakeContainer([], refuse={("read", "app||k"): 1, "container": 2}, retry_after_ms="1500")
    lister, waits, _ = lister_on(fake)

    async def reads():
        info = await lister.container_info("db", "coll")
        item = await lister.read_item("db", "coll", "app||k", "p")
        await lister.close()
        return info, item

    info, item = asyncio.run(reads())
    assert item == {"id": "app||k"} and info.partition_key_paths == ("/partitionKey",)
    assert waits == [1.5, 1.5, 1.5]


def test_a_429_without_retry_after_waits_a_second():
    fake = FakeContainer(partition_pages(1), refuse={None: 1}, retry_after_ms=None)
    lister, waits, _ = lister_on(fake)
    asyncio.run(_scan(lister))
    assert waits == [1.0]


def test_a_request_kept_waiting_too_long_fails_with_one_line():
    fake = FakeContainer(partition_pages(2), refuse={"t1": -1}, retry_after_ms="60000")
    lister, waits, _ = lister_on(fake)
    with pytest.raises(CosmosError) as caught:
        asyncio.run(_scan(lister))
    assert sum(waits) <= MAX_THROTTLED_SECONDS and len(waits) == int(MAX_THROTTLED_SECONDS // 60)
    assert "429" in str(caught.value) and "throttling" in str(caught.value) and "\n" not in str(caught.value)


def test_other_errors_are_not_retried():
    fake = FakeContainer(partition_pages(2))

    async def boom(**kwargs):
        raise CosmosHttpResponseError(status_code=503, message="unavailable")

    fake.read = boom
    lister, waits, _ = lister_on(fake)
    with pytest.raises(CosmosError, match="503"):
        asyncio.run(lister.container_info("db", "coll"))
    assert waits == []


def test_a_budget_paces_each_page_of_a_scan_by_the_charge_before_it():
    now = [0.0]
    budget = RuBudget(10, clock=lambda: now[0])  # 10 RU/s; each page costs 3 RU
    fake = FakeContainer(partition_pages(4), charge=3.0)
    lister, _, slept = lister_on(fake, budget, now)
    assert len(asyncio.run(_scan(lister))) == 12
    assert slept == pytest.approx([0.3, 0.3, 0.3])  # before pages 2, 3 and 4 (answers take no time here)
    assert budget.spent == lister.ru_spent == 12


def test_a_point_read_is_counted_but_never_paced():
    now = [0.0]
    budget = RuBudget(1, clock=lambda: now[0])
    fake = FakeContainer([])
    lister, _, slept = lister_on(fake, budget)

    async def reads():
        for _ in range(3):
            await lister.read_item("db", "coll", "app||k", "p")
        await lister.close()

    asyncio.run(reads())
    assert slept == [] and budget.spent == 3 and budget.wait() == pytest.approx(3.0)
