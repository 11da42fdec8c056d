"""The local server's query pages after the page-cache and partition-index fixes in
stack/cosmos/server.js: every item comes back exactly once across continuation pages,
and a write is seen by the next query — the same query text included, whose evaluated
rows the server would otherwise reuse. Real server over HTTPS, real SDK; own container."""

from __future__ import annotations

import pytest
from azure.cosmos import PartitionKey

from explorer.backends.cosmos.lister import CosmosLister

pytestmark = pytest.mark.integration

DATABASE, CONTAINER = "paging-test", "items"
BIG = "big"  # one partition of 600 items: several pages of keys
SMALL = [f"p{n}" for n in range(1, 10)]  # nine of 40 items each


def doc_id(partition: str, n: int) -> str:
    return f"app||{partition}:{n:04d}"


@pytest.fixture(scope="module")
def items(cosmos):
    database = cosmos.create_database_if_not_exists(DATABASE)
    container = database.create_container_if_not_exists(id=CONTAINER, partition_key=PartitionKey(path="/partitionKey"))
    for partition, count in [(BIG, 600)] + [(p, 40) for p in SMALL]:
        for n in range(count):
            container.upsert_item({"id": doc_id(partition, n), "partitionKey": partition, "rank": (n * 37) % 11})
    yield container
    cosmos.delete_database(DATABASE)


def expected(partitions) -> set[str]:
    return {doc_id(p, n) for p in partitions for n in range(600 if p == BIG else 40)}


def paged_ids(container, query, page_size, **kwargs) -> tuple[list[str], int]:
    ids, pages = [], 0
    for page in container.query_items(query, max_item_count=page_size, **kwargs).by_page():
        pages += 1
        ids.extend(item["id"] for item in page)
    return ids, pages


@pytest.mark.parametrize("page_size", [7, 100, 1000])
def test_cross_partition_pages_return_every_item_once(items, page_size):
    for _ in range(2):  # the second run is served from the server's cached rows
        ids, pages = paged_ids(items, "SELECT c.id FROM c", page_size, enable_cross_partition_query=True)
        assert len(ids) == len(set(ids)) == 960
        assert set(ids) == expected([BIG, *SMALL])
        assert pages == -(-960 // page_size)


def test_order_by_pages_return_every_item_once_in_order(items):
    rows = [
        (item["rank"], item["id"])
        for item in items.query_items(
            "SELECT c.id, c.rank FROM c ORDER BY c.rank DESC", max_item_count=50, enable_cross_partition_query=True
        )
    ]
    assert len(rows) == len({i for _, i in rows}) == 960
    assert [r for r, _ in rows] == sorted((r for r, _ in rows), reverse=True)


def test_one_partition_by_header_equals_the_cross_partition_filter(items):
    query, params = "SELECT c.id FROM c WHERE c.partitionKey = @pk", [{"name": "@pk", "value": BIG}]
    by_header, pages = paged_ids(items, query, 64, parameters=params, partition_key=BIG)
    cross, _ = paged_ids(items, query, 64, parameters=params, enable_cross_partition_query=True)
    assert by_header == cross and len(by_header) == len(set(by_header)) == 600 and pages == 10
    assert set(by_header) == expected([BIG])


async def test_lister_pages_every_key_once_and_finds_every_partition(stack, items):
    cosmos = stack.cosmos
    async with CosmosLister(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as lister:
        keys = [row.id async for row in lister.iter_keys(DATABASE, CONTAINER, BIG, page_size=100)]
        found = [p async for batch in lister.partitions(DATABASE, CONTAINER, page_size=50) for p in batch.partitions]
    assert len(keys) == len(set(keys)) == 600 and set(keys) == expected([BIG])
    assert sorted(found) == sorted([BIG, *SMALL])


async def test_writes_between_pages_and_queries_show_in_the_next_query(stack, items):
    cosmos = stack.cosmos
    async with CosmosLister(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as lister:
        first = await lister.keys_page(DATABASE, CONTAINER, BIG, page_size=100)
        again = await lister.keys_page(DATABASE, CONTAINER, BIG, page_size=100)  # cached rows, same page
        assert [r.id for r in again.rows] == [r.id for r in first.rows] and again.continuation == first.continuation

        # between pages: one item added, one deleted that the first page did not return, one replaced
        seen = {r.id for r in first.rows}
        gone = next(i for i in sorted(expected([BIG])) if i not in seen)
        added = doc_id(BIG, 9999)
        items.upsert_item({"id": added, "partitionKey": BIG, "rank": 0})
        items.delete_item(gone, partition_key=BIG)
        replaced = first.rows[0].id
        items.upsert_item({"id": replaced, "partitionKey": BIG, "rank": 99})
        # a new partition, for the partition scan
        items.upsert_item({"id": "app||fresh:0001", "partitionKey": "fresh", "rank": 1})

        # the old token still pages on over the changed partition: nothing twice, the deleted item never
        rest, token = [], first.continuation
        while token:
            page = await lister.keys_page(DATABASE, CONTAINER, BIG, token, page_size=100)
            rest.extend(r.id for r in page.rows)
            token = page.continuation
        assert gone not in rest and len(rest) == len(set(rest)) and not (set(rest) & (seen - {replaced}))

        # a fresh query with the same text sees every write
        now = [r async for r in lister.iter_keys(DATABASE, CONTAINER, BIG, page_size=100)]
        ids = [r.id for r in now]
        assert len(ids) == len(set(ids)) == 600
        assert set(ids) == (expected([BIG]) - {gone}) | {added}
        assert next(r for r in now if r.id == replaced).etag != first.rows[0].etag

        found = [p async for batch in lister.partitions(DATABASE, CONTAINER, page_size=50) for p in batch.partitions]
        assert "fresh" in found and len(found) == len(set(found)) == 11

        # each kind of write alone, between two runs of the same query
        async def big_ids():
            return [r.id async for r in lister.iter_keys(DATABASE, CONTAINER, BIG, page_size=100)]

        created = doc_id(BIG, 8888)
        items.create_item({"id": created, "partitionKey": BIG, "rank": 2})
        assert created in await big_ids()
        items.delete_item(created, partition_key=BIG)
        assert created not in await big_ids()
        items.replace_item(added, {"id": added, "partitionKey": BIG, "rank": 3, "note": "replaced"})
        page = await lister.keys_page(DATABASE, CONTAINER, BIG, page_size=1000)
        assert len(page.rows) == 600 and next(r for r in page.rows if r.id == added).etag != next(
            r for r in now if r.id == added).etag

    # and the cross-partition query text run before the writes
    ids, _ = paged_ids(items, "SELECT c.id FROM c", 100, enable_cross_partition_query=True)
    assert len(ids) == len(set(ids)) == 961 and added in ids and gone not in ids
