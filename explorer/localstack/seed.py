"""Seed the local stack with state shaped like real Dapr apps' state.

Plain state keys are written THROUGH daprd (its gRPC state API), so every
document envelope (id prefix, partitionKey, isBinary, ttl) is Dapr's own.

Actor and workflow state is the exception: its ids contain "||" after the
app-id prefix (app||actorType||actorId||key), and daprd's state API refuses
keys containing "||". Running real actors and workflows would need the
placement and scheduler services, so those documents are written with the
Cosmos SDK in exactly the envelope Dapr's actor state manager leaves
(id, value, isBinary, partitionKey = app||actorType||actorId). Workflow values
are protobuf, as Dapr stores them: durabletask HistoryEvent messages for
history-NNNNNN and inbox-NNNNNN, BackendWorkflowStateMetadata for metadata and
a StringValue for customStatus.

Never writes to a store that is not in the stack it is given.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from dataclasses import dataclass

import orjson

from explorer.localstack.manager import LocalStack
from explorer.sidecar import SidecarClient, StateWrite

AGENTS_STORE = "statestore-agents-cosmos"
CACHE_STORE = "statestore-cache-cosmos"
WORKFLOWS_STORE = "statestore-workflows-cosmos"
AGENTS_APP = "agent-registry"
CACHE_APP = "chat-api"
WORKFLOWS_APP = "order-processor"
WORKFLOW_ACTOR_TYPE = f"dapr.internal.default.{WORKFLOWS_APP}.workflow"

#: A PNG header and a few bytes that are not UTF-8: stored by Dapr as isBinary.
BINARY_AVATAR = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(250, 256)) + b"\x00\xfe"


@dataclass(frozen=True)
class SeedSummary:
    plain_keys: int
    actor_keys: int
    workflow_keys: int
    scale_keys: int
    seconds: float


# -- the agents store: partitioned by agentType ------------------------------------------


def agent_writes() -> list[StateWrite]:
    agents = [
        ("gpt4", "planner", ["search", "calendar"]),
        ("gpt4", "summarizer", []),
        ("gpt4", "router", ["handoff"]),
        ("claude", "researcher", ["search", "browser"]),
        ("claude", "reviewer", ["diff"]),
        ("claude", "données-clé", ["traduction"]),
        ("custom", "ocr-worker", ["vision"]),
        ("custom", "エージェント-7", ["翻訳"]),
        ("custom", "🤖-helper", []),
    ]
    writes = [
        StateWrite(
            key=f"agent:{name}",
            value=orjson.dumps(
                {"name": name, "agentType": agent_type, "tools": tools, "status": "ready", "maxTokens": 4096}
            ),
            metadata={"partitionKey": agent_type},
        )
        for agent_type, name, tools in agents
    ]
    writes.append(StateWrite(key="agent:ocr-worker:avatar", value=BINARY_AVATAR, metadata={"partitionKey": "custom"}))
    return writes


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


# -- the workflow store: plain app keys through Dapr, actor/workflow documents via Cosmos ----


def order_writes() -> list[StateWrite]:
    return [
        StateWrite(key=f"order:{n}", value=orjson.dumps({"orderId": n, "total": n * 1.5, "items": n % 4 + 1}))
        for n in (1001, 1002, 1003)
    ]


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _string_value(text: str) -> bytes:
    """google.protobuf.StringValue."""
    return _field_bytes(1, text.encode())


def _timestamp(seconds: int) -> bytes:
    return _field_varint(1, seconds)


def history_event(event_id: int, at: int, kind: str, name: str, payload: str, instance: str = "") -> bytes:
    """A durabletask HistoryEvent: executionStarted (3), taskScheduled (6) or taskCompleted (7)."""
    head = _field_varint(1, event_id) if event_id else b""
    head += _field_bytes(2, _timestamp(at))
    if kind == "executionStarted":
        body = _field_bytes(1, name.encode()) + _field_bytes(3, _string_value(payload)) + _field_bytes(4, _field_bytes(1, instance.encode()))
        return head + _field_bytes(3, body)
    if kind == "taskScheduled":
        return head + _field_bytes(6, _field_bytes(1, name.encode()) + _field_bytes(3, _string_value(payload)))
    if kind == "taskCompleted":
        return head + _field_bytes(7, _field_varint(1, event_id - 1) + _field_bytes(2, _string_value(payload)))
    raise ValueError(kind)


def _actor_document(app: str, actor_type: str, actor_id: str, key: str, value: object, binary: bool) -> dict:
    partition = f"{app}||{actor_type}||{actor_id}"
    stored = base64.b64encode(value).decode() if binary else value
    return {"id": f"{partition}||{key}", "value": stored, "isBinary": binary, "partitionKey": partition}


def actor_documents() -> list[dict]:
    return [
        _actor_document(WORKFLOWS_APP, "CartActor", "cart-42", "items", {"skus": ["A-1", "B-7"], "total": 31.5}, False),
        _actor_document(WORKFLOWS_APP, "CartActor", "cart-42", "owner", {"userId": "u-17"}, False),
        _actor_document(WORKFLOWS_APP, "CartActor", "cart-77", "items", {"skus": [], "total": 0}, False),
    ]


def workflow_documents(now: int | None = None) -> list[dict]:
    now = int(time.time()) if now is None else now
    docs = []
    for instance, steps in (("order-wf-1001", 2), ("order-wf-1002", 1)):
        history = [history_event(0, now - 60, "executionStarted", "ProcessOrder", '{"orderId":1001}', instance)]
        for step in range(steps):
            history.append(history_event(2 * step + 1, now - 50 + step, "taskScheduled", "ReserveInventory", '{"sku":"A-1"}'))
            history.append(history_event(2 * step + 2, now - 40 + step, "taskCompleted", "ReserveInventory", '{"ok":true}'))
        entries = {f"history-{i:06d}": event for i, event in enumerate(history)}
        entries["inbox-000000"] = history_event(0, now - 5, "taskScheduled", "ApprovePayment", '{"amount":31.5}')
        entries["metadata"] = _field_varint(1, 1) + _field_varint(2, len(history)) + _field_varint(3, 1)
        entries["customStatus"] = _string_value("waiting for payment approval")
        docs.extend(
            _actor_document(WORKFLOWS_APP, WORKFLOW_ACTOR_TYPE, instance, key, value, True) for key, value in entries.items()
        )
    return docs


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


async def seed(stack: LocalStack, scale_keys: int = 0, scale_partitions: int = 10_000, progress=None) -> SeedSummary:
    """Write the demo data set (and optionally `scale_keys` bench keys) into `stack`."""
    started = time.perf_counter()
    plain = 0
    for app, store, writes in (
        (AGENTS_APP, AGENTS_STORE, agent_writes()),
        (CACHE_APP, CACHE_STORE, cache_writes()),
        (WORKFLOWS_APP, WORKFLOWS_STORE, order_writes()),
    ):
        async with SidecarClient(stack.sidecars[app].grpc_address) as client:
            await client.save(store, writes)
        plain += len(writes)

    container = (
        stack.cosmos_client().get_database_client("dapr-workflows").get_container_client("workflow-state")
    )
    actors, workflows = actor_documents(), workflow_documents()
    for document in actors + workflows:
        container.upsert_item(document)

    scaled = 0
    if scale_keys:
        async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as client:
            scaled = await _save_batches(
                client, AGENTS_STORE, scale_writes(scale_keys, scale_partitions), scale_keys, progress=progress
            )
    return SeedSummary(plain, len(actors), len(workflows), scaled, time.perf_counter() - started)


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
