"""Load for bench/workflows_bench.py: real workflow instances, run by daprd for a real app on Dapr's
own Python workflow SDK (`dapr.ext.workflow`, shipped in the `dapr` 1.19 wheel), so every document
the bench reads is one daprd wrote. Never a document of our own.

Two workflows, both registered by every run (the worker must know every instance it may be handed):

  small_order    one activity (`charge`) and a custom status: 6 history events, as a plain order
                 workflow leaves them (ExecutionStarted … ExecutionCompleted).
  fan_out        `batches` rounds of `batch` activities (`tick`), a custom status after each.
                 With batch 1 (the bench's choice) a chain, one activity a turn: 3 history events
                 a turn (OrchestratorStarted, TaskCompleted, TaskScheduled), so 3 x batches + 3 in
                 all. With batch > 1, `when_all` over them (at most 32: daprd saves a turn as one
                 state transaction, and the Cosmos DB state store allows 100 operations in one,
                 components-contrib `MultiMaxSize`; a turn scheduling B and taking in k completions
                 writes about B + 2k + 3).

Why a chain, measured on Dapr 1.18.2 (2 cores, 2026-11-29): a fan-out's completions each arrive as
a reminder; the first run takes in every completion already in the inbox, and each later reminder
finds the inbox empty, so daprd reloads the instance's whole state from the store and deactivates
the actor ("actor is closed, cannot handle lock" for the others, retried 1 s later). 20 batches of
30 took 20 s, but a batch took 7 s by 4,300 events (the reloads grow with the history). A chain
keeps the actor and its cached state; what grows is the SDK replaying the history every turn in the
app (68 s of the app's CPU against daprd's 24 s for 1,500 activities): 3,400 activities, 10,203
events, took 522 s on a machine other benches were also using.

Modes (the sidecar comes from DAPR_GRPC_PORT, as for every app of the SDK):

  small --count N [--first K] [--concurrency C] [--verify V]
      schedules instances `load-<K>` … `load-<K+N-1>` with at most C StartInstance calls in
      flight, waits until the worker has run the last turn of every one, then until daprd says
      COMPLETED for the last V scheduled and V spread over the rest (see run_small: why not all).
  big --instance ID --batches B --batch S
      schedules one fan_out instance and waits until it is COMPLETED.

Prints one line `LOAD-RESULT {json}` with what it did and how long each phase took, and exits 0
only when every instance it scheduled completed. Usage (from the repo root, the stack running):
    DAPR_GRPC_PORT=… .venv/bin/python bench/apps/workflow_load.py small --count 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time

import dapr.ext.workflow as wf
import grpc
from dapr.ext.workflow.aio import DaprWorkflowClient

RESULT = "LOAD-RESULT "
PROGRESS_EVERY = 10.0  # seconds between progress lines on stderr

_activities = {"charge": 0, "tick": 0}
_finished: set[str] = set()  # small_order instances whose last turn ran in this worker
_count_lock = threading.Lock()


def _counted(name: str) -> None:
    with _count_lock:
        _activities[name] += 1


def _finish(instance_id: str) -> None:
    with _count_lock:
        _finished.add(instance_id)


def make_runtime(concurrency: int) -> tuple[wf.WorkflowRuntime, object, object]:
    runtime = wf.WorkflowRuntime(maximum_concurrent_activity_work_items=concurrency,
                                 maximum_concurrent_orchestration_work_items=concurrency)

    @runtime.activity(name="charge")
    def charge(ctx, order: dict) -> str:
        _counted("charge")
        return f"charged {order['amount']} for {order['id']}"

    @runtime.activity(name="tick")
    def tick(ctx, n: int) -> int:
        _counted("tick")
        return n

    @runtime.workflow(name="small_order")
    def small_order(ctx: wf.DaprWorkflowContext, order: dict):
        receipt = yield ctx.call_activity(charge, input=order)
        ctx.set_custom_status("charged")
        if not ctx.is_replaying:
            _finish(ctx.instance_id)
        return {"order": order["id"], "receipt": receipt}

    @runtime.workflow(name="fan_out")
    def fan_out(ctx: wf.DaprWorkflowContext, plan: dict):
        total = 0
        for b in range(plan["batches"]):
            if plan["batch"] == 1:  # a chain: one activity a turn
                results = [(yield ctx.call_activity(tick, input=b))]
            else:
                results = yield wf.when_all([ctx.call_activity(tick, input=b * plan["batch"] + i)
                                             for i in range(plan["batch"])])
            total += sum(results)
            ctx.set_custom_status(f"batch {b + 1} of {plan['batches']}")
        return {"activities": plan["batches"] * plan["batch"], "sum": total}

    return runtime, small_order, fan_out


async def _bounded(items, concurrency: int, call, what: str) -> float:
    """Run `call(item)` for every item with at most `concurrency` in flight; seconds it took."""
    started = time.perf_counter()
    queue: asyncio.Queue = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    total = queue.qsize()
    done = 0
    last = started

    async def worker() -> None:
        nonlocal done, last
        while not queue.empty():
            item = queue.get_nowait()
            await call(item)
            done += 1
            now = time.perf_counter()
            if now - last >= PROGRESS_EVERY:
                last = now
                print(f"{what}: {done:,}/{total:,} in {now - started:.0f} s", file=sys.stderr, flush=True)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, total) or 1)))
    return time.perf_counter() - started


async def _status(client: DaprWorkflowClient, instance_id: str) -> str:
    """The instance's runtime status name. daprd answers GetInstance outside the instance's turn, so
    a read that falls between a save's metadata and its inbox can fail ("inbox key … declared in
    metadata … but missing"): measured once in ~200 polls of a busy fan-out. Asked again then."""
    for attempt in range(20):
        try:
            state = await client.get_workflow_state(instance_id, fetch_payloads=False)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNKNOWN or attempt == 19:
                raise
            await asyncio.sleep(0.1)
            continue
        return state.runtime_status.name if state is not None else "MISSING"
    raise AssertionError("unreachable")


async def _wait_completed(client: DaprWorkflowClient, instance_id: str, poll: float = 0.2) -> str:
    while True:
        status = await _status(client, instance_id)
        if status not in ("PENDING", "RUNNING", "MISSING"):
            return status
        await asyncio.sleep(poll)


async def run_small(workflow, count: int, first: int, concurrency: int, verify: int) -> dict:
    """Schedules the instances, waits until the worker has run the last turn of each, then asks daprd
    (GetInstance) for the status of the last `verify` scheduled and of `verify` spread over the rest,
    until each says COMPLETED. Not every instance: daprd answers GetInstance by loading the instance's
    state with state.azure.cosmosdb's BulkGet, a cross-partition query, which the local server
    evaluates over the whole container (no index; its cache is dropped by every write), so polling
    10,000 instances took longer than running them (5,600 checks in 380 s at ~90,000 documents)."""
    client = DaprWorkflowClient()
    ids = [f"load-{n:06d}" for n in range(first, first + count)]

    async def schedule(instance_id: str) -> None:
        n = int(instance_id.rsplit("-", 1)[1])
        await client.schedule_new_workflow(workflow, instance_id=instance_id,
                                           input={"id": instance_id, "amount": 10 + n % 90})

    started = time.perf_counter()
    scheduled = await _bounded(ids, concurrency, schedule, "scheduled")
    wanted = set(ids)
    last = time.perf_counter()
    while True:
        with _count_lock:
            missing = len(wanted - _finished)
        if not missing:
            break
        now = time.perf_counter()
        if now - last >= PROGRESS_EVERY:
            last = now
            print(f"finished: {count - missing:,}/{count:,} in {now - started:.0f} s", file=sys.stderr, flush=True)
        await asyncio.sleep(0.1)
    finished = time.perf_counter() - started
    sample = sorted(set(ids[-verify:] + ids[::max(1, count // verify)]))
    statuses: dict[str, str] = {}

    async def check(instance_id: str) -> None:
        statuses[instance_id] = await _wait_completed(client, instance_id)

    await _bounded(sample, concurrency, check, "verified")
    seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    for status in statuses.values():
        counts[status] = counts.get(status, 0) + 1
    return {"mode": "small", "count": count, "first": first, "concurrency": concurrency,
            "schedule_seconds": scheduled, "finished_seconds": finished, "seconds": seconds,
            "verified": len(sample), "verified_statuses": counts, "activities_run": _activities["charge"],
            "ok": counts == {"COMPLETED": len(sample)}}


async def run_big(workflow, instance_id: str, batches: int, batch: int) -> dict:
    client = DaprWorkflowClient()
    started = time.perf_counter()
    await client.schedule_new_workflow(workflow, instance_id=instance_id, input={"batches": batches, "batch": batch})
    # Waited for through the workflow actor's own stream (WaitForInstanceCompletion), which answers
    # from the actor's cached state: polling GetInstance would make daprd load the whole history from
    # the store on every poll (GetWorkflowMetadata), a load that grows with the instance.
    while True:
        try:
            state = await client.wait_for_workflow_completion(instance_id, fetch_payloads=False,
                                                              timeout_in_seconds=int(PROGRESS_EVERY))
        except grpc.aio.AioRpcError as error:  # the actor deactivated under the stream ("actor is closed")
            if error.code() != grpc.StatusCode.UNKNOWN:
                raise
            await asyncio.sleep(0.5)
            continue
        except TimeoutError:
            print(f"{instance_id}: {_activities['tick']:,} of {batches * batch:,} activities run in "
                  f"{time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
            continue
        status = state.runtime_status.name if state is not None else "MISSING"
        break
    return {"mode": "big", "instance": instance_id, "batches": batches, "batch": batch,
            "seconds": time.perf_counter() - started, "status": status, "activities_run": _activities["tick"],
            "ok": status == "COMPLETED"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    small = modes.add_parser("small")
    small.add_argument("--count", type=int, required=True)
    small.add_argument("--first", type=int, default=0)
    small.add_argument("--concurrency", type=int, default=64)
    small.add_argument("--verify", type=int, default=50, help="instances whose status is asked of daprd (x2)")
    big = modes.add_parser("big")
    big.add_argument("--instance", required=True)
    big.add_argument("--batches", type=int, required=True)
    big.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    if args.mode == "big" and not 1 <= args.batch <= 32:
        parser.error("--batch must be 1..32 (a turn must fit in Cosmos DB's 100 operations; see the docstring)")

    runtime, small_order, fan_out = make_runtime(args.concurrency if args.mode == "small" else 64)
    runtime.start()
    try:
        if args.mode == "small":
            result = asyncio.run(run_small(small_order, args.count, args.first, args.concurrency, args.verify))
        else:
            result = asyncio.run(run_big(fan_out, args.instance, args.batches, args.batch))
    finally:
        runtime.shutdown()
    print(RESULT + json.dumps(result), flush=True)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
