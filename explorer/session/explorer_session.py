"""The one seam between the faces and everything they read or write: the session, composed of small parts.

What it is for: the TUI's screens (typed by explorer.session.protocol.StoreSession) and the CLI call
only this — store rows, doctor findings, partition batches, key pages, opening a key, saving and
deleting, searches, stats, and the bulk, import, diff and agent-run work — and never import the Cosmos
SDK, the Dapr client or a component resolver. The parts it composes: the workspace (component files,
listers, gateways), its sidecar registry (explorer.session.sidecars), the reads of one key
(explorer.session.reads), the stats engine (explorer.session.stats_run), the one audited write
(explorer.session.writes) and the search routing (explorer.session.search_route).

What it must never do: write in a read-only session (the read-only gateway has
no write methods; `save`/`delete` refuse before any I/O), retry a write after
an etag conflict, or let a secret reach a message it returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence

from explorer.backends.cosmos.agents import AgentsReader, RunView
from explorer.backends.cosmos.search import SearchPage
from explorer.backends.cosmos.workflows import WorkflowReader
from explorer.core.agents.runs import AgentRun
from explorer.core.agents.teams import Agent
from explorer.core.bulk import BulkPlan, BulkReport
from explorer.core.doctor import Finding, diagnose
from explorer.core.envelope import StateKey
from explorer.core.import_plan import Exported, ImportDecision, ImportPlan, SideKey
from explorer.core.listing import KeyPage, KeyRow, PartitionBatch, Store
from explorer.core.model import KeyValue, StoreLocation, TtlChoice, partition_of
from explorer.core.opened import FoundId, OpenedKey
from explorer.core.ru_budget import CosmosLoad
from explorer.core.state_query import CosmosQuery, StateQuery
from explorer.core.stats import PartitionStats, StatsProgress
from explorer.core.writes import KeyChange, NewValue
from explorer.errors import NotFound, describe
from explorer.session import agents as agent_runs, reads
from explorer.session.audit_log import AuditLog
from explorer.session.bulk import refused_writes as bulk_refusals, run_plan
from explorer.session.diff import read_side
from explorer.session.import_run import dry_run, read_export_file, refused_writes as import_refusals, run_import
from explorer.session.search_route import route_search
from explorer.session.stats_run import STATS_CONCURRENCY, stats_run
from explorer.session.workspace import Workspace, open_workspace
from explorer.session.writes import AuditedWrites


class ExplorerSession:
    """One explorer session: a workspace, plus the sidecar addresses it may reconnect to."""

    def __init__(self, workspace: Workspace, audit: AuditLog | None = None, context_name: str | None = None):
        """`audit`: where writes are recorded (default: explorer.session.audit_log's default file; a read-only session
        never opens it); `context_name`: the named context the session was opened for, if any."""
        self.workspace = workspace
        self.writes = AuditedWrites(workspace, audit if audit is not None else AuditLog(), context_name)
        self.context_name = context_name

    def __repr__(self) -> str:  # tokens stay out of tracebacks
        return f"ExplorerSession(context={self.context_name!r}, sidecars={self.workspace.sidecars!r})"

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
        workspace = await open_workspace(components_paths, sidecar_addresses, api_token, read_only, ca_file,
                                         start_sidecars, daprd, on_sidecar_started, ru_per_second, api_tokens,
                                         token_variables)
        return cls(workspace, context_name=context_name)

    @property
    def audit(self) -> AuditLog:
        """Where this session's writes are recorded (the audit view reads it)."""
        return self.writes.audit

    @audit.setter
    def audit(self, log: AuditLog) -> None:
        self.writes.audit = log

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
        return list(self.workspace.sidecars.problems)

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
        await self.workspace.sidecars.reconnect()

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

    def stats(self, location: StoreLocation, on_progress: Callable[[StatsProgress], None] | None = None,
              concurrency: int = STATS_CONCURRENCY, now: float | None = None) -> AsyncIterator[PartitionStats]:
        """Each partition's figures as they arrive (explorer.session.stats_run), through the store's lister."""
        return stats_run(self.workspace.lister(location.store), location, on_progress, concurrency, now)

    async def keys_page(self, location: StoreLocation, partition: str, continuation: str | None,
                        page_size: int = 100) -> KeyPage:
        lister = self.workspace.lister(location.store)
        return await lister.keys_page(location.database, location.container, partition, continuation, page_size)

    def listed_keys(self, location: StoreLocation, partition: str) -> AsyncIterator[KeyRow]:
        """Every key of a partition as listed (id, partitionKey, etag, ttl), a page in memory at a time."""
        return self.workspace.lister(location.store).iter_keys(location.database, location.container, partition)

    async def find_id(self, location: StoreLocation, text: str) -> list[FoundId]:
        """Items whose id is `text`, or whose Dapr key is `text` under any connected app-id."""
        return await reads.find_id(self.workspace, location, text)

    async def open_key(self, location: StoreLocation, doc_id: str, partition: str) -> OpenedKey:
        """The document by point read, as soon as it lands (explorer.session.reads.open_key)."""
        return await reads.open_key(self.workspace, location, doc_id, partition)

    async def check_through_dapr(self, location: StoreLocation, opened: OpenedKey) -> OpenedKey:
        """`opened` with Dapr's verdict: read through the owning sidecar, same value and etag or not."""
        return await reads.check_through_dapr(self.workspace, location, opened)

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
        self.writes.record_refusals(location, writes, reason)

    async def record_skip(self, location: StoreLocation, change: KeyChange, reason: str,
                          on_logged: Callable[[asyncio.Future], None] | None = None) -> None:
        """The "skipped" audit line of a key of a confirmed dry run (explorer.session.writes)."""
        await self.writes.record_skip(location, change, reason, on_logged)

    async def write(self, location: StoreLocation, change: KeyChange, before: KeyValue | None = None,
                    ttl_choice: TtlChoice | None = None,
                    on_logged: Callable[[asyncio.Future], None] | None = None, planned: bool = False) -> KeyValue | None:
        """One write, read back and audited (explorer.session.writes.AuditedWrites.write): the one
        path of every save, create and delete, and of every key of a bulk action or an import."""
        return await self.writes.write(location, change, before, ttl_choice, on_logged, planned)

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
        """Pages of a search (explorer.session.search_route): a Dapr state query (`StateQuery`) directly against
        Cosmos DB (`via` "cosmos", translated as daprd's Cosmos store does) or through a sidecar that
        loaded the store (`via` "dapr", QueryStateAlpha1); raw Cosmos SQL (`CosmosQuery` from
        state_query.raw_sql) directly only. `partition`: one partition only. `follow`: go on with the
        next page's token. Stop by leaving the loop. Raises UsageError/SidecarError before any I/O when
        the search cannot go that way."""
        return route_search(self.workspace.lister(location.store), self.workspace.sidecars, location, query, via,
                            partition, follow)

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
