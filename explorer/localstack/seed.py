"""Seed the local stack with state shaped like real Dapr apps' state, all of it written by daprd.

Plain state keys are written THROUGH daprd (its gRPC state API), so every document envelope (id
prefix, partitionKey, isBinary, ttl) is Dapr's own.

Actor and workflow state is written by daprd's actor runtime and workflow engine, driven through
daprd when the stack runs the apps (`LocalStack(apps=True)`, explorer.localstack.apps): the actor
app's methods are invoked (`POST /v1.0/actors/<type>/<id>/method/<m>` on the `cart-service`
sidecar) and the SDK saves their state through daprd; the workflow instances of
workflow_app.SEEDED_INSTANCES are scheduled, terminated where they should be, and waited for with
Dapr's workflow client until each has reached its state (completed, failed after retries, waiting
for an event, on a timer, with a child, terminated). A stack without the apps gets the plain keys
only: daprd's state API refuses keys containing "||", and documents made up in Dapr's envelope are
never written.

The agents store holds what the dapr-agents app (stack/agents/app.py) writes, and nothing of ours:
when the stack runs it (`stack.runs_agents`), its team registered itself at start, and the seed
starts the runs of AGENT_RUNS through daprd's workflow API — each agent's workflow name read from
its registry entry, as another process would dispatch to it — and waits until each has completed,
failed, or waits for its approval. Without the agents app the agents store stays empty.

Seeding again is harmless: plain keys and actor state are set to the same values, an instance that
exists is left alone unless it ended in another state than its own (then it is started again).

Never writes to a store that is not in the stack it is given.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import orjson

from explorer.errors import StackError
from explorer.localstack.apps import ACTOR_APP_ID, AGENTS_APP_ID, AGENTS_TEAM, WORKFLOW_APP_ID
from explorer.localstack.manager import LocalStack
from explorer.dapr.sidecar import SidecarClient, StateWrite

AGENTS_STORE = "statestore-agents-cosmos"
CACHE_STORE = "statestore-cache-cosmos"
WORKFLOWS_STORE = "statestore-workflows-cosmos"
AGENTS_APP = AGENTS_APP_ID
CACHE_APP = "chat-api"
WORKFLOWS_APP = WORKFLOW_APP_ID
ACTORS_APP = ACTOR_APP_ID
WORKFLOW_ACTOR_TYPE = f"dapr.internal.default.{WORKFLOWS_APP}.workflow"
#: Where the dapr-agents app keeps its workflow entries, memory and pending approvals (stack/agents/app.py's
#: STATE_STORE): the actor state store, beside Dapr's history of the same runs.
STATE_STORE_OF_AGENTS = WORKFLOWS_STORE
#: How long the seed waits for the apps' state (every instance in its state, every actor call answered).
APPS_TIMEOUT = 60.0



@dataclass(frozen=True)
class SeedSummary:
    plain_keys: int
    actor_keys: int  # actor state keys the actor app's methods set (0 without the apps)
    workflow_states: tuple[tuple[str, str], ...]  # (instance id, runtime status), children included
    scale_keys: int
    seconds: float
    agents: tuple[str, ...] = ()  # the agents the dapr-agents app registered (its team's _index)
    agent_runs: tuple[tuple[str, str], ...] = ()  # (instance id, runtime status) of each agent run

    @property
    def workflow_instances(self) -> int:
        return len(self.workflow_states)


# -- the cache store: partitioned by sessionType, every entry with a TTL --------------------


CACHE_TTLS = (30, 45, 60, 120, 300, 600, 900, 1800, 3600)


def cache_writes() -> list[StateWrite]:
    writes = []
    for i, ttl in enumerate(CACHE_TTLS):
        session_type = ("user", "llm", "temp")[i % 3]
        writes.append(
            StateWrite(
                key=f"session:{session_type}:{1000 + i}",
                value=orjson.dumps({"sessionType": session_type, "turns": i + 1, "lastPrompt": f"prompt #{i}"}),
                metadata={"partitionKey": session_type, "ttlInSeconds": str(ttl)},
            )
        )
    writes.append(
        StateWrite(
            key="session:user:ümlaut-ñ",
            value=orjson.dumps({"sessionType": "user", "locale": "de-DE"}),
            metadata={"partitionKey": "user", "ttlInSeconds": "1800"},
        )
    )
    return writes


# -- the workflow store: plain app keys through Dapr (actor and workflow state: the apps, below) --


def order_writes() -> list[StateWrite]:
    return [
        StateWrite(key=f"order:{n}", value=orjson.dumps({"orderId": n, "total": n * 1.5, "items": n % 4 + 1}))
        for n in (1001, 1002, 1003)
    ]


# -- scale data for benchmarks -------------------------------------------------------------


def scale_writes(keys: int, partitions: int) -> Iterator[StateWrite]:
    for i in range(keys):
        yield StateWrite(
            key=f"bench:agent-{i:06d}",
            value=orjson.dumps({"n": i, "agentType": "bench", "shard": i % partitions}),
            metadata={"partitionKey": f"tenant-{i % partitions:05d}"},
        )


async def _save_batches(client: SidecarClient, store: str, writes: Iterator[StateWrite], total: int,
                        batch: int = 200, concurrency: int = 8, progress=None) -> int:
    semaphore = asyncio.Semaphore(concurrency)
    done = 0

    async def save(chunk: list[StateWrite]) -> None:
        nonlocal done
        async with semaphore:
            await client.save(store, chunk)
        done += len(chunk)
        if progress is not None:
            progress(done, total)

    tasks: list[asyncio.Task] = []
    chunk: list[StateWrite] = []
    for write in writes:
        chunk.append(write)
        if len(chunk) == batch:
            tasks.append(asyncio.create_task(save(chunk)))
            chunk = []
            if len(tasks) >= concurrency * 4:
                await asyncio.gather(*tasks)
                tasks = []
    if chunk:
        tasks.append(asyncio.create_task(save(chunk)))
    await asyncio.gather(*tasks)
    return done


# -- actor and workflow state, through the apps -----------------------------------------------


async def seed_actors(stack: LocalStack, timeout: float = APPS_TIMEOUT) -> int:
    """Call the actor app's methods of actor_app.SEEDED_CALLS through its daprd; the number of actor
    state keys they set. A call that does not answer 200 is tried again until `timeout` (each call
    sets state to the same value however often it runs)."""
    import aiohttp

    from explorer.localstack.apps.actor_app import SEEDED_CALLS

    port = stack.sidecars[ACTORS_APP].http_port
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        for call in SEEDED_CALLS:
            url = f"http://127.0.0.1:{port}/v1.0/actors/{call.actor_type}/{call.actor_id}/method/{call.method}"
            while True:
                try:
                    async with session.post(url, data=orjson.dumps(call.body),
                                            headers={"content-type": "application/json"}) as response:
                        answer = f"{response.status} {(await response.text())[:300]}"
                        if response.status == 200:
                            break
                except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                    answer = f"{type(exc).__name__}: {exc}"
                if time.monotonic() > deadline:
                    raise StackError(f"seeding actors: {call.actor_type}/{call.actor_id} {call.method} through daprd "
                                     f"for {ACTORS_APP} did not succeed within {timeout:.0f}s (last answer: {answer}); "
                                     f"see {_logs(stack, ACTORS_APP)}")
                await asyncio.sleep(0.2)
    return len({(c.actor_type, c.actor_id, c.key) for c in SEEDED_CALLS})


class _Instances:
    """The seed's view of one app's workflow instances, through Dapr's workflow client on its daprd:
    a state read while daprd saves it is asked again (the last such error is kept for the report),
    and an instance is started only when it is missing or ended in another state than the one wanted."""

    def __init__(self, stack: LocalStack, app_id: str, what: str):
        from dapr.ext.workflow import DaprWorkflowClient
        from dapr.ext.workflow.logger import LoggerOptions

        self.stack, self.app_id, self.what = stack, app_id, what
        quiet = LoggerOptions(log_handler=logging.NullHandler())  # its errors are ours to report, not to print
        self.client = DaprWorkflowClient(host="127.0.0.1", port=str(stack.sidecars[app_id].grpc_port), logger_options=quiet)
        self.last_error = ""

    def state(self, instance_id: str):
        """Dapr's state of the instance; None when there is none, False when it could not be read now."""
        import grpc

        try:
            return self.client.get_workflow_state(instance_id)
        except grpc.RpcError as exc:  # e.g. read while daprd saves it ("inbox key … missing"): ask again
            self.last_error = f"{instance_id}: {exc.details() if hasattr(exc, 'details') else exc}"
            return False

    @staticmethod
    def status(state) -> str:
        return state.runtime_status.name if state else "not started"

    def start_unless_there(self, instance_id: str, reached, workflow: str, data: object, deadline: float) -> None:
        """Schedule `workflow` with `data` as `instance_id` unless it exists and has not ended otherwise
        than `reached(state)` wants; a StackError that says why when daprd refuses."""
        import grpc

        state = self.state(instance_id)
        while state is False and time.monotonic() < deadline:
            time.sleep(0.1)
            state = self.state(instance_id)
        ended_otherwise = state and self.status(state) in ("COMPLETED", "FAILED", "TERMINATED") and not reached(state)
        if state is not None and not ended_otherwise:
            return
        try:
            self.client.schedule_new_workflow(workflow, input=data, instance_id=instance_id)
        except grpc.RpcError as exc:
            said = exc.details() if hasattr(exc, "details") else str(exc)
            hint = ("; daprd still holds it in memory while the store has no trace of it (the server was "
                    "restarted?): restart the sidecar and seed again") if state is None else ""
            raise StackError(f"seeding {self.what}: daprd for {self.app_id} refused to start {instance_id}: "
                             f"{said}{hint}; see {_logs(self.stack, self.app_id)}") from None

    def late(self, timeout: float, late: list[str]) -> StackError:
        """What to raise when the deadline passed with `late` not in their state."""
        return StackError(f"seeding {self.what}: not every {'run' if self.what == 'agents' else 'instance'} reached "
                          f"its state within {timeout:.0f}s: {', '.join(late)}"
                          + (f"; last error: {self.last_error}" if self.last_error else "")
                          + f"; see {_logs(self.stack, self.app_id)}")


def seed_workflows(stack: LocalStack, timeout: float = APPS_TIMEOUT) -> tuple[tuple[str, str], ...]:
    """Start the instances of workflow_app.SEEDED_INSTANCES (those missing, or ended in another state
    than theirs), terminate the one that should be, and wait until every instance and child has
    reached its state; (instance id, runtime status) of each. Blocking: run it in a thread."""
    from explorer.localstack.apps.workflow_app import SEEDED_INSTANCES, TERMINATED_OUTPUT

    deadline = time.monotonic() + timeout
    instances = _Instances(stack, WORKFLOWS_APP, "workflows")
    state_of, status = instances.state, instances.status

    def reached(instance, state) -> bool:
        if not state or status(state) != instance.state:
            return False
        return instance.state != "RUNNING" or state.serialized_custom_status == instance.custom_status

    try:
        states = {}
        pending = {i.instance_id: i for i in SEEDED_INSTANCES}
        for instance in SEEDED_INSTANCES:
            instances.start_unless_there(instance.instance_id, lambda state, i=instance: reached(i, state),
                                         instance.workflow, instance.input, deadline)
        children = {child: "COMPLETED" for i in SEEDED_INSTANCES for child in i.children}
        terminated: set[str] = set()
        while time.monotonic() < deadline:
            for instance_id, instance in list(pending.items()):
                state = state_of(instance_id)
                if state and instance.terminate and instance_id not in terminated and status(state) == "RUNNING" \
                        and state.serialized_custom_status == instance.custom_status:
                    instances.client.terminate_workflow(instance_id, output=TERMINATED_OUTPUT)
                    terminated.add(instance_id)
                    continue
                if reached(instance, state):
                    states[instance_id] = status(state)
                    del pending[instance_id]
            for child, wanted in list(children.items()):
                state = state_of(child)
                if state and status(state) == wanted:
                    states[child] = wanted
                    del children[child]
            if not pending and not children:
                return tuple((i, states[i]) for i in sorted(states))
            time.sleep(0.1)
        late = [f"{i.instance_id} ({i.state} wanted, {status(state_of(i.instance_id) or None)} now)" for i in pending.values()]
        late += [f"{child} (child; COMPLETED wanted)" for child in children]
        raise instances.late(timeout, late)
    finally:
        instances.client.close()


def _logs(stack: LocalStack, app_id: str) -> str:
    """The app's log and its daprd's, for an error message."""
    paths = [stack.app_processes[app_id].process.log_path] if app_id in stack.app_processes else []
    return " and ".join(str(p) for p in paths + [stack.sidecars[app_id].process.log_path])


# -- the agents store and the agents' runs, through the dapr-agents app --------------------------


@dataclass(frozen=True)
class AgentRun:
    """A run of one of the app's agents: its workflow instance id, the agent (as registered), the
    traveller's task it is started with, and the state the seed leaves it in."""

    instance_id: str
    agent: str
    task: str
    state: str  # COMPLETED, FAILED, or RUNNING: waiting for a person's approval


AGENT_RUNS = (
    # get_forecast's result lands in the agent's memory (its "summary").
    AgentRun("weather-0001", "Weather Bot", "What will the weather be in Lisbon tomorrow?", "COMPLETED"),
    # get_forecast raises: dapr-agents records the error as the tool's result and the run completes.
    AgentRun("weather-0002", "Weather Bot", "Is it going to rain in Atlantis?", "COMPLETED"),
    # No tool: the model's reply ends the run.
    AgentRun("weather-0003", "Weather Bot", "Thanks, that is all.", "COMPLETED"),
    # book_hotel waits for an approval; the app's approver grants two nights.
    AgentRun("trip-0001", "Trip Planner", "Please book 2 nights in Porto.", "COMPLETED"),
    # Five nights are not pre-approved: the run waits for a person (a day, then dapr-agents denies it).
    AgentRun("trip-0002", "Trip Planner", "Please book 5 nights in Madeira.", "RUNNING"),
    # Flight Desk's model component (flights-llm) is not loaded by its sidecar: call_llm fails twice.
    AgentRun("flight-0001", "Flight Desk", "Find me a flight from Lisbon to Madeira on Friday.", "FAILED"),
)


def read_state(stack: LocalStack, app_id: str, store: str, key: str, partition: str = "") -> object | None:
    """A key's JSON value through `app_id`'s daprd (its HTTP state API; `partition`: the partitionKey
    metadata a key written with one needs), None when there is none. Blocking."""
    query = f"?metadata.partitionKey={quote(partition, safe='')}" if partition else ""
    conn = http.client.HTTPConnection("127.0.0.1", stack.sidecars[app_id].http_port, timeout=10)
    try:
        conn.request("GET", f"/v1.0/state/{quote(store, safe='')}/{quote(key, safe='')}{query}")
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    if response.status == 204:
        return None
    if response.status != 200:
        raise StackError(f"reading {key!r} from {store} through daprd for {app_id}: {response.status} {body[:300]!r}")
    return orjson.loads(body)


def registered_agents(stack: LocalStack, team: str = AGENTS_TEAM) -> dict[str, dict]:
    """The team's registry as the dapr-agents app wrote it, read through daprd: each agent name of
    `agents:{team}:_index` with its entry `agents:{team}:{name}` (all in partition `agents:{team}`)."""
    partition = f"agents:{team}"
    index = read_state(stack, AGENTS_APP, AGENTS_STORE, f"agents:{team}:_index", partition) or {}
    entries = {name: read_state(stack, AGENTS_APP, AGENTS_STORE, f"agents:{team}:{name}", partition)
               for name in index.get("agents", [])}
    return {name: entry for name, entry in entries.items() if entry}


def seed_agents(stack: LocalStack, timeout: float = APPS_TIMEOUT) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Start the runs of AGENT_RUNS that are missing (or ended in another state than theirs) through
    daprd's workflow API — each with the workflow name its agent's registry entry gives — and wait
    until each has reached its state: a waiting run counts once the agent lists its approval request
    as pending. The names the team registered, and (instance id, runtime status) of each run.
    Blocking: run it in a thread."""
    deadline = time.monotonic() + timeout
    team = registered_agents(stack)
    missing = sorted({run.agent for run in AGENT_RUNS} - set(team))
    if missing:
        raise StackError(f"seeding agents: {', '.join(missing)} not registered in team {AGENTS_TEAM} "
                         f"(agents:{AGENTS_TEAM}:_index lists {sorted(team)}); see {_logs(stack, AGENTS_APP)}")
    instances = _Instances(stack, AGENTS_APP, "agents")
    state_of, status = instances.state, instances.status

    def waiting_for_approval(run: AgentRun) -> bool:
        """dapr-agents keeps an agent's open approval requests under `{name}:pending_approvals` (lower case)."""
        pending = read_state(stack, AGENTS_APP, STATE_STORE_OF_AGENTS, f"{run.agent}:pending_approvals".lower()) or {}
        return any(r.get("instance_id") == run.instance_id for r in pending.values())

    def reached(run: AgentRun, state) -> bool:
        if not state or status(state) != run.state:
            return False
        return run.state != "RUNNING" or waiting_for_approval(run)

    try:
        for run in AGENT_RUNS:
            instances.start_unless_there(run.instance_id, lambda state, r=run: reached(r, state),
                                         team[run.agent]["agent"]["metadata"]["workflow_name"], {"task": run.task}, deadline)
        pending = {run.instance_id: run for run in AGENT_RUNS}
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            for instance_id, run in list(pending.items()):
                state = state_of(instance_id)
                if reached(run, state):
                    states[instance_id] = status(state)
                    del pending[instance_id]
            if not pending:
                return tuple(team), tuple((run.instance_id, states[run.instance_id]) for run in AGENT_RUNS)
            time.sleep(0.1)
        raise instances.late(timeout, [f"{run.instance_id} of {run.agent} ({run.state} wanted, "
                                       f"{status(state_of(run.instance_id) or None)} now)" for run in pending.values()])
    finally:
        instances.client.close()


async def seed(stack: LocalStack, scale_keys: int = 0, scale_partitions: int = 10_000, progress=None) -> SeedSummary:
    """Write the demo data set (and optionally `scale_keys` bench keys) into `stack`; with the apps
    (`stack.apps`) also drive them until every actor and workflow instance, and every agent run when
    the agents app runs, holds its state."""
    started = time.perf_counter()
    plain = 0
    for app, store, writes in (
        (CACHE_APP, CACHE_STORE, cache_writes()),
        (WORKFLOWS_APP, WORKFLOWS_STORE, order_writes()),
    ):
        async with SidecarClient(stack.sidecars[app].grpc_address, api_token=stack.api_tokens.get(app)) as client:
            await client.save(store, writes)
        plain += len(writes)

    actor_keys, workflows, agents, agent_runs = 0, (), (), ()
    if stack.apps:
        drives = [seed_actors(stack), asyncio.to_thread(seed_workflows, stack)]
        if stack.runs_agents:
            drives.append(asyncio.to_thread(seed_agents, stack))
        actor_keys, workflows, *rest = await asyncio.gather(*drives)
        if rest:
            agents, agent_runs = rest[0]

    scaled = 0
    if scale_keys:
        async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address, api_token=stack.api_tokens.get(AGENTS_APP)) as client:
            scaled = await _save_batches(
                client, AGENTS_STORE, scale_writes(scale_keys, scale_partitions), scale_keys, progress=progress
            )
    return SeedSummary(plain, actor_keys, workflows, scaled, time.perf_counter() - started, agents, agent_runs)


def seed_with_progress(stack: LocalStack, scale_keys: int = 0, scale_partitions: int = 10_000) -> SeedSummary:
    """`seed` with a rich progress bar for the scale keys (for the terminal, not for tests)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    if not scale_keys:
        return asyncio.run(seed(stack))
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=False) as bar:
        task = bar.add_task(f"seeding {scale_keys:,} keys over {scale_partitions:,} partitions", total=scale_keys)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done)

        summary = asyncio.run(seed(stack, scale_keys, scale_partitions, progress))
    return summary


#: The Entra ID mode's store the contributor writes through (stack/entra/components; the reader's,
#: statestore-entra-reader, reads the same container).
ENTRA_STORE = "statestore-entra"


def entra_writes() -> list[StateWrite]:
    """A few orders in three partitions, as an app with the contributor identity writes them."""
    writes = []
    for i in range(1, 13):
        region = ("emea", "amer", "apac")[i % 3]
        value = {"order": f"o-{i:04d}", "region": region, "total": round(9.5 * i, 2), "status": "open" if i % 4 else "paid"}
        writes.append(StateWrite(f"order:{i:04d}", orjson.dumps(value),
                                 metadata={"partitionKey": region, "contentType": "application/json"}))
    return writes


async def seed_entra(stack: LocalStack) -> SeedSummary:
    """The Entra ID mode's data: written through daprd with the contributor store (its identity's
    token, no key); the reader store reads the same container."""
    started = time.perf_counter()
    app = next(iter(stack.sidecars))
    writes = entra_writes()
    async with SidecarClient(stack.sidecars[app].grpc_address, api_token=stack.api_tokens.get(app)) as client:
        await client.save(ENTRA_STORE, writes)
    return SeedSummary(len(writes), 0, (), 0, time.perf_counter() - started)
