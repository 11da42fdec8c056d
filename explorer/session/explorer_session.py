"""The one seam between the screens and everything they read or write.

What it is for: the TUI's screens call only this — store rows, doctor
findings, partition batches, key pages, opening a key, saving and deleting —
and never import the Cosmos SDK, the Dapr client or a component resolver.
Each method is a coroutine the screens run in a Textual worker. Opening a key
is a Cosmos point read (envelope, etag, value), returned as soon as it lands;
`check_through_dapr` then reads the same key through its owning sidecar and
says whether Dapr sees that value and etag, so a slow or hung sidecar never
holds the key back.

What it must never do: write in a read-only session (the read-only gateway has
no write methods; `save`/`delete` refuse before any I/O), retry a write after
an etag conflict, or let a secret reach a message it returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from functools import partial
import orjson

from explorer.backends.cosmos.agents import AgentsReader, RunView
from explorer.session import agents as agent_runs
from explorer.session.bulk import refused_writes as bulk_refusals, run_plan
from explorer.session.diff import read_side
from explorer.session.import_run import dry_run, read_export_file, refused_writes as import_refusals, run_import
from explorer.session.audit_log import AuditLog, who
from explorer.core.agents import Agent, AgentRun
from explorer.core.audit import Outcome, Who, record_for
from explorer.core.bulk import BulkPlan, BulkReport
from explorer.core.doctor import Finding, diagnose
from explorer.core.envelope import KeyKind, StateKey, document_id
from explorer.core.import_plan import Exported, ImportDecision, ImportPlan, SideKey
from explorer.core.model import KeyValue, MissingPartitionKey, StoreLocation, TtlChoice, partition_of
from explorer.core.ru_budget import CosmosLoad
from explorer.core.state_query import CosmosQuery, StateQuery
from explorer.core.stats import PartitionStats, StatsProgress
from explorer.core.writes import KeyChange, NewValue, WriteKind
from explorer.core.listing import KeyPage, KeyRow, PartitionBatch, Store
from explorer.core.opened import FoundId, OpenedKey
from explorer.errors import (
    EtagConflict,
    ExplorerError,
    NotFound,
    ReadOnlyRefusal,
    SavedUnverified,
    SidecarError,
    SidecarRefused,
    SidecarUnavailable,
    UsageError,
    describe,
)
from explorer.session.gateway import WritableGateway
from explorer.backends.cosmos.search import SearchPage
from explorer.dapr.sidecar import SidecarClient
from explorer.backends.cosmos.workflows import WorkflowReader
from explorer.session.workspace import Workspace, open_workspace


def _same_value(dapr: bytes, document: bytes, is_binary: bool) -> bool:
    """Whether Dapr's bytes and the document's value are the same value (JSON compared as JSON:
    Dapr re-serialises objects, so key order and spacing may differ)."""
    if dapr == document or is_binary:
        return dapr == document
    try:
        return orjson.loads(dapr) == orjson.loads(document)
    except orjson.JSONDecodeError:
        return False


#: Partitions whose figures are asked for at once by `stats` (each a single-partition query, low priority).
STATS_CONCURRENCY = 4


class ExplorerSession:
    """One explorer session: a workspace, plus the sidecar addresses it may reconnect to."""

    def __init__(self, workspace: Workspace, sidecar_addresses: Sequence[str] = (), api_token: str | None = None,
                 audit: AuditLog | None = None, context_name: str | None = None):
        """`audit`: where writes are recorded (default: explorer.session.audit_log's default file; a read-only session
        never opens it); `context_name`: the named context the session was opened for, if any."""
        self.workspace = workspace
        self._addresses = list(sidecar_addresses)
        self._api_token = api_token
        self._api_tokens: dict[str, str] = {}  # address -> its own token (a context's); the others get api_token
        self._token_variables: dict[str, str] = {}  # address -> the variable its token is read from (named in refusals)
        self._connected: dict[str, str] = {}  # address -> app-id
        self.audit = audit if audit is not None else AuditLog()
        self._whos: dict[str, Who] = {}  # store -> its audit records' Who, once its identity was asked (see _who)
        self.context_name = context_name

    def __repr__(self) -> str:  # tokens stay out of tracebacks
        return f"ExplorerSession(context={self.context_name!r}, addresses={self._addresses!r})"

    @classmethod
    async def open(cls, components_paths, sidecar_addresses: Sequence[str], api_token: str | None,
                   read_only: bool, ca_file: str | None, start_sidecars: bool = True, daprd: str | None = None,
                   on_sidecar_started=None, api_tokens: Mapping[str, str] | None = None,
                   context_name: str | None = None, ru_per_second: float | None = None,
                   token_variables: Mapping[str, str] | None = None) -> ExplorerSession:
        """`start_sidecars`, `daprd`, `on_sidecar_started`: the explorer's own daprd for an app-id whose
        sidecar is not reachable (writable sessions only; see explorer.dapr.own_sidecar). `api_tokens`: address ->
        the token sent to that sidecar instead of `api_token` (a context's per-sidecar token variables);
        `context_name`: the named context the session is opened on; `ru_per_second`: the RU budget of
        scans, searches and exports (None: unpaced); `token_variables`: address -> the name of the variable its
        token comes from, named when that sidecar refuses it."""
        workspace = await open_workspace(components_paths, [], api_token=api_token, read_only=read_only,
                                         ca_file=ca_file, start_sidecars=start_sidecars, daprd=daprd,
                                         on_sidecar_started=on_sidecar_started, ru_per_second=ru_per_second)
        session = cls(workspace, sidecar_addresses, api_token, context_name=context_name)
        session._api_tokens = dict(api_tokens or {})
        session._token_variables = dict(token_variables or {})
        await session.reconnect_sidecars()
        return session

    @property
    def read_only(self) -> bool:
        return self.workspace.read_only

    def last_charge(self, store: str) -> float:
        """Request charge (RU) of the most recent Cosmos call made for `store`'s account."""
        return self.workspace.lister(store).last_charge

    def cosmos_load(self, store: str) -> CosmosLoad:
        """RU spent on `store`'s account this session, its budget, and a 429 wait under way."""
        lister = self.workspace.lister(store)
        return CosmosLoad(lister.ru_spent, lister.budget.ru_per_second if lister.budget else None, lister.throttled_for())

    def stores(self) -> list[Store]:
        return self.workspace.stores()

    @property
    def sidecar_problems(self) -> list[str]:
        return list(self.workspace.sidecar_problems)

    @property
    def component_problems(self) -> list[str]:
        """One line per component file (or component) that could not be used."""
        return [str(p) for p in self.workspace.component_problems]

    @property
    def sidecar_app_ids(self) -> list[str]:
        """App-ids of the sidecars this session can read and write through."""
        return sorted(self.workspace.sidecars)

    async def reconnect_sidecars(self) -> None:
        """Ask every sidecar address again; a sidecar that comes back is used without a restart."""
        ws = self.workspace
        ws.sidecar_problems.clear()
        ws.refusals.clear()
        for address in self._addresses:
            app_id = self._connected.get(address)
            client = ws.sidecars.get(app_id) if app_id else None
            if client is not None:
                try:
                    self._remember(await client.metadata())
                    continue
                except SidecarError:
                    pass  # down, or back but its channel still waits out gRPC's reconnect backoff
            try:
                await self._connect(address, replacing=client)
            except SidecarError as exc:
                if isinstance(exc, SidecarRefused):  # it answers: its app-id's writes wait for its token
                    exc = ws.refusals[address] = exc.naming(self._token_variables.get(address))
                ws.sidecar_problems.append(f"{address}: {exc}")
                ws.sidecar_metadata = [m for m in ws.sidecar_metadata if m.app_id != app_id]

    def _remember(self, meta) -> None:
        ws = self.workspace
        ws.sidecar_metadata = [m for m in ws.sidecar_metadata if m.app_id != meta.app_id] + [meta]

    async def _connect(self, address: str, replacing: SidecarClient | None = None) -> SidecarClient:
        """A new channel to `address`, used from now on under the app-id it reports (raises
        SidecarError if nothing answers). A client that stopped answering stays registered until
        a new one answers: writes then fail plainly instead of going elsewhere."""
        ws = self.workspace
        client = SidecarClient(address, api_token=self._api_tokens.get(address, self._api_token), timeout=5)
        try:
            meta = await client.metadata()
        except SidecarError:
            await client.close()
            raise
        self._remember(meta)
        ws.sidecars[meta.app_id] = client
        self._connected[address] = meta.app_id
        ws.sidecar_problems[:] = [p for p in ws.sidecar_problems if not p.startswith(f"{address}: ")]
        ws.refusals.pop(address, None)
        if replacing is not None and replacing is not client:
            await replacing.close()
        return client

    async def _dapr_get(self, sidecar: SidecarClient, store: str, key: str, partition: str):
        """A read through `sidecar`; if it does not answer, once more on a new channel to its
        address (only reads are asked twice), so a sidecar that came back answers at once."""
        try:
            return await sidecar.get(store, key, {"partitionKey": partition})
        except SidecarUnavailable as exc:
            down = exc
        if sidecar.address not in self._addresses:  # not one we were given (the explorer's own daprd)
            raise down
        try:
            fresh = await self._connect(sidecar.address, replacing=sidecar)
        except SidecarError:
            raise down from None
        return await fresh.get(store, key, {"partitionKey": partition})

    async def findings(self, store: str) -> list[Finding]:
        """The doctor's findings for one store; file-only checks when Cosmos cannot be asked."""
        return (await self.doctor(store))[0]

    async def doctor(self, store: str) -> tuple[list[Finding], str | None]:
        """The doctor's findings for one store, and why Cosmos was not checked (None: it was)."""
        component = self.workspace.component(store)
        try:
            facts, note = await self.workspace.cosmos_facts(component), None
        except Exception as exc:  # noqa: BLE001 - the account may be unreachable; file checks still count
            facts, note = None, f"Cosmos not checked ({describe(exc)})"
        return diagnose(component, facts), note

    def default_app_id(self) -> str | None:
        """The app-id of the one reachable sidecar (None: none, or several)."""
        return self.workspace.default_app_id()

    async def read(self, location: StoreLocation, doc_id: str, partition: str) -> KeyValue:
        """One key by its document id and partition (NotFound if it is not there)."""
        return await self.workspace.gateway(location.store).get(location, doc_id, partition, time.time())

    async def partitions_of(self, location: StoreLocation, doc_id: str) -> list[str]:
        """The partitionKey of every item with this id (normally one; Dapr can leave twins)."""
        lister = self.workspace.lister(location.store)
        items = await lister.items_with_id(location.database, location.container, doc_id)
        return sorted({partition_of(item) for item in items})

    def documents(self, location: StoreLocation, partition: str) -> AsyncIterator[dict]:
        """Every whole document of a partition, a page at a time (for export)."""
        lister = self.workspace.lister(location.store)
        return lister.iter_documents(location.database, location.container, partition)

    async def location(self, store: str) -> StoreLocation:
        return await self.workspace.location(store)

    def workflows(self, location: StoreLocation) -> WorkflowReader:
        """The workflow instances and histories of a store (read-only queries; see workflow_reader)."""
        return WorkflowReader(self.workspace.lister(location.store), location)

    def agents(self, location: StoreLocation) -> AgentsReader:
        """The dapr-agents teams, runs and memory of a store (read-only queries; see agents_reader)."""
        return AgentsReader(self.workspace.lister(location.store), location)

    async def partitions(self, location: StoreLocation) -> AsyncIterator[PartitionBatch]:
        lister = self.workspace.lister(location.store)
        async for batch in lister.partitions(location.database, location.container):
            yield batch

    async def stats(self, location: StoreLocation, on_progress: Callable[[StatsProgress], None] | None = None,
                    concurrency: int = STATS_CONCURRENCY, now: float | None = None) -> AsyncIterator[PartitionStats]:
        """Each partition's figures (explorer.core.stats), as they arrive: partitions are discovered by
        DISTINCT and each one's figures asked for by `concurrency` single-partition queries at a time
        while discovery goes on, all through the store's lister (low priority, paced by its RU budget).
        `on_progress` hears after every discovery page and every partition. Expiries are bucketed
        against one instant (`now`, default the start). Stop by leaving the loop (or cancelling the
        worker): every query under way is cancelled. The first error ends the run and is raised."""
        lister = self.workspace.lister(location.store)
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

    async def keys_page(self, location: StoreLocation, partition: str, continuation: str | None,
                        page_size: int = 100) -> KeyPage:
        lister = self.workspace.lister(location.store)
        return await lister.keys_page(location.database, location.container, partition, continuation, page_size)

    def listed_keys(self, location: StoreLocation, partition: str) -> AsyncIterator[KeyRow]:
        """Every key of a partition as listed (id, partitionKey, etag, ttl), a page in memory at a time."""
        return self.workspace.lister(location.store).iter_keys(location.database, location.container, partition)

    async def find_id(self, location: StoreLocation, text: str) -> list[FoundId]:
        """Items whose id is `text`, or whose Dapr key is `text` under any connected app-id."""
        lister = self.workspace.lister(location.store)
        candidates = [text]
        for app_id in list(self.workspace.sidecars) or [""]:
            try:
                doc_id = document_id(text, location.key_prefix, app_id, location.store)
            except ValueError:  # '||' in it: already a document id (actor/workflow state)
                break
            if doc_id not in candidates:
                candidates.append(doc_id)
        found: list[FoundId] = []
        for doc_id in candidates:
            for item in await lister.items_with_id(location.database, location.container, doc_id):
                found.append(FoundId(doc_id, partition_of(item)))
        return found

    async def open_key(self, location: StoreLocation, doc_id: str, partition: str) -> OpenedKey:
        """The document by point read, as soon as it lands. When a sidecar can read the key,
        `dapr_app` names it: `check_through_dapr` then compares Dapr's read with the document."""
        gateway = self.workspace.gateway(location.store)
        key = await gateway.get(location, doc_id, partition, time.time())
        state_key = key.state_key
        if isinstance(key.partition_key, MissingPartitionKey):  # Dapr always reads with a partitionKey
            return OpenedKey(key, "Cosmos point read (no partitionKey: Dapr cannot address this item)")
        if state_key.kind is KeyKind.PLAIN and state_key.read_only_reason is None:
            if gateway.sidecar_for(state_key.app_id) is not None:
                app = state_key.app_id or next(iter(self.workspace.sidecars), "?")
                return OpenedKey.asking_dapr(key, app)
        why = state_key.read_only_reason or f"no sidecar for app-id {state_key.app_id or '(none)'} is connected"
        return OpenedKey(key, f"Cosmos point read ({why.split(':')[0]})")

    async def check_through_dapr(self, location: StoreLocation, opened: OpenedKey) -> OpenedKey:
        """`opened` with Dapr's verdict: read through the owning sidecar, same value and etag or not."""
        if opened.dapr_app is None:
            return opened
        key, app = opened.key, opened.dapr_app
        sidecar = self.workspace.gateway(location.store).sidecar_for(key.state_key.app_id)
        if sidecar is None:
            return OpenedKey(key, "Cosmos point read", (f"no sidecar for app-id {app} is connected",), app, True)
        try:
            read = await self._dapr_get(sidecar, location.store, key.state_key.key, key.partition_key)
        except Exception as exc:  # noqa: BLE001 - the document is shown; Dapr's failure is a warning on it
            return OpenedKey(key, "Cosmos point read", (f"Dapr could not read it: {exc}",), app, True)
        warnings = []
        if read.etag and read.etag != key.etag:
            warnings.append(f"Dapr returned etag {read.etag}; Cosmos has {key.etag} (changed between the two reads? press r)")
        elif not _same_value(read.data, key.value_bytes, key.is_binary):
            warnings.append("Dapr returned a different value than the document holds; showing the document's")
        return OpenedKey(key, f"Dapr ({app})", tuple(warnings), app, True)

    def _writable(self, store: str) -> WritableGateway:
        gateway = self.workspace.gateway(store)
        if self.read_only or not isinstance(gateway, WritableGateway):
            raise ReadOnlyRefusal("read-only session: nothing can be written (started with --read-only). Nothing was sent.")
        return gateway

    def record_refusal(self, location: StoreLocation, state_key: StateKey, partition: str, operation: str,
                       reason: str, before: KeyValue | None = None, etag: str | None = None) -> None:
        """One "refused" audit line for a write the user did not confirm (a production context's name
        not typed): nothing was sent. `operation`: save, create or delete; `etag`: the one the write
        would have been checked against, when `before` was not read (a bulk action's listed etag)."""
        self.record_refusals(location, [(state_key, partition, operation, before, etag)], reason)

    def record_refusals(self, location: StoreLocation,
                        writes: Iterable[tuple[StateKey, str, str, KeyValue | None, str | None]], reason: str) -> None:
        """The "refused" audit lines of writes not confirmed (see record_refusal), each
        (state_key, partition, operation, before, etag), on disk in one go before this returns."""
        if self.read_only:
            return  # nothing can be written, so nothing was refused: a read-only session never opens the log
        now, by = time.time(), self._who(location.store)
        records = []
        for state_key, partition, operation, before, etag in writes:
            kind = WriteKind.DELETE if operation == "delete" else WriteKind.SAVE
            change = KeyChange(kind, state_key, partition, etag if before is None else before.etag,
                               create_only=operation == "create")
            records.append(record_for(change, location.store, by, now, Outcome.REFUSED,
                                      before=None if before is None else before.value_bytes,
                                      before_is_binary=before is not None and before.is_binary, error=reason))
        self.audit.append(*records)

    async def record_skip(self, location: StoreLocation, change: KeyChange, reason: str,
                          on_logged: Callable[[asyncio.Future], None] | None = None) -> None:
        """The "skipped" audit line of a key of a confirmed dry run (bulk, import) that is not written
        because it changed or was deleted since: nothing is sent. `on_logged` as for `write`."""
        if not self.audit.writable:
            await asyncio.to_thread(self.audit.ready)
        await self._log(location, change, time.time(), Outcome.SKIPPED, None, None, on_logged, error=reason)

    async def write(self, location: StoreLocation, change: KeyChange, before: KeyValue | None = None,
                    ttl_choice: TtlChoice | None = None,
                    on_logged: Callable[[asyncio.Future], None] | None = None, planned: bool = False) -> KeyValue | None:
        """Carry out one write (the gateway's one write path), read the item back (None after a
        delete), and append its audit record — done, conflict, refused or failed — before the
        outcome is reported. `before`: the key as it was read (its value is hashed and diffed).
        A failed read-back after a save says the save happened. An audit log that cannot be
        written refuses the write before anything is sent.

        `on_logged`, if given, takes over the wait for the audit line: it is handed the line's future
        (done once the line is on disk, or failed with AuditUnavailable) as soon as the line is queued,
        and the write returns, or raises, without waiting for the disk. The caller must not report
        the outcome before that future is done: the bulk runner sends the next key meanwhile.

        `planned`: the write is one key of a confirmed dry run (bulk, import): refused by its etag
        (changed or deleted since the dry run), it is recorded `skipped`, not `conflict`."""
        gateway = self._writable(location.store)
        if not self.audit.writable:
            await asyncio.to_thread(self.audit.ready)  # file I/O off the event loop (the TUI's, or the bulk runner's)
        started = time.time()
        try:
            await gateway.write(location, change)
        except EtagConflict as exc:
            await self._log(location, change, started, Outcome.SKIPPED if planned else Outcome.CONFLICT, before,
                            ttl_choice, on_logged, error=exc)
            raise
        except BaseException as exc:  # cancelled too: whether it reached Cosmos is not known
            outcome = Outcome.REFUSED if isinstance(exc, ExplorerError) and exc.refused else Outcome.FAILED
            await self._log(location, change, started, outcome, before, ttl_choice, on_logged, error=exc)
            raise
        if change.kind is WriteKind.DELETE:
            await self._log(location, change, started, Outcome.DONE, before, ttl_choice, on_logged)
            return None
        try:
            saved = await gateway.get(location, change.state_key.doc_id, change.partition, time.time())
        except Exception as exc:  # noqa: BLE001 - the write happened; say so, whatever the read-back did
            await self._log(location, change, started, Outcome.UNVERIFIED, before, ttl_choice, on_logged, error=exc)
            raise SavedUnverified(
                f"saved through Dapr, but reading it back from Cosmos failed ({describe(exc)}); read the key again "
                "to see what it holds"
            ) from exc
        await self._log(location, change, started, Outcome.DONE, before, ttl_choice, on_logged, etag_after=saved.etag)
        return saved

    async def _log(self, location: StoreLocation, change: KeyChange, started: float, outcome: Outcome,
                   before: KeyValue | None, ttl_choice: TtlChoice | None,
                   on_logged: Callable[[asyncio.Future], None] | None, etag_after: str | None = None,
                   error: BaseException | str | None = None) -> None:
        """Append one write's audit record: returns once it is on disk, or, with `on_logged`, hands it
        the line's future as soon as the line is queued."""
        line = self.audit.append_soon(partial(  # made in the audit log's thread, with the rest of its flush
            record_for, change, location.store, self._who(location.store), started, outcome,
            before=None if before is None else before.value_bytes,
            before_is_binary=before is not None and before.is_binary, etag_after=etag_after,
            ttl_choice=None if ttl_choice is None else ttl_choice.text,
            error=error if error is None or isinstance(error, str) else describe(error)))
        if on_logged is not None:
            on_logged(line)
        else:
            await line  # cancelled meanwhile: only this wait is; the line is still written

    def _who(self, store: str) -> Who:
        """Who writes to `store`, for its audit records: the OS user and host, the context, and the
        identity to the store's Cosmos account (None: not known). Asked once per store, after its
        first write: by then its credential has answered (the key was read first), so the description
        no longer changes, and a bulk action does not re-plan its sign-in for every key."""
        known = self._whos.get(store)
        if known is not None:
            return known
        describe_identity = getattr(self.workspace, "identity", None)
        try:
            identity = describe_identity(store) if describe_identity else None
        except Exception:  # noqa: BLE001 - the audit line says "unknown" rather than stop a write
            return who(self.context_name, None)  # not kept: asked again at the next write
        known = self._whos[store] = who(self.context_name, identity)
        return known

    async def save(self, location: StoreLocation, key: KeyValue, value: bytes | NewValue, ttl: TtlChoice,
                   overwrite: bool = False, change_shape: bool = False) -> KeyValue:
        """Save over an existing key (etag-checked unless `overwrite`), keeping its value shape:
        plain bytes from the editor are JSON text for a JSON item, bytes for a binary one."""
        if not isinstance(value, NewValue):
            value = NewValue.raw(value) if key.is_binary else NewValue.json_bytes(value)
        saved = await self.write(location, KeyChange.save(key, value, ttl, time.time(), overwrite, change_shape),
                                 before=key, ttl_choice=ttl)
        assert saved is not None
        return saved

    async def create(self, location: StoreLocation, state_key: StateKey, partition: str, value: NewValue,
                     ttl: TtlChoice, expected_etag: str | None = None) -> KeyValue:
        """Create a key that does not exist, only if it still does not (an etag expected for it
        means it was deleted meanwhile: a conflict)."""
        saved = await self.write(location, KeyChange.create(state_key, partition, value, ttl, expected_etag),
                                 ttl_choice=ttl)
        assert saved is not None
        return saved

    async def delete(self, location: StoreLocation, key: KeyValue, overwrite: bool = False) -> None:
        await self.write(location, KeyChange.delete(key, overwrite), before=key)

    async def current(self, location: StoreLocation, key: KeyValue) -> KeyValue | None:
        """The item as it is now (None: deleted meanwhile) — shown beside yours after a conflict."""
        try:
            return await self.read(location, key.state_key.doc_id, key.partition_key)
        except NotFound:
            return None

    async def close(self) -> None:
        await self.workspace.close()

    def search(self, location: StoreLocation, query: StateQuery | CosmosQuery, via: str = "cosmos",
               partition: str | None = None, follow: bool = True) -> AsyncIterator[SearchPage]:
        """Pages of a search (explorer.backends.cosmos.search): a Dapr state query (`StateQuery`) directly against
        Cosmos DB (`via` "cosmos", translated as daprd's Cosmos store does) or through a sidecar that
        loaded the store (`via` "dapr", QueryStateAlpha1); raw Cosmos SQL (`CosmosQuery` from
        state_query.raw_sql) directly only. `partition`: one partition only. `follow`: go on with the
        next page's token. Stop by leaving the loop. Raises UsageError/SidecarError before any I/O when
        the search cannot go that way."""
        from explorer.core.state_query import to_cosmos
        from explorer.backends.cosmos.search import search_cosmos, search_dapr, search_sql

        lister = self.workspace.lister(location.store)
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
        return search_dapr(self._query_sidecar(location.store), location.store, query, partition, follow)

    def _query_sidecar(self, store: str) -> SidecarClient:
        """A reachable sidecar that loaded `store` and says it supports Dapr's query API."""
        loaded = [meta for meta in self.workspace.sidecar_metadata
                  if meta.app_id in self.workspace.sidecars and any(s.name == store for s in meta.stores)]
        if not loaded:
            down = f" (not reachable: {self.sidecar_problems[0]})" if self.sidecar_problems else ""
            raise SidecarError(f"no reachable sidecar has loaded {store!r}{down}: start the app's sidecar, or pass "
                               "--dapr-grpc-port for one whose component files include the store.")
        for meta in loaded:
            capabilities = next(s.capabilities for s in meta.stores if s.name == store)
            if "QUERY_API" in capabilities:
                return self.workspace.sidecars[meta.app_id]
        raise SidecarError(f"the sidecar of {loaded[0].app_id} says {store!r} does not support Dapr's query API "
                           f"(its capabilities: {', '.join(next(s.capabilities for s in loaded[0].stores if s.name == store)) or 'none'}).")

    # -- the runs a face starts: bulk, import and diff (each key through `write`), and an agent's run

    async def run_bulk(self, location: StoreLocation, plan: BulkPlan, on_progress=None,
                       cancel: asyncio.Event | None = None) -> BulkReport:
        """Every key of a confirmed bulk plan, written (explorer.session.bulk.run_plan)."""
        return await run_plan(self, location, plan, on_progress, cancel)

    def record_bulk_refusals(self, location: StoreLocation, plan: BulkPlan, reason: str) -> None:
        """The "refused" audit lines of a bulk plan not confirmed (see record_refusals)."""
        self.record_refusals(location, bulk_refusals(plan), reason)

    def read_export(self, path: str, partition: str | None = None) -> list[Exported]:
        """Every record of an export file an import writes or skips (explorer.session.import_run)."""
        return read_export_file(path, partition)

    async def import_dry_run(self, location: StoreLocation, exported: list[Exported], ttl_mode: str,
                             overwrite: bool, on_progress: Callable[[int], None] | None = None) -> ImportPlan:
        """What an import of `exported` would write, key by key, against the store as it is now."""
        return await dry_run(self, location, exported, ttl_mode, overwrite, on_progress)

    async def run_import(self, location: StoreLocation, plan: ImportPlan, on_progress=None,
                         cancel: asyncio.Event | None = None) -> BulkReport:
        """The writes of a confirmed import dry run (explorer.session.import_run.run_import)."""
        return await run_import(self, location, plan, on_progress, cancel)

    def record_import_refusals(self, location: StoreLocation, decisions: Sequence[ImportDecision], reason: str) -> None:
        """The "refused" audit lines of an import not confirmed (see record_refusals)."""
        self.record_refusals(location, import_refusals(decisions), reason)

    def diff_side(self, spec: str, partition: str | None, skipped: list[str]) -> AsyncIterator[SideKey]:
        """The keys of one side of a diff: a store of this session, CONTEXT:STORE, or an export file
        (explorer.session.diff.read_side)."""
        return read_side(self, spec, partition, skipped)

    def agent_stores(self) -> list[str]:
        """The Cosmos stores an agent's run is looked for in (explorer.session.agents.cosmos_stores)."""
        return agent_runs.cosmos_stores(self)

    async def open_run(self, location: StoreLocation, instance_id: str, agent: str | None = None,
                       memory_stores: Sequence[str] = (), workflow_stores: Sequence[str] = (),
                       registered: Agent | None = None) -> RunView:
        """An agent's run by its instance id, put together (explorer.session.agents.open_run)."""
        return await agent_runs.open_run(self, location, instance_id, agent, memory_stores, workflow_stores, registered)

    async def complete_run(self, store: str, run: AgentRun, registered: Agent | None = None) -> RunView:
        """A run's agent, memory and workflow instance (explorer.session.agents.complete_run)."""
        return await agent_runs.complete_run(self, store, run, registered=registered)
