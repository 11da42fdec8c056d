"""What a store lists, as values that cross the seam: the store rows, a container's facts, the
batches of a partition scan, the pages of keys and of query items.

What it is for: the types the backends return, the session hands on and the faces draw, so a
screen needs no backend to name them. What it must never do: I/O, or import anything outside the
core and explorer.errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class Store:
    name: str
    type: str
    database: str | None
    container: str | None
    capabilities: tuple[str, ...]
    sidecars: tuple[str, ...]  # app-ids of reachable sidecars that registered it
    declared_in: str | None  # component file, None when only a sidecar knows it

    @property
    def location(self) -> str:
        if self.database or self.container:
            return f"{self.database or '?'}/{self.container or '?'}"
        return ""

    @property
    def owner(self) -> str:
        return ", ".join(self.sidecars) if self.sidecars else "no sidecar"


@dataclass(frozen=True)
class ContainerInfo:
    database: str
    container: str
    partition_key_paths: tuple[str, ...]
    default_ttl: int | None  # None = TTL off on the container


@dataclass(frozen=True)
class PartitionBatch:
    """New partition key values found by one page of the scan, and the running totals."""

    partitions: tuple[str, ...]
    total_partitions: int
    rows_read: int  # rows Cosmos returned for the discovery so far (one per partition and range, not per item)
    request_charge: float


class KeyRow(NamedTuple):
    """One item of a partition as the key table shows it (value not loaded).

    A NamedTuple, not a frozen dataclass: building a hundred per page is the
    lister's main cost over the bare SDK, and a tuple is ~3x cheaper to make."""

    id: str
    partition_key: str
    etag: str
    ts: int
    ttl: int | None
    is_binary: bool | None


@dataclass(frozen=True)
class KeyPage:
    rows: tuple[KeyRow, ...]
    continuation: str | None
    request_charge: float


@dataclass(frozen=True)
class QueryPage:
    """One page of a query's items, the token for the next page (None: the last) and its charge."""

    items: tuple[dict[str, Any], ...]
    continuation: str | None
    request_charge: float
