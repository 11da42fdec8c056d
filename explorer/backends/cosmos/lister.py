"""The partition browser's data source: lists databases, containers, partitions and keys
through the azure-cosmos async SDK, page by page.

What it is for: the Cosmos DB implementation of the backend interface (explorer.backends.base.StoreBackend):
streaming what is in a container without ever holding a whole
container or partition in memory, and reporting the request charge (RU) of
every call it makes.

What it must never do: write. There is no method here that creates, replaces,
upserts or deletes an item; writes go through Dapr (explorer.session.gateway).

Gentle on the account (docs/production-load.md): every request is Cosmos DB's low priority
(`priority="Low"` per call, and client-wide in explorer.backends.cosmos.connection, which also covers the
SDK's own metadata reads and the account read, where no per-call priority can be given). The
SDK's own throttle retries are off: a 429 is waited out here for the time the server asks
(x-ms-retry-after-ms), reported to `on_throttle(seconds)`, and the same call or the same page
(from the same continuation) asked again. Scans, searches and listings (partitions, keys pages,
documents, query pages, finding an id) are paced by an optional `RuBudget`; every charge counts
in `ru_spent` and in the budget, paced or not. Reads only: a throttled write cannot happen here.

Queries are plain Cosmos SQL that real Cosmos DB answers (the local server answers them the same
way: docs/local-stack.md, "Queries"): partitions are found by `SELECT DISTINCT c.partitionKey`,
so the rows transferred grow with partitions, not items (DISTINCT, not DISTINCT VALUE: the items
without a partitionKey come back as `{}`); a partition's keys are always asked for with
`WHERE c.partitionKey = @pk` and its partition key; a partition's figures (`partition_figures`)
with aggregates in that one partition, since Cosmos DB refuses aggregates without VALUE (and
GROUP BY) across partitions.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from azure.core.exceptions import ServiceRequestError, ServiceResponseError

from explorer.core.envelope import MAX_ID_BYTES, KeyKind, KeyPrefix, parse_document_id
from explorer.core.listing import ContainerInfo, KeyPage, KeyRow, PartitionBatch, QueryPage
from explorer.core.model import MissingPartitionKey, partition_of, whole_number
from explorer.core.ru_budget import RuBudget
from explorer.core.stats import PartitionStats, partition_stats
from explorer.backends.cosmos.connection import async_client
from explorer.errors import RBAC_SUBSTATUS, CosmosError, CosmosUnreachable, NotFound, RoleMissing, is_rbac_refusal

ChargeListener = Callable[[str, float], None]
ThrottleListener = Callable[[float], None]

#: The priority of every request (Cosmos DB priority-based execution).
PRIORITY = "Low"
#: How long one request may be kept waiting by 429s in all before its 429 is the caller's error.
MAX_THROTTLED_SECONDS = 300.0
#: The wait when a 429 names none (Cosmos DB always sends x-ms-retry-after-ms).
DEFAULT_RETRY_AFTER = 1.0

KEY_COLUMNS = "c.id, c.partitionKey, c._etag, c._ts, c.ttl, c.isBinary"
#: One partition's figures in one row (explorer.core.stats `partition_stats` reads these names).
STATS_AGGREGATES = ("COUNT(1) AS keys, COUNT(c.ttl) AS withTtl, SUM(LENGTH(ToString(c))) AS size, "
                    "MIN(c._ts) AS oldest, MAX(c._ts) AS newest")
PARTITION_SCAN_PAGE = 1000


#: Characters Cosmos DB does not serve in a point operation's URL although an id may hold them
#: (its gateway answers 404, 401 or 400: see docs/local-stack.md, "Item ids"): such items are read
#: by a query in their partition. '%' covers a literal %HH; '?' is served but not worth the risk.
UNROUTABLE_ID_CHARACTERS = frozenset("/\\?#%\r\n\t")


def read_by_query(item_id: str) -> bool:
    """Whether a point read cannot reach this id on Cosmos DB, so it must be read by query."""
    return bool(UNROUTABLE_ID_CHARACTERS.intersection(item_id)) or item_id != item_id.rstrip()


def _causes(exc: BaseException):
    """`exc` and everything it wraps (SDK inner exceptions, aiohttp's os_error, causes)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for attr in ("inner_exception", "os_error", "certificate_error", "__cause__", "__context__"):
            inner = getattr(current, attr, None)
            if isinstance(inner, BaseException):
                todo.append(inner)


def _unreachable(what: str, exc: Exception) -> CosmosError:
    """One plain line for a connection failure of the Cosmos SDK: what failed, where, and why
    (the SDK's own text carries aiohttp's connection key, an SSLContext repr). A certificate the
    client does not trust is said as such: retrying cannot fix it."""
    import ssl

    host = port = None
    for inner in _causes(exc):
        host, port = host or getattr(inner, "host", None), port or getattr(inner, "port", None)
    where = f" at {host}:{port}" if host else ""
    untrusted = [inner for inner in _causes(exc) if isinstance(inner, ssl.SSLCertVerificationError)]
    if untrusted:
        # aiohttp's ClientConnectorCertificateError passes for one without its attributes; ssl's own has them
        reason = next((getattr(e, "verify_message", None) for e in untrusted if getattr(e, "verify_message", None)),
                      "certificate verify failed")
        return CosmosError(
            f"{what} failed: the account{where} presented a TLS certificate this machine does not trust "
            f"({reason}). Pass --cosmos-ca-file (or set SSL_CERT_FILE) to the CA that signed it.")
    for inner in _causes(exc):
        if isinstance(inner, ssl.SSLError):
            return CosmosError(f"{what} failed: TLS with the account{where} failed ({getattr(inner, 'reason', None) or inner}).")
    why = ""
    for inner in _causes(exc):
        errno = getattr(inner, "errno", None)
        if isinstance(inner, OSError) and errno:
            why = os.strerror(errno)
            break
    if not why:
        inner = getattr(exc, "inner_exception", None) or exc.__cause__ or exc
        why = str(inner).strip().split("\n")[0][:200] or type(inner).__name__
    return CosmosUnreachable(f"{what} failed: no answer from the account{where} ({why})")


def _answered(what: str, exc: Exception, identity: str | None = None) -> CosmosError:
    """One plain line for an answer of Cosmos DB that is an error (other than 404, which callers
    turn into NotFound): the status, Cosmos' own first line, and what to do. `identity` describes
    who signed in (never a secret): a refusal for a missing role names it."""
    status = getattr(exc, "status_code", None)
    message = (getattr(exc, "message", None) or str(exc)).strip()
    if status == 403 and (getattr(exc, "sub_status", None) == RBAC_SUBSTATUS or is_rbac_refusal(message)):
        return RoleMissing(what, writing=False, identity=identity)
    if status in (401, 403) and "local authorization is disabled" in message.lower():
        return CosmosError(f"{what} failed: the account does not accept account keys (local authorization is "
                           "disabled); remove masterKey from the component to sign in with Entra ID as Dapr does.")
    first = next((line.strip() for line in message.splitlines() if line.strip() and not line.startswith("Code:")), "")
    if first.lower().startswith("message:"):
        first = first[len("message:"):].strip()
    if first.startswith("(") and ") " in first:  # the SDK's "(ErrorCode) text"; "(None)" when no code
        code, _, rest = first[1:].partition(") ")
        first = rest if code == "None" else f"{code}: {rest}"
    first = first[:200]
    hints = {
        400: "the request was refused as malformed",
        401: "the account refused the key: check the component's masterKey (it is not shown)" if not identity
             or identity == "account key" else f"the account refused the Entra ID token of {identity}",
        403: "the identity has no access to this data",
        408: "Cosmos DB timed out; try again",
        413: "the item is larger than Cosmos DB allows (2 MB)",
        414: "the id is too long for a request (Cosmos DB ids are at most 1,023 bytes)",
        429: "the account is throttling requests (too many request units); try again shortly",
        431: "the request's headers are too large (an id or partition key over Cosmos DB's limits)",
    }
    hint = hints.get(status or 0, "a server error at Cosmos DB; try again" if (status or 0) >= 500 else "")
    text = f"{what} failed: Cosmos DB answered {status}" + (f" ({first})" if first and first != str(status) else "")
    error = CosmosError(text + (f": {hint}." if hint else "."))
    error.retryable = status in {408, 429} or (status or 0) >= 500
    return error


def _plain_cosmos_errors(what: str):
    """Decorate a lister coroutine (or async generator) so that the Cosmos SDK's errors reach the
    pane as one line naming `what`: `CosmosUnreachable` for connection failures, `CosmosError`
    for an untrusted certificate or an error answer; our own errors pass unchanged."""
    from azure.cosmos.exceptions import CosmosHttpResponseError

    unreachable = (ServiceRequestError, ServiceResponseError)

    def translated(exc: Exception, owner: object) -> Exception:
        if isinstance(exc, unreachable):
            return _unreachable(what, exc)
        if isinstance(exc, CosmosHttpResponseError):
            return _answered(what, exc, getattr(owner, "identity", None))
        return exc

    def wrap(method):
        if inspect.isasyncgenfunction(method):
            @functools.wraps(method)
            async def stream(*args, **kwargs):
                try:
                    async for item in method(*args, **kwargs):
                        yield item
                except (*unreachable, CosmosHttpResponseError) as exc:
                    raise translated(exc, args[0] if args else None) from exc
            return stream

        @functools.wraps(method)
        async def call(*args, **kwargs):
            try:
                return await method(*args, **kwargs)
            except (*unreachable, CosmosHttpResponseError) as exc:
                raise translated(exc, args[0] if args else None) from exc
        return call

    return wrap


def _charge(headers: Mapping[str, str]) -> float:
    try:
        return float(headers.get("x-ms-request-charge", 0) or 0)
    except ValueError:
        return 0.0


def _retry_after(exc: Exception) -> float:
    """Seconds a 429 asks to wait (x-ms-retry-after-ms), DEFAULT_RETRY_AFTER when it names none."""
    headers = getattr(exc, "headers", None) or {}
    try:
        millis = float(headers.get("x-ms-retry-after-ms"))
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return max(0.0, millis / 1000.0) if millis == millis else DEFAULT_RETRY_AFTER


def _is_throttled(exc: Exception) -> bool:
    from azure.cosmos.exceptions import CosmosHttpResponseError

    return isinstance(exc, CosmosHttpResponseError) and exc.status_code == 429


def _in_partition(partition: str) -> tuple[str, list[dict[str, Any]], Any]:
    """(SQL condition, parameters, partition_key argument) that select one partition; the items
    with no partitionKey (NO_PARTITION_KEY) are Cosmos' 'undefined' partition."""
    if isinstance(partition, MissingPartitionKey):
        from azure.cosmos.partition_key import NonePartitionKeyValue

        return "NOT IS_DEFINED(c.partitionKey)", [], NonePartitionKeyValue
    return "c.partitionKey = @pk", [{"name": "@pk", "value": partition}], partition


def _row(item: Mapping[str, Any]) -> KeyRow:
    ttl = item.get("ttl")
    return KeyRow(
        id=str(item["id"]),
        partition_key=partition_of(item),
        etag=str(item.get("_etag", "")),
        ts=whole_number(item.get("_ts")) or 0,
        ttl=whole_number(ttl),
        is_binary=item.get("isBinary") if isinstance(item.get("isBinary"), bool) else None,
    )


class CosmosLister:
    """Read-only access to one Cosmos DB account. Use `async with` or call close().

    `budget`: pace scans under its RU/s (None: unpaced). `on_throttle(seconds)`: called before each
    wait for a 429's retry-after. Both may also be set later as attributes (the CLI sets
    `on_throttle` on the lister its workspace made)."""

    def __init__(self, url: str, key: str, ca_file: str | None = None, on_charge: ChargeListener | None = None,
                 budget: RuBudget | None = None, on_throttle: ThrottleListener | None = None):
        self._client = async_client(url, key, ca_file)
        self._on_charge = on_charge
        self.budget = budget
        self.on_throttle = on_throttle
        self.last_charge: float = 0.0
        self.ru_spent: float = 0.0  # every charge of this lister's requests, paced or not
        self._waits: dict[object, float] = {}  # each 429 wait under way -> time.monotonic() when it ends
        self._sleep = asyncio.sleep  # replaced by a unit test's fake clock

    def throttled_for(self) -> float:
        """Seconds left of the 429 waits under way (0: none; several calls may wait at once)."""
        return max(0.0, max(self._waits.values(), default=0.0) - time.monotonic())

    async def __aenter__(self) -> CosmosLister:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    identity: str | None = None  # who signs in, described (explorer.session.workspace sets it): named when a role is missing

    async def close(self) -> None:
        await self._client.close()

    def _report(self, operation: str, charge: float) -> None:
        self.last_charge = charge
        self.ru_spent += charge
        if self.budget is not None:
            self.budget.charge(charge)
        if self._on_charge is not None:
            self._on_charge(operation, charge)

    async def _pace(self) -> None:
        """Wait until the budget allows the next request of a scan."""
        if self.budget is not None:
            wait = self.budget.wait()
            if wait > 0:
                await self._sleep(wait)

    async def _wait_out(self, exc: Exception, waited: float) -> float:
        """Wait out a 429 (re-raised once a request has waited MAX_THROTTLED_SECONDS); the new total waited."""
        seconds = _retry_after(exc)
        if waited + seconds > MAX_THROTTLED_SECONDS:
            raise exc
        token = object()
        self._waits[token] = time.monotonic() + seconds
        if self.on_throttle is not None:
            self.on_throttle(seconds)
        try:
            await self._sleep(seconds)
        finally:  # also when the caller is cancelled (the TUI moved on)
            del self._waits[token]
        return waited + seconds

    async def _call(self, call: Callable[[], Any]) -> Any:
        """`await call()`, asked again after each 429's retry-after."""
        waited = 0.0
        while True:
            try:
                return await call()
            except Exception as exc:
                if not _is_throttled(exc):
                    raise
                waited = await self._wait_out(exc, waited)

    async def _pages(self, query: Callable[[list[float]], Any], operation: str, continuation: str | None = None,
                     paced: bool = True, resumable: bool = True) -> AsyncIterator[tuple[list[dict[str, Any]], str | None, float]]:
        """The pages of a query from `continuation`: (items, token of the next page or None, charge).
        `query(charges)` makes the SDK's query, its response_hook appending each charge to `charges`.
        A 429 is waited out and the same page asked again from the token it was asked with; for a
        query whose tokens cannot be resumed (`resumable=False`: cross-partition DISTINCT, ORDER BY,
        aggregates — the azure-cosmos README's limitation) the query starts again from `continuation`
        as first given, so pages already yielded come again and the caller must tolerate repeats."""
        start = continuation
        charges: list[float] = []
        pages = query(charges).by_page(continuation)
        waited = 0.0
        while True:
            if paced:
                await self._pace()
            try:
                page = await pages.__anext__()
                items = [item async for item in page]
            except StopAsyncIteration:
                return
            except Exception as exc:
                if not _is_throttled(exc):
                    raise
                waited = await self._wait_out(exc, waited)
                charges.clear()
                if not resumable:
                    continuation = start
                pages = query(charges).by_page(continuation)
                continue
            if resumable:  # a restarted query's waits add up over the whole query, so it cannot loop forever
                waited = 0.0
            charge = sum(charges)
            charges.clear()
            continuation = pages.continuation_token or None
            self._report(operation, charge)
            yield items, continuation, charge
            if continuation is None:
                return

    def _hook(self, charges: list[float]):
        return lambda headers, *_: charges.append(_charge(headers))

    def _container(self, database: str, container: str):
        return self._client.get_database_client(database).get_container_client(container)

    @_plain_cosmos_errors("opening the store's container")
    async def container_info(self, database: str, container: str) -> ContainerInfo:
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        try:
            props = await self._call(lambda: self._container(database, container).read(
                priority=PRIORITY, response_hook=lambda headers, _: self._report("read container", _charge(headers))))
        except CosmosResourceNotFoundError as exc:
            raise NotFound(
                f"container {database}/{container} not found. Check the component's database and collection fields."
            ) from exc
        paths = tuple((props.get("partitionKey") or {}).get("paths") or ())
        return ContainerInfo(database, container, paths, props.get("defaultTtl"))

    @_plain_cosmos_errors("listing partitions")
    async def partitions(self, database: str, container: str, page_size: int = PARTITION_SCAN_PAGE) -> AsyncIterator[PartitionBatch]:
        """Distinct partitionKey values, streamed page by page (cancel by leaving the loop).

        `SELECT DISTINCT c.partitionKey FROM c`: Cosmos DB (through the SDK, per partition-key
        range) returns one row per partition, `{}` for the items without a partitionKey, so rows
        and memory grow with the number of partitions, never with the number of items. The set of
        values seen also drops the repeats a restart after a 429 brings (such a query's
        continuation cannot be resumed on Cosmos DB, so it starts again).
        """
        seen: set[str] = set()
        rows = 0
        query = lambda charges: self._container(database, container).query_items(  # noqa: E731
            "SELECT DISTINCT c.partitionKey FROM c", max_item_count=page_size, priority=PRIORITY,
            response_hook=self._hook(charges))
        async for items, _, charge in self._pages(query, "discover partitions", resumable=False):
            fresh = []
            for item in items:
                rows += 1
                pk = partition_of(item)
                if pk not in seen:
                    seen.add(pk)
                    fresh.append(pk)
            yield PartitionBatch(tuple(fresh), len(seen), rows, charge)

    @_plain_cosmos_errors("reading a partition's figures")
    async def partition_figures(self, database: str, container: str, partition: str, default_ttl: int | None,
                                now: float) -> PartitionStats:
        """One partition's stats (explorer.core.stats) from single-partition queries, paced like a
        scan: its aggregates (`COUNT(1)`, the JSON length of each document, `MIN`/`MAX` of `_ts`)
        and how many items carry a ttl (`COUNT(c.ttl)` counts the defined ones) in one row, then —
        only when the container's TTL is on and an item can expire — the `_ts` and `ttl` of the items
        that can (every item under a default ttl; with defaultTtl -1 only those with a ttl other
        than -1), bucketed by their effective expiry against `now`."""
        condition, parameters, partition_key = _in_partition(partition)
        charge = 0.0

        def rows(sql: str, operation: str):
            return self._pages(lambda charges: self._container(database, container).query_items(
                sql, parameters=parameters, partition_key=partition_key, max_item_count=PARTITION_SCAN_PAGE,
                priority=PRIORITY, response_hook=self._hook(charges)), operation)

        figures: dict[str, Any] = {}
        async for items, _, cost in rows(f"SELECT {STATS_AGGREGATES} FROM c WHERE {condition}", "partition figures"):
            charge += cost
            figures = items[0] if items else figures
        expiring: list[dict[str, Any]] = []
        ttl_on = default_ttl is not None and whole_number(default_ttl) is not None and (default_ttl == -1 or default_ttl > 0)
        # Under defaultTtl -1 only an item's own ttl can make it expire: no item with a ttl, nothing to read.
        if ttl_on and figures.get("keys") and (default_ttl != -1 or figures.get("withTtl")):
            can_expire = "(NOT IS_DEFINED(c.ttl) OR c.ttl != -1)" if default_ttl != -1 else "(IS_DEFINED(c.ttl) AND c.ttl != -1)"
            async for items, _, cost in rows(f"SELECT c._ts, c.ttl FROM c WHERE {condition} AND {can_expire}",
                                             "partition expiries"):
                charge += cost
                expiring.extend(items)
        return partition_stats(partition, figures, expiring, default_ttl, now, charge)

    def _in_partition_pages(self, database: str, container: str, columns: str, partition: str, page_size: int,
                            operation: str, continuation: str | None = None):
        """The pages of `SELECT columns` over one partition, as `_pages` gives them (paced)."""
        condition, parameters, partition_key = _in_partition(partition)
        return self._pages(lambda charges: self._container(database, container).query_items(
            f"SELECT {columns} FROM c WHERE {condition}",
            parameters=parameters,
            partition_key=partition_key,
            max_item_count=page_size,
            priority=PRIORITY,
            response_hook=self._hook(charges),
        ), operation, continuation)

    @_plain_cosmos_errors("listing keys")
    async def keys_page(
        self, database: str, container: str, partition: str, continuation: str | None = None, page_size: int = 100
    ) -> KeyPage:
        """One page of a partition's keys (no values), with the token for the next page."""
        pages = self._in_partition_pages(database, container, KEY_COLUMNS, partition, page_size, "list keys", continuation)
        try:
            async for items, token, charge in pages:
                return KeyPage(tuple([_row(item) for item in items]), token, charge)
        finally:
            await pages.aclose()
        return KeyPage((), None, 0.0)

    async def iter_keys(self, database: str, container: str, partition: str, page_size: int = 100) -> AsyncIterator[KeyRow]:
        """Every key of a partition, one page in memory at a time."""
        token: str | None = None
        while True:
            page = await self.keys_page(database, container, partition, token, page_size)
            for row in page.rows:
                yield row
            if not page.continuation or not page.rows:
                return
            token = page.continuation

    @_plain_cosmos_errors("reading documents")
    async def iter_documents(self, database: str, container: str, partition: str,
                             page_size: int = 100) -> AsyncIterator[dict[str, Any]]:
        """Every whole document of a partition (values included), one page in memory at a time."""
        async for items, _, _ in self._in_partition_pages(database, container, "*", partition, page_size, "read documents"):
            for item in items:
                yield item

    @_plain_cosmos_errors("reading the key")
    async def read_item(self, database: str, container: str, item_id: str, partition: str) -> dict[str, Any]:
        """The whole document (with system fields): by point read, or by a query in its partition
        when Cosmos DB would not serve the id in a URL (`read_by_query`)."""
        from azure.cosmos.exceptions import CosmosResourceNotFoundError

        missing = NotFound(f"no item {item_id!r} in partition {partition!r} of {database}/{container}")
        size = len(item_id.encode("utf-8", "surrogatepass"))
        if size > MAX_ID_BYTES:
            raise NotFound(f"no item can have that id: it is {size:,} bytes, and Cosmos DB ids are at most "
                           f"{MAX_ID_BYTES:,} bytes (so Dapr cannot have saved it either)")
        _, _, partition_key = _in_partition(partition)
        if read_by_query(item_id):
            found = [item async for items, _, _ in self._pages(
                lambda charges: self._container(database, container).query_items(
                    "SELECT * FROM c WHERE c.id = @id",
                    parameters=[{"name": "@id", "value": item_id}],
                    partition_key=partition_key,
                    priority=PRIORITY,
                    response_hook=self._hook(charges),
                ), "read item (by query)", paced=False) for item in items]
            if not found:
                raise missing
            return found[0]
        try:
            return await self._call(lambda: self._container(database, container).read_item(
                item_id, partition_key=partition_key, priority=PRIORITY,
                response_hook=lambda headers, _: self._report("read item", _charge(headers)),
            ))
        except CosmosResourceNotFoundError as exc:
            raise missing from exc

    @_plain_cosmos_errors("finding the id")
    async def items_with_id(self, database: str, container: str, item_id: str) -> list[dict[str, Any]]:
        """Every item with this id, in any partition (cross-partition query; paced: a search)."""
        return [item async for items, _, _ in self._pages(
            lambda charges: self._container(database, container).query_items(
                "SELECT * FROM c WHERE c.id = @id",
                parameters=[{"name": "@id", "value": item_id}],
                priority=PRIORITY,
                response_hook=self._hook(charges),
            ), "find id") for item in items]

    @_plain_cosmos_errors("querying")
    async def query_page(self, database: str, container: str, sql: str, parameters: list[dict[str, Any]] | None = None,
                         partition: str | None = None, continuation: str | None = None, page_size: int = 100,
                         operation: str = "query") -> QueryPage:
        """One page of a read query (cross-partition unless `partition` is given), with the token
        for the next page. For callers that build their own (read-only) SELECT: workflow instances."""
        kwargs: dict[str, Any] = {}
        if partition is not None:
            kwargs["partition_key"] = _in_partition(partition)[2]
        pages = self._pages(lambda charges: self._container(database, container).query_items(
            sql, parameters=parameters or [], max_item_count=page_size, priority=PRIORITY,
            response_hook=self._hook(charges), **kwargs,
        ), operation, continuation)
        try:
            async for items, token, charge in pages:
                return QueryPage(tuple(items), token, charge)
        finally:
            await pages.aclose()
        return QueryPage((), None, 0.0)

    async def _first(self, database: str, container: str, query: str, operation: str,
                     accept: Callable[[dict[str, Any]], bool] = lambda item: True) -> dict[str, Any] | None:
        """The first item of a whole-container query that `accept` takes, or None: pages are followed
        (a filtered query may answer empty pages first) and the query stops at the first one taken, so
        what the doctor says about item contents is about the whole container, never a sample of it."""
        pages = self._pages(lambda charges: self._container(database, container).query_items(
            query, max_item_count=5, priority=PRIORITY, response_hook=self._hook(charges)), operation, paced=False)
        try:
            async for items, _, _ in pages:
                for item in items:
                    if accept(item):
                        return item
        finally:
            await pages.aclose()
        return None

    @_plain_cosmos_errors("looking for items with ttl")
    async def item_with_ttl(self, database: str, container: str) -> str | None:
        """The id of one item anywhere in the container that carries a ttl, or None (for the doctor).
        TOP 1 on IS_DEFINED/IS_NULL: answered from the index, one item's cost, whatever the size."""
        found = await self._first(database, container, "SELECT TOP 1 c.id FROM c WHERE IS_DEFINED(c.ttl) AND "
                                  "NOT IS_NULL(c.ttl)", "look for ttl")
        return None if found is None else str(found.get("id", ""))

    @_plain_cosmos_errors("looking for workflow state")
    async def workflow_state_sample(self, database: str, container: str) -> str | None:
        """The id of one workflow instance's metadata document anywhere in the container, or None (for
        the doctor): the ids the query matches are read until one decodes as a workflow's."""
        def workflow(item: dict[str, Any]) -> bool:
            return parse_document_id(str(item.get("id", "")), KeyPrefix.from_metadata(None)).kind is KeyKind.WORKFLOW

        found = await self._first(database, container, 'SELECT c.id FROM c WHERE ENDSWITH(c.id, "||metadata") AND '
                                  'CONTAINS(c.id, ".workflow||")', "look for workflows", workflow)
        return None if found is None else str(found["id"])

    @_plain_cosmos_errors("looking for old reminders")
    async def legacy_reminder_ids(self, database: str, container: str, limit: int = 5) -> tuple[str, ...]:
        """Ids of reminder documents Dapr before 1.17 kept in the actor state store (`actors||<type>`,
        `actors||<type>||metadata`, `actors||<type>||<partition>`), at most `limit`."""
        return tuple([str(item["id"]) async for items, _, _ in self._pages(
            lambda charges: self._container(database, container).query_items(
                f'SELECT TOP {int(limit)} c.id FROM c WHERE STARTSWITH(c.id, "actors||")', max_item_count=limit,
                priority=PRIORITY, response_hook=self._hook(charges)), "sample reminders", paced=False)
            for item in items])

    @_plain_cosmos_errors("reading the account")
    async def account_consistency(self) -> str | None:
        # No per-call priority here: the client-wide default (explorer.backends.cosmos.connection) sends it.
        account = await self._call(lambda: self._client._get_database_account(  # noqa: SLF001 - the SDK's only way to read it
            response_hook=lambda headers: self._report("read account", _charge(headers))))
        policy = getattr(account, "ConsistencyPolicy", None) or {}
        return policy.get("defaultConsistencyLevel")
