"""Search a store by value: a Dapr state query (or raw Cosmos SQL) run directly against Cosmos DB
through the lister, or through a sidecar's QueryStateAlpha1 — as async iterators of result pages,
each with its token and request charge, that a caller stops by leaving the loop.

What it is for: `dapr-explorer search` and the TUI's search, and the comparison of what Dapr answers
with what Cosmos DB holds. The direct path sends the SQL daprd's Cosmos store would send
(explorer.core.state_query.to_cosmos) and pages the way its Query.execute does — no page size hint,
Cosmos pages read until `page.limit` items are in the answer, the rest of the last page dropped and
the token of the page after it returned — so both answers can be the same; and it counts what that
paging drops (`SearchPage.skipped`), which Dapr does not say.

What it must never do: write (only the lister's read queries and QueryStateAlpha1 are called), or
build SQL from a value (state_query keeps values in parameters).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from explorer.core.envelope import StateKey, ValueKind, decode_value, parse_document_id
from explorer.core.model import StoreLocation, partition_of
from explorer.core.query_answers import DaprItem, DirectItem, original_state_key, take_for_limit
from explorer.core.state_query import CosmosQuery, QueryError, StateQuery
from explorer.backends.cosmos.lister import CosmosLister
from explorer.errors import CosmosError
from explorer.dapr.sidecar import SidecarClient

#: Page size of raw SQL searches (Dapr-language searches send none, as daprd does).
SQL_PAGE_SIZE = 100
#: Hits handed to the caller at a time from a Cosmos page without a limit (a page can hold thousands:
#: the first rows reach the screen without waiting for the whole page to be decoded).
HAND_OVER = 100


@dataclass(frozen=True)
class SearchHit:
    """One item of an answer. Direct: the document (doc_id, partition, decoded key); through Dapr:
    only what daprd returns — its key (the id without its prefix, GetOriginalStateKey), etag, data."""

    key: str  # as daprd's query answer names it
    etag: str
    value: Any  # JSON value; bytes for a binary value (or data daprd returned that is not JSON)
    is_binary: bool
    doc_id: str | None = None
    partition_key: str | None = None
    state_key: StateKey | None = None
    error: str = ""  # daprd's error for this item
    data: bytes | None = None  # through Dapr: the bytes daprd returned

    @property
    def shown_key(self) -> str:
        """The key as the explorer shows it: decoded with the store's key prefix when the id is known."""
        return self.state_key.key if self.state_key is not None else self.key

    @property
    def app_id(self) -> str | None:
        return self.state_key.app_id if self.state_key is not None else None

    def direct_item(self) -> DirectItem:
        return DirectItem(self.doc_id or self.key, self.etag, self.is_binary, self.value)

    def dapr_item(self) -> DaprItem:
        return DaprItem(self.key, self.etag, self.data or b"", self.error)


@dataclass(frozen=True)
class SearchPage:
    hits: tuple[SearchHit, ...]
    token: str  # "" when there is no next page
    request_charge: float | None  # None through Dapr: daprd does not say what the query cost
    skipped: int = 0  # items the query matched that Dapr's paging leaves out of every answer
    via: str = "cosmos"


async def _query_page(lister: CosmosLister, location: StoreLocation, query: CosmosQuery, partition: str | None,
                      token: str | None, page_size: int | None):
    """One page of a search; a query (or --token) Cosmos DB refuses as malformed (400: a syntax error,
    a bad continuation token) is the user's to fix — a QueryError (exit 2), not a failure of the read."""
    try:
        return await lister.query_page(location.database, location.container, query.sql, query.parameter_list,
                                       partition=partition, continuation=token, page_size=page_size,
                                       operation="search")
    except CosmosError as exc:
        if getattr(exc.__cause__, "status_code", None) != 400:
            raise
        said = re.search(r"answered 400 \((.*)\): ", str(exc))
        detail = said.group(1).removeprefix("BadRequest: ") if said else ""
        raise QueryError(f"Cosmos DB refused the query as malformed (400 BadRequest{': ' + detail if detail else ''}); "
                         "nothing was read") from exc


def hit_of_document(document: dict[str, Any], location: StoreLocation) -> SearchHit:
    doc_id = str(document.get("id", ""))
    decoded = decode_value(document)
    if decoded.kind is ValueKind.JSON:
        value, binary = decoded.json, False
    else:
        value, binary = (decoded.data if decoded.data is not None else decoded.json), decoded.kind is not ValueKind.NOT_DAPR
    return SearchHit(original_state_key(doc_id), str(document.get("_etag", "")), value, binary, doc_id,
                     partition_of(document), parse_document_id(doc_id, location.key_prefix, location.store))


async def search_cosmos(lister: CosmosLister, location: StoreLocation, query: CosmosQuery,
                        partition: str | None = None, follow: bool = True) -> AsyncIterator[SearchPage]:
    """A Dapr query's SQL run directly, paged as daprd pages it: with a limit, one page per Dapr
    answer (then the next from its token while `follow`); without one, every Cosmos page as it lands
    (daprd would return them all in one answer)."""
    token = query.token or None
    seen: set[str] = set()
    while True:
        hits: list[SearchHit] = []
        charge = 0.0
        skipped = 0
        while True:
            page = await _query_page(lister, location, query, partition, token, None)
            charge += page.request_charge
            token = page.continuation
            if query.limit == 0:  # every item is kept: handed over a slice at a time, the first at once
                items = page.items
                for start in range(0, max(len(items), 1), HAND_OVER):
                    last = start + HAND_OVER >= len(items)
                    yield SearchPage(tuple(hit_of_document(item, location) for item in items[start:start + HAND_OVER]),
                                     (token or "") if last else "", charge)
                    charge = 0.0
                if not token:
                    break
                continue
            taken = take_for_limit(len(hits), page.items, query.limit)
            hits.extend(hit_of_document(item, location) for item in taken.items)
            skipped = taken.skipped
            if taken.done or not token:
                break
        if query.limit != 0:
            yield SearchPage(tuple(hits), token or "", charge, skipped)
        if not follow or not token or token in seen:
            return
        seen.add(token)


async def search_sql(lister: CosmosLister, location: StoreLocation, query: CosmosQuery,
                     partition: str | None = None, page_size: int = SQL_PAGE_SIZE) -> AsyncIterator[SearchPage]:
    """Raw Cosmos SQL (checked by state_query.raw_sql), page by page. Items that are not whole
    documents come as they are: a projection with an id keyed by it, anything else (VALUE) with
    an empty key."""
    token = query.token or None
    while True:
        page = await _query_page(lister, location, query, partition, token, page_size)
        hits = tuple(_hit_of_sql_item(item, location) for item in page.items)
        token = page.continuation
        yield SearchPage(hits, token or "", page.request_charge)
        if not token:
            return


def _hit_of_sql_item(item: Any, location: StoreLocation) -> SearchHit:
    """A whole document as a document; a projection (no Dapr envelope) as it is, keyed by its id if
    it has one, with the partition and etag only when it carries them."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        return SearchHit("", "", item, False)
    if "value" in item and isinstance(item.get("isBinary"), bool):
        return hit_of_document(item, location)
    doc_id = item["id"]
    partition = partition_of(item) if "partitionKey" in item else None
    return SearchHit(original_state_key(doc_id), str(item.get("_etag", "")), item, False, doc_id, partition,
                     parse_document_id(doc_id, location.key_prefix, location.store))


def _hit_of_result(key: str, data: bytes, etag: str, error: str) -> SearchHit:
    import json

    try:
        return SearchHit(key, etag, json.loads(data), False, error=error, data=bytes(data))
    except ValueError:
        return SearchHit(key, etag, bytes(data), True, error=error, data=bytes(data))


async def search_dapr(sidecar: SidecarClient, store: str, query: StateQuery, partition: str | None = None,
                      follow: bool = True) -> AsyncIterator[SearchPage]:
    """The query through the sidecar's QueryStateAlpha1, one answer per page (then the next from its
    token while `follow`); request metadata partitionKey keeps it to one partition."""
    metadata = {"partitionKey": partition} if partition is not None else None
    token = query.token
    seen: set[str] = set()
    while True:
        answer = await sidecar.query_state(store, query.with_token(token).to_json(), metadata)
        hits = tuple(_hit_of_result(*result) for result in answer.results)
        yield SearchPage(hits, answer.token, None, via="dapr")
        token = answer.token
        if not follow or not token or token in seen:
            return
        seen.add(token)
