"""dapr-agents' teams, runs and memory, read from the Cosmos containers of their state stores.

What it is for: the agents views and `dapr-explorer agents` / `agent-run`. Teams are found by
querying for their `_index` documents (`agents:{team}:_index`, partition `agents:{team}`), plus one
query for registry documents in any other `agents:` partition (a team whose `_index` is gone);
a team's agents are the documents of its partition (one single-partition query). An agent's runs
are its workflow entries, found by id prefix (`<app>||weather-bot:_workflow_`); one run is found by
id suffix (`:_workflow_<instance>`). A run's memory is one point read per store asked
(`<app>||weather-bot:_memory_<instance>`, in the partition Dapr gives a key without a
partitionKey: its id). Putting a run together across stores (its memory, the Dapr workflow instance
of the same id) is the session's (explorer.session.agents). Decoding is `explorer.core.agents`'.

What it must never do: write; call the session back; read every item of a container (only registry documents, one
agent's entries, and the documents named by id); hold more than the page it is asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from explorer.core.agents.names import (
    INDEX_NAME,
    MEMORY_MARK,
    REGISTRY_PREFIX,
    WORKFLOW_MARK,
    AgentNames,
    RunPart,
    parse_run_key,
    run_id_prefix,
    state_name,
    team_partition,
)
from explorer.core.agents.runs import (
    AgentRun,
    Memory,
    PendingApproval,
    RunSummary,
    decode_memory,
    decode_pending_approvals,
    decode_run,
)
from explorer.core.agents.schema import Problem, Stored
from explorer.core.agents.teams import Agent, Team, build_teams
from explorer.core.envelope import document_id
from explorer.core.model import StoreLocation
from explorer.backends.cosmos.lister import CosmosLister
from explorer.errors import NotFound, UsageError

#: The teams' `_index` documents (`value` is a keyword of Cosmos SQL, hence SELECT *).
INDEX_QUERY = "SELECT * FROM c WHERE STARTSWITH(c.partitionKey, @registry) AND ENDSWITH(c.id, @index)"
RUN_PAGE = 25
PARTITIONS_PER_QUERY = 100


@dataclass(frozen=True)
class TeamsRead:
    """The teams of a registry store and what reading them cost."""

    teams: tuple[Team, ...]
    request_charge: float
    documents: int  # registry documents read


@dataclass(frozen=True)
class RunPage:
    runs: tuple[RunSummary, ...]
    continuation: str | None
    request_charge: float


@dataclass(frozen=True)
class WorkflowLink:
    """The Dapr workflow instance that runs an agent run: which store holds it, where its documents
    are (an explorer.core.workflows.summary.InstanceRef) and its summary (status, name, failure)."""

    store: str
    location: StoreLocation
    ref: Any  # InstanceRef
    summary: Any  # InstanceSummary, or None when it could not be read

    def to_json(self) -> dict:
        summary = self.summary.to_json() if self.summary is not None else None
        return {"store": self.store, "instance_id": self.ref.instance_id, "app_id": self.ref.app_id,
                "partitionKey": self.ref.partition, "status": summary["status"] if summary else None,
                "instance": summary}


@dataclass(frozen=True)
class RunView:
    """One run put together: the entry (in `store`), the agent's names (and its registry entry,
    when a store registers it), its memory (in `memory_store`, None: not found where looked), the
    workflow instance (None: not found), and what was looked at for each."""

    store: str
    run: AgentRun
    names: AgentNames
    agent: Agent | None
    memory: Memory | None
    memory_store: str | None
    memory_note: str
    workflow: WorkflowLink | None
    workflow_note: str
    approvals: tuple[PendingApproval, ...] = ()  # this run's, from the agent's pending approvals
    approvals_document: Stored | None = None

    @property
    def waiting(self) -> tuple[str, ...]:
        """What the run waits for: what its entry says, and the approvals the agent keeps for it."""
        asked = {f"tool {a.step}" for a in self.approvals}  # the tool call an approval holds back
        return tuple(w for w in self.run.waiting if w not in asked) + tuple(a.summary for a in self.approvals)

    def to_json(self) -> dict:
        return {"store": self.store, "names": self.names.to_json(), **self.run.to_json(),
                "waiting": list(self.waiting), "pending_approvals": [a.to_json() for a in self.approvals],
                "pending_approvals_document": self.approvals_document.to_json() if self.approvals_document else None,
                "registered": ({"team": self.agent.team, "id": self.agent.document.doc_id}
                               if self.agent is not None and self.agent.document is not None else None),
                "memory": ({"store": self.memory_store, **self.memory.to_json()} if self.memory else None),
                "memory_note": self.memory_note,
                "workflow": self.workflow.to_json() if self.workflow else None, "workflow_note": self.workflow_note}


class AgentsReader:
    """Read-only queries for dapr-agents state in one store (one container), through a CosmosLister."""

    def __init__(self, lister: CosmosLister, location: StoreLocation):
        self._lister = lister
        self._location = location

    @property
    def location(self) -> StoreLocation:
        return self._location

    async def _query(self, sql: str, parameters: list[dict[str, Any]] | None = None, partition: str | None = None,
                     continuation: str | None = None, page_size: int = 100, operation: str = "query"):
        loc = self._location
        return await self._lister.query_page(loc.database, loc.container, sql, parameters, partition, continuation,
                                             page_size, operation)

    async def _all(self, sql: str, parameters: list[dict[str, Any]], partition: str | None = None,
                   operation: str = "query") -> tuple[list[dict[str, Any]], float]:
        items: list[dict[str, Any]] = []
        charge = 0.0
        token: str | None = None
        while True:
            page = await self._query(sql, parameters, partition, token, 100, operation)
            items.extend(page.items)
            charge += page.request_charge
            token = page.continuation
            if not token:
                return items, charge

    async def team_names(self) -> tuple[list[str], float]:
        """Every team of the store: those with an `_index` document, then any other `agents:`
        partition (a team whose index is gone). Reads the index documents and, for the second
        query, the partitionKey of registry documents outside the teams already found."""
        indexes, charge = await self._all(INDEX_QUERY, [{"name": "@registry", "value": REGISTRY_PREFIX},
                                                         {"name": "@index", "value": f":{INDEX_NAME}"}],
                                          operation="find agent teams")
        partitions = list(dict.fromkeys(str(i.get("partitionKey")) for i in indexes
                                        if str(i.get("partitionKey", "")).startswith(REGISTRY_PREFIX)))
        names = [p[len(REGISTRY_PREFIX):] for p in partitions]
        known = partitions[:PARTITIONS_PER_QUERY]
        marks = [f"@p{n}" for n in range(len(known))]
        sql = "SELECT c.partitionKey FROM c WHERE STARTSWITH(c.partitionKey, @registry)"
        if known:
            sql += f" AND NOT (c.partitionKey IN ({', '.join(marks)}))"
        rest, more = await self._all(sql, [{"name": "@registry", "value": REGISTRY_PREFIX},
                                           *({"name": m, "value": p} for m, p in zip(marks, known))],
                                     operation="find agent teams without an index")
        for item in rest:
            team = str(item.get("partitionKey", ""))[len(REGISTRY_PREFIX):]
            if team and team not in names:
                names.append(team)
        return names, charge + more

    async def team(self, name: str) -> TeamsRead:
        """One team's registry documents (its partition `agents:{name}`), as teams: one per id
        prefix (app) that keeps an index or agents there."""
        items, charge = await self._all("SELECT * FROM c WHERE c.partitionKey = @pk",
                                        [{"name": "@pk", "value": team_partition(name)}],
                                        partition=team_partition(name), operation="read agent team")
        loc = self._location
        return TeamsRead(tuple(build_teams(items, loc.key_prefix, loc.store)), charge, len(items))

    async def teams(self, only: str | None = None) -> TeamsRead:
        """Every team of the store (or the one named `only`: NotFound when its partition holds no
        registry document), its agents and their flags."""
        charge = 0.0
        if only is not None:
            names = [only]
        else:
            names, charge = await self.team_names()
        teams: list[Team] = []
        documents = 0
        for name in names:
            read = await self.team(name)
            teams.extend(read.teams)
            charge += read.request_charge
            documents += read.documents
        if only is not None and not teams:
            raise NotFound(f"no agent team {only!r} in {self._location.store} (no document in partition "
                           f"{team_partition(only)!r}; `dapr-explorer agents {self._location.store}` lists the teams)")
        return TeamsRead(tuple(teams), charge, documents)

    async def find_agent(self, agent_state: str) -> Agent | None:
        """The registry's agent whose state spelling is `agent_state` (`weather-bot`), from the
        store's agent documents (not the indexes); None when the store registers none."""
        items, _ = await self._all("SELECT * FROM c WHERE STARTSWITH(c.partitionKey, @registry) "
                                   "AND NOT ENDSWITH(c.id, @index)",
                                   [{"name": "@registry", "value": REGISTRY_PREFIX},
                                    {"name": "@index", "value": f":{INDEX_NAME}"}], operation="find agent")
        loc = self._location
        for team in build_teams(items, loc.key_prefix, loc.store):
            for agent in team.agents:
                if agent.names.state == agent_state and agent.document is not None:
                    return agent
        return None

    def _run_prefixes(self, agent_state: str, app_ids: Sequence[str | None]) -> list[str]:
        loc = self._location
        prefixes = []
        for app in dict.fromkeys(app_ids or [None]):
            try:
                prefixes.append(run_id_prefix(agent_state, loc.key_prefix, app, loc.store))
            except ValueError:
                continue
        return list(dict.fromkeys(prefixes))

    async def runs_page(self, agent_state: str, app_ids: Sequence[str | None] = (), continuation: str | None = None,
                        page_size: int = RUN_PAGE) -> RunPage:
        """One page of an agent's runs: its workflow entries, by id prefix (`<app>||weather-bot:_workflow_`
        for each app-id given: the agent's own, and its registry document's prefix)."""
        prefixes = self._run_prefixes(agent_state, app_ids)
        if not prefixes:
            return RunPage((), None, 0.0)
        marks = [f"@p{n}" for n in range(len(prefixes))]
        sql = "SELECT * FROM c WHERE " + " OR ".join(f"STARTSWITH(c.id, {m})" for m in marks)
        page = await self._query(sql, [{"name": m, "value": p} for m, p in zip(marks, prefixes)],
                                 continuation=continuation, page_size=page_size, operation="list agent runs")
        loc = self._location
        runs = tuple(RunSummary.of(decode_run(item, loc.key_prefix, loc.store)) for item in page.items)
        return RunPage(runs, page.continuation, page.request_charge)

    async def find_run(self, instance_id: str, agent: str | None = None) -> AgentRun:
        """The workflow entry of run `instance_id` (of `agent`, in any of its spellings, when
        given): NotFound, or a UsageError naming the agents when several have a run of that id."""
        wanted = instance_id.strip().lower()  # dapr-agents writes the key in lower case
        if not wanted or "||" in wanted:
            raise UsageError(f"{instance_id!r} is not a run id (the workflow instance id of an agent run)")
        items, _ = await self._all("SELECT * FROM c WHERE ENDSWITH(c.id, @suffix)",
                                   [{"name": "@suffix", "value": f"{WORKFLOW_MARK}{wanted}"}], operation="find agent run")
        loc = self._location
        runs = []
        for item in items:
            run = decode_run(item, loc.key_prefix, loc.store)
            key = parse_run_key(run.document.key)
            if key is None or key.part is not RunPart.WORKFLOW or key.instance_id != wanted:
                continue
            if agent is not None and key.agent not in (agent, state_name(agent)):
                continue
            runs.append(run)
        if not runs:
            raise no_run(instance_id, agent, [loc.store])
        if len(runs) > 1:
            agents = ", ".join(sorted({f"{r.agent} (app {r.document.app_id})" for r in runs}))
            raise UsageError(f"run {instance_id!r} exists for several agents ({agents}); pick one with --agent")
        return runs[0]

    async def run(self, doc_id: str, partition: str) -> AgentRun:
        """A workflow entry by its document id and partition (its key, as dapr-agents saves it)."""
        loc = self._location
        item = await self._lister.read_item(loc.database, loc.container, doc_id, partition)
        return decode_run(item, loc.key_prefix, loc.store)

    def memory_id(self, agent_state: str, instance_id: str, app_id: str | None) -> str:
        loc = self._location
        return document_id(f"{agent_state}{MEMORY_MARK}{instance_id}".lower(), loc.key_prefix, app_id or "",
                           loc.store)

    async def pending_approvals(self, names: AgentNames, app_id: str | None) \
            -> tuple[Stored, tuple[PendingApproval, ...], tuple[Problem, ...]] | None:
        """The agent's `<name>:pending_approvals` document, by point read (None: not in this store,
        or the agent's registry name is not known)."""
        key = names.approvals_key
        if key is None:
            return None
        loc = self._location
        try:
            doc_id = document_id(key, loc.key_prefix, app_id or "", loc.store)
            item = await self._lister.read_item(loc.database, loc.container, doc_id, doc_id)
        except (ValueError, NotFound):
            return None
        return decode_pending_approvals(item, loc.key_prefix, loc.store)

    async def memory(self, agent_state: str, instance_id: str, app_id: str | None) -> Memory | None:
        """The run's memory array, by point read (None: this store does not hold it)."""
        loc = self._location
        try:
            doc_id = self.memory_id(agent_state, instance_id, app_id)
        except ValueError:
            return None
        try:
            item = await self._lister.read_item(loc.database, loc.container, doc_id, doc_id)
        except NotFound:
            return None
        return decode_memory(item, loc.key_prefix, loc.store)


def no_run(instance_id: str, agent: str | None, stores: Sequence[str]) -> NotFound:
    which = f" of agent {agent!r}" if agent else ""
    return NotFound(f"no agent run {instance_id!r}{which} in {', '.join(stores)} (no document "
                    f"'…{WORKFLOW_MARK}{instance_id.strip().lower()}'; a run's id is its Dapr workflow instance id, "
                    "which `dapr-explorer workflows` lists)")
