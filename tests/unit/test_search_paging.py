"""explorer.backends.cosmos.search's paging over a FAKE lister and a FAKE sidecar (pure logic: which pages are asked
for, what each answer holds, what Dapr's limit drops, stopping) — the local server answers Dapr's
queries in one page, so pages cut by Cosmos DB are exercised here; the real stack's answers are
tests/integration/test_search.py's."""

from __future__ import annotations

import asyncio

from explorer.core.display import short_value
from explorer.core.envelope import KeyPrefix
from explorer.core.model import StoreLocation
from explorer.core.query_answers import QueryAnswer
from explorer.core.state_query import CosmosQuery, parse_query, to_cosmos
from explorer.core.listing import QueryPage
from explorer.backends.cosmos.search import SearchHit, search_cosmos, search_dapr, search_sql

LOCATION = StoreLocation("store", "db", "coll", KeyPrefix.from_metadata(None))


def doc(n: int, **extra) -> dict:
    return {"id": f"app||k{n}", "value": {"n": n}, "isBinary": False, "partitionKey": "p", "_etag": f"e{n}", **extra}


class FakeLister:
    """Serves `pages` (lists of documents) in order, continuation tokens 't1', 't2', …"""

    def __init__(self, pages: list[list[dict]]):
        self.pages = pages
        self.calls: list[dict] = []

    async def query_page(self, database, container, sql, parameters=None, partition=None, continuation=None,
                         page_size=100, operation="query"):
        self.calls.append({"sql": sql, "parameters": parameters, "partition": partition,
                           "continuation": continuation, "page_size": page_size})
        index = int(continuation[1:]) if continuation else 0
        token = f"t{index + 1}" if index + 1 < len(self.pages) else None
        return QueryPage(tuple(self.pages[index]), token, 2.5)


def collect(pages) -> list:
    async def run():
        return [page async for page in pages]
    return asyncio.run(run())


def keys(page) -> list[str]:
    return [hit.key for hit in page.hits]


def test_without_a_limit_every_cosmos_page_streams_with_no_page_size():
    lister = FakeLister([[doc(1), doc(2)], [doc(3)], [doc(4)]])
    query = to_cosmos(parse_query('{"filter": {"EQ": {"s": "x"}}}'))
    pages = collect(search_cosmos(lister, LOCATION, query))
    assert [keys(p) for p in pages] == [["k1", "k2"], ["k3"], ["k4"]]
    assert [p.token for p in pages] == ["t1", "t2", ""] and all(p.request_charge == 2.5 for p in pages)
    assert all(c["page_size"] is None for c in lister.calls)  # daprd sends no page size hint
    assert lister.calls[0]["sql"] == query.sql and lister.calls[0]["parameters"] == query.parameter_list


def test_a_limit_fills_from_several_pages_and_counts_what_it_cuts():
    lister = FakeLister([[doc(1)], [doc(2), doc(3), doc(4)], [doc(5)]])
    query = to_cosmos(parse_query('{"page": {"limit": 2}}'))
    (page,) = collect(search_cosmos(lister, LOCATION, query, follow=False))
    assert keys(page) == ["k1", "k2"] and page.token == "t2" and page.skipped == 2 and page.request_charge == 5.0
    following = collect(search_cosmos(lister, LOCATION, query))  # the next answer starts after the page: k3, k4 lost
    assert [keys(p) for p in following] == [["k1", "k2"], ["k5"]]


def test_a_token_starts_there_and_a_partition_is_passed():
    lister = FakeLister([[doc(1)], [doc(2)]])
    query = to_cosmos(parse_query('{"page": {"limit": 5, "token": "t1"}}'))
    (page,) = collect(search_cosmos(lister, LOCATION, query, partition="p"))
    assert keys(page) == ["k2"] and page.token == "" and lister.calls[0]["continuation"] == "t1"
    assert lister.calls[0]["partition"] == "p"


def test_negative_limit_answers_nothing_like_dapr():
    lister = FakeLister([[doc(1), doc(2)], [doc(3)]])
    (page,) = collect(search_cosmos(lister, LOCATION, to_cosmos(parse_query('{"page": {"limit": -1}}')), follow=False))
    assert page.hits == () and page.token == "t1" and page.skipped == 2


def test_leaving_the_loop_asks_for_no_more_pages():
    lister = FakeLister([[doc(1)], [doc(2)], [doc(3)]])

    async def first():
        async for page in search_cosmos(lister, LOCATION, to_cosmos(parse_query("{}"))):
            return page

    assert keys(asyncio.run(first())) == ["k1"] and len(lister.calls) == 1


def test_hits_decode_the_key_and_the_value():
    lister = FakeLister([[doc(1), {"id": "app||bin", "value": "AAE=", "isBinary": True, "partitionKey": "q",
                                   "_etag": "eb"}]])
    (page,) = collect(search_cosmos(lister, LOCATION, to_cosmos(parse_query("{}"))))
    plain, binary = page.hits
    assert (plain.shown_key, plain.app_id, plain.partition_key, plain.value) == ("k1", "app", "p", {"n": 1})
    assert binary.is_binary and binary.value == b"\x00\x01" and binary.direct_item().value == b"\x00\x01"


def test_sql_pages_use_a_page_size_and_key_projections():
    lister = FakeLister([[doc(1), {"id": "app||k2", "n": 2}], ["CA"]])
    pages = collect(search_sql(lister, LOCATION, CosmosQuery("SELECT …", ())))
    projection = pages[0].hits[1]
    assert projection.shown_key == "k2" and projection.partition_key is None and projection.value == {"id": "app||k2", "n": 2}
    assert pages[1].hits[0] == SearchHit("", "", "CA", False)
    assert all(c["page_size"] == 100 for c in lister.calls)


class FakeSidecar:
    def __init__(self, answers: list[QueryAnswer]):
        self.answers = answers
        self.sent: list[tuple[str, str, dict | None]] = []

    async def query_state(self, store, query_json, metadata=None):
        self.sent.append((store, query_json, metadata))
        return self.answers[len(self.sent) - 1]


def test_dapr_answers_follow_tokens_and_send_the_partition():
    sidecar = FakeSidecar([QueryAnswer((("k1", b'{"n":1}', "e1", ""),), "tok"),
                           QueryAnswer((("k2", b"\x00\xff", "e2", ""),), "")])
    pages = collect(search_dapr(sidecar, "store", parse_query('{"page": {"limit": 1}}'), partition="p"))
    assert [keys(p) for p in pages] == [["k1"], ["k2"]] and pages[0].request_charge is None
    assert pages[0].hits[0].value == {"n": 1} and pages[1].hits[0].is_binary and pages[1].hits[0].data == b"\x00\xff"
    assert '"token":"tok"' in sidecar.sent[1][1] and sidecar.sent[0][2] == {"partitionKey": "p"}
    once = FakeSidecar([QueryAnswer((), "tok"), QueryAnswer((), "")])
    assert len(collect(search_dapr(once, "store", parse_query("{}"), follow=False))) == 1 and len(once.sent) == 1


def test_a_token_dapr_repeats_stops_the_loop():
    sidecar = FakeSidecar([QueryAnswer((), "same"), QueryAnswer((), "same"), QueryAnswer((), "same")])
    assert len(collect(search_dapr(sidecar, "store", parse_query("{}")))) == 2


def test_short_values():
    assert short_value({"a": "é"}) == '{"a":"é"}'
    assert short_value(b"\x00\x01") == "2 bytes · AAE="
    assert len(short_value("x" * 200)) == 60 and short_value("x" * 200).endswith("…")
