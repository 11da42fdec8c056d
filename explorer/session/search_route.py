"""Which way a search goes: a Dapr state query straight to Cosmos DB (translated as daprd's Cosmos
store does) or through a sidecar that loaded the store, raw Cosmos SQL to Cosmos DB only.

What it is for: the session's `search` (the `search` command and the TUI's search view); the pages
come from explorer.backends.cosmos.search. What it must never do: write, or send a query a way it
cannot go (refused with UsageError/SidecarError before any I/O).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from explorer.backends.base import StoreBackend
from explorer.backends.cosmos.search import SearchPage, search_cosmos, search_dapr, search_sql
from explorer.core.model import MissingPartitionKey, StoreLocation
from explorer.core.state_query import CosmosQuery, StateQuery, to_cosmos
from explorer.errors import UsageError
from explorer.session.sidecars import Sidecars


def route_search(lister: StoreBackend, sidecars: Sidecars, location: StoreLocation, query: StateQuery | CosmosQuery,
                 via: str = "cosmos", partition: str | None = None, follow: bool = True) -> AsyncIterator[SearchPage]:
    """Pages of a search: `via` "cosmos" directly against Cosmos DB, "dapr" through a sidecar that
    loaded the store and supports Dapr's query API (QueryStateAlpha1). `partition`: one partition
    only. `follow`: go on with the next page's token."""
    if isinstance(query, CosmosQuery):
        if via != "cosmos":
            raise UsageError("--sql runs on Cosmos DB directly: Dapr's query API takes only its own query language")
        return search_sql(lister, location, query, partition)
    if via == "cosmos":
        return search_cosmos(lister, location, to_cosmos(query), partition, follow)
    to_cosmos(query)  # what daprd would send is checked here too: a refused key is refused both ways
    if isinstance(partition, MissingPartitionKey):
        raise UsageError("items without a partitionKey cannot be asked for through Dapr (it always sends one): "
                         "search them with --via cosmos")
    return search_dapr(sidecars.query_sidecar(location.store), location.store, query, partition, follow)
