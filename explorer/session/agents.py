"""A dapr-agents run put together across the session's stores: its entry, its agent's registry
entry, its memory, its Dapr workflow instance and its pending approvals.

What it is for: the agents views and `dapr-explorer agent-run`, through the session's `agent_stores`,
`open_run` and `complete_run`. Each store is read through the session's own readers
(explorer.backends.cosmos.agents.AgentsReader, explorer.backends.cosmos.workflows.WorkflowReader).
What it must never do: write, or read a store other than through the session it is handed.
"""

from __future__ import annotations

from collections.abc import Sequence

from explorer.backends.cosmos.agents import RunView, WorkflowLink, no_run
from explorer.core.agents.names import MEMORY_MARK, AgentNames
from explorer.core.agents.runs import AgentRun, Memory, PendingApproval
from explorer.core.agents.teams import Agent
from explorer.core.model import StoreLocation
from explorer.errors import ExplorerError, NotFound, UsageError, describe


def cosmos_stores(session) -> list[str]:
    """The Cosmos stores the session can open (declared in a component file), those a sidecar says
    hold actor state (the workflow stores) first."""
    stores = [s for s in session.stores() if s.type == "state.azure.cosmosdb" and s.declared_in]
    return [s.name for s in sorted(stores, key=lambda s: ("ACTOR" not in s.capabilities, s.name))]


async def find_memory(session, run: AgentRun, stores: Sequence[str]) -> tuple[Memory | None, str | None, str]:
    """The run's memory from the first of `stores` that holds it (one point read each)."""
    looked = []
    for store in dict.fromkeys(stores):
        try:
            location = await session.location(store)
            memory = await session.agents(location).memory(run.agent, run.instance_id, run.document.app_id)
        except ExplorerError as exc:
            looked.append(f"{store} ({describe(exc)})")
            continue
        if memory is not None:
            return memory, store, f"found in {store}"
        looked.append(store)
    key = f"{run.agent}{MEMORY_MARK}{run.instance_id}"
    return None, None, f"no memory key {key!r} in " + (", ".join(looked) or "any store") + \
        " (a run writes memory only when its agent has a memory store and the summarize step ran)"


async def find_workflow(session, run: AgentRun, stores: Sequence[str]) -> tuple[WorkflowLink | None, str]:
    """The Dapr workflow instance of the run's id in the first of `stores` that holds it."""
    looked = []
    for store in dict.fromkeys(stores):
        try:
            location = await session.location(store)
            reader = session.workflows(location)
            try:
                ref = await reader.find_instance(run.instance_id, run.document.app_id)
            except NotFound:
                ref = await reader.find_instance(run.instance_id)
        except NotFound:
            looked.append(store)
            continue
        except ExplorerError as exc:
            looked.append(f"{store} ({describe(exc)})")
            continue
        try:
            summary = await reader.summary(ref)
        except ExplorerError:
            summary = None
        return WorkflowLink(store, location, ref, summary), f"found in {store}"
    return None, (f"no workflow instance {run.instance_id!r} in " + (", ".join(looked) or "any store")
                  + " (purged, or its workflow store is not among the component files)")


async def find_registered(session, agent_state: str, stores: Sequence[str]) -> Agent | None:
    """The agent whose state spelling is `agent_state`, from the first of `stores` that registers it."""
    for store in dict.fromkeys(stores):
        try:
            found = await session.agents(await session.location(store)).find_agent(agent_state)
        except ExplorerError:
            continue
        if found is not None:
            return found
    return None


async def open_run(session, location: StoreLocation, instance_id: str, agent: str | None = None,
                   memory_stores: Sequence[str] = (), workflow_stores: Sequence[str] = (),
                   registered: Agent | None = None) -> RunView:
    """Run `instance_id` of the store at `location`, with its memory and workflow instance (see
    `complete_run`). A run's entry lives in the store its agent registered for workflow entries; when
    `location` holds none — the user gave the agents' registry store, say — the run is found where
    that store's agents keep their workflow entries (their `memory.short_term`), else in any other
    Cosmos store, and the view names the store that held it."""
    try:
        run, store = await session.agents(location).find_run(instance_id, agent), location.store
    except NotFound as missing:
        run, store = await _run_elsewhere(session, location, instance_id, agent, missing)
    return await complete_run(session, store, run, memory_stores, workflow_stores, registered)


async def _run_elsewhere(session, location: StoreLocation, instance_id: str, agent: str | None,
                         missing: NotFound) -> tuple[AgentRun, str]:
    """The run from the stores `location`'s agents registered for their workflow entries, then from every
    other Cosmos store; `missing` (naming every store looked in) when none holds it."""
    try:
        teams = (await session.agents(location).teams()).teams
    except ExplorerError:
        teams = ()
    registered = [a.store_of("short_term") for team in teams for a in team.agents]
    looked = [location.store]
    for store in dict.fromkeys(s for s in (*registered, *cosmos_stores(session)) if s and s != location.store):
        try:
            found = await session.agents(await session.location(store)).find_run(instance_id, agent)
        except NotFound:
            looked.append(store)
            continue
        except UsageError:
            raise
        except ExplorerError:
            continue  # a store that cannot be read here holds nothing we can show
        return found, store
    raise no_run(instance_id, agent, looked) from missing


async def complete_run(session, store: str, run: AgentRun, memory_stores: Sequence[str] = (),
                       workflow_stores: Sequence[str] = (), registered: Agent | None = None) -> RunView:
    """A run's agent, memory and workflow instance. The agent is the registry entry given, else the
    first Cosmos store's that registers it (one query per store, registry documents only). The
    memory is looked for in `memory_stores`, else in the store the agent registered as its memory
    (`memory.long_term`), this store, then every other Cosmos store (a point read each); the
    instance in `workflow_stores`, else in every Cosmos store (actor state stores first)."""
    everywhere = cosmos_stores(session)
    if registered is None:
        registered = await find_registered(session, run.agent, [store, *everywhere])
    hint = registered.store_of("long_term") if registered is not None else None
    candidates = list(memory_stores) or [s for s in (hint, store, *everywhere) if s and (s == store or s in everywhere)]
    memory, memory_store, memory_note = await find_memory(session, run, candidates)
    workflow, workflow_note = await find_workflow(session, run, list(workflow_stores) or everywhere)
    if registered is not None:
        names = registered.names
    else:
        published = workflow.summary.name if workflow is not None and workflow.summary is not None else None
        names = AgentNames(None, run.agent, published)
    approvals: tuple[PendingApproval, ...] = ()
    approvals_document = None
    try:  # the agent keeps them in its state store: the one holding its workflow entries
        found = await session.agents(await session.location(store)).pending_approvals(names, run.document.app_id)
    except ExplorerError:
        found = None
    if found is not None:
        approvals_document = found[0]
        approvals = tuple(a for a in found[1] if a.instance_id == run.instance_id)
    return RunView(store, run, names, registered, memory, memory_store, memory_note, workflow, workflow_note,
                   approvals, approvals_document)
