"""The backend interface: what the session asks of a state store's backend, as a few small typed
Protocols — list its partitions, page its keys, point-read a document, query it — and the whole
of them as `StoreBackend`.

What it is for: the session depends on these, never on a backend's class; the Cosmos lister
(explorer.backends.cosmos.lister.CosmosLister) implements them, and a second state store is
added by implementing them too, without touching a screen. The values they return are the
core's (explorer.core.listing, explorer.core.stats). What it must never do: hold logic, write,
or import a backend (or any SDK).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from explorer.core.listing import ContainerInfo, KeyPage, KeyRow, PartitionBatch, QueryPage
from explorer.core.ru_budget import RuBudget
from explorer.core.stats import PartitionStats


class PartitionLister(Protocol):
    """A container's partitions, and one partition's figures."""

    def partitions(self, database: str, container: str) -> AsyncIterator[PartitionBatch]: ...
    async def partition_figures(self, database: str, container: str, partition: str, default_ttl: int | None,
                                now: float) -> PartitionStats: ...


class KeyPager(Protocol):
    """A partition's keys a page at a time (no values), and its whole documents for export."""

    async def keys_page(self, database: str, container: str, partition: str, continuation: str | None = None,
                        page_size: int = 100) -> KeyPage: ...
    def iter_keys(self, database: str, container: str, partition: str, page_size: int = 100) -> AsyncIterator[KeyRow]: ...
    def iter_documents(self, database: str, container: str, partition: str,
                       page_size: int = 100) -> AsyncIterator[dict[str, Any]]: ...


class PointReader(Protocol):
    """One document by its id and partition, and every document with an id (any partition)."""

    async def read_item(self, database: str, container: str, item_id: str, partition: str) -> dict[str, Any]: ...
    async def items_with_id(self, database: str, container: str, item_id: str) -> list[dict[str, Any]]: ...


class Querier(Protocol):
    """One page of a read query, with the token of the next."""

    async def query_page(self, database: str, container: str, sql: str, parameters: list[dict[str, Any]] | None = None,
                         partition: str | None = None, continuation: str | None = None, page_size: int = 100,
                         operation: str = "query") -> QueryPage: ...


class StoreBackend(PartitionLister, KeyPager, PointReader, Querier, Protocol):
    """All a store's backend gives the session: the reads above, its container's facts, and what its
    requests cost (the RU figures the faces show)."""

    last_charge: float  # of the most recent call
    ru_spent: float  # of every call this session
    budget: RuBudget | None  # the pace of long operations (None: unpaced)

    async def container_info(self, database: str, container: str) -> ContainerInfo: ...
    def throttled_for(self) -> float: ...
    async def close(self) -> None: ...
