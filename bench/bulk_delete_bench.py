"""Bulk delete of many keys (issue 13): the explorer's run_plan against bare etag-checked deletes
through the same sidecar, side by side in one run; the explorer's memory sampled while it runs.

Starts LocalStack(app_ids=("agent-registry",)) — one daprd and the Cosmos-compatible server, no
apps — and writes 2 x --keys keys (plus --warmup a side) to statestore-agents-cosmos through daprd's
SaveState (JSON values, 100 keys a partition, partitions "bulk-e-NNN" for the explorer and
"bulk-b-NNN" for the bare side): each side deletes its own keys.

Before anything is timed, the bench waits until daprd and the server are idle (the seed's 160
parallel upserts leave daprd dialling hundreds of TLS connections the server still handshakes for
5-12 s after the last write, at a core each: measured with strace and ss), then each side deletes
--warmup keys uncounted. Then --rounds rounds in ABBA order (explorer first in rounds 1 and 4 of
every 4), each side deleting --keys / --rounds of its keys (the same number of partitions), both
from a listing taken the same way just before (ExplorerSession.listed_keys: id, partition, etag;
the dry run's plan is made before the clock starts, as the CLI makes it before asking the count):

  explorer  explorer.session.bulk.run_plan(session, location, make_plan(... DELETE ...)) with CONCURRENCY
            (8) keys at daprd at once: each key through ExplorerSession.write — daprd DeleteState
            with the listed etag (first-write concurrency), and its audit record appended durably
            to a file (--audit-dir; default the system's temp folder) — as `dapr-explorer bulk
            STORE delete` runs it after the typed count;
  bare      SidecarClient.delete(store, key, etag=<listed etag>, metadata={"partitionKey": pk}),
            the same gRPC call and options, the same number of keys in flight (one shared iterator,
            as run_writes), no audit, no report.

Throughput = keys deleted / wall seconds of the round; the explorer's share of the bare throughput
per round and overall (target >= 80 %). Memory: VmRSS of this process sampled every 20 ms while the
explorer side runs (and the keys done at each sample); flat = no growth with keys done. CPU: the
seconds daprd, the server and this process spent per key on each side (from /proc).

Then, unless --no-breakdown: Dapr's own Python SDK client (dapr.aio.clients.DaprClient.delete_state,
etag and first-write) on --warmup keys beside the bare client, to show the bare side is not slower
than what an app would use; an explorer round with its audit log on /dev/shm (tmpfs: the disk's
write costs nothing); and one explorer round under cProfile (the functions with the most time of
their own).

Every key is checked gone from Cosmos at the end (all sides), and the audit file must hold one
"done" record per explorer key.

Usage: .venv/bin/python bench/bulk_delete_bench.py [--keys 10000] [--rounds 4] [--warmup 1000]
           [--concurrency 8] [--audit-dir DIR] [--no-breakdown] [--smoke]
Never a test: the machine is shared and noisy; quote the medians and ratios it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.many_keys import profile  # noqa: E402
from bench.smoke import smoke_args  # noqa: E402
from bench.tui_bench import median, print_report  # noqa: E402

PER_PARTITION = 100
TARGET_SHARE = 0.80
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE_SIZE / 2**20


class Sampler:
    """VmRSS every `every` seconds in a thread, with the value of `done()` at that moment."""

    def __init__(self, done, every: float = 0.02) -> None:
        self.samples: list[tuple[int, float]] = []
        self._done, self._every = done, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((self._done(), rss_mb()))
            self._stop.wait(self._every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((self._done(), rss_mb()))


async def write_keys(sidecar, store: str, partitions: list[str], concurrency: int) -> float:
    from explorer.dapr.sidecar import StateWrite

    started = time.perf_counter()
    gate = asyncio.Semaphore(concurrency)

    async def one(pk: str) -> None:
        writes = [StateWrite(f"{pk}:{i:03d}", json.dumps({"n": i, "partition": pk, "pad": "x" * 64}).encode(),
                             metadata={"partitionKey": pk, "contentType": "application/json"})
                  for i in range(PER_PARTITION)]
        async with gate:
            for start in range(0, len(writes), 20):
                await sidecar.save(store, writes[start:start + 20])

    await asyncio.gather(*(one(pk) for pk in partitions))
    return time.perf_counter() - started


async def listing(session, location, partitions: list[str]):
    from explorer.core.bulk import Listed

    return [Listed(row.id, row.partition_key, row.etag, row.ttl)
            for pk in partitions async for row in session.listed_keys(location, pk)]


async def explorer_delete(session, location, listed, concurrency: int, sampler_box: list) -> tuple[float, int]:
    from explorer.session.bulk import run_plan
    from explorer.core.bulk import BulkAction, make_plan

    plan = make_plan(location.store, location.key_prefix, BulkAction.DELETE, listed)  # the dry run's: not timed
    progress = [0]

    def on_progress(report) -> None:
        progress[0] = report.done

    with Sampler(lambda: progress[0]) as sampler:
        started = time.perf_counter()
        report = await run_plan(session, location, plan, on_progress=on_progress, concurrency=concurrency)
        seconds = time.perf_counter() - started
    sampler_box.append(sampler.samples)
    assert report.done == len(listed) and not report.skipped and not report.failed, report.summary()
    return seconds, report.done


async def bare_delete(sidecar, store: str, listed, concurrency: int) -> tuple[float, int]:
    pending = iter(listed)
    done = [0]

    async def worker() -> None:
        for item in pending:
            key = item.doc_id.split("||", 1)[1]  # the Dapr key: the id without the app-id prefix
            await sidecar.delete(store, key, etag=item.etag, metadata={"partitionKey": item.partition})
            done[0] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, done[0]


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def wait_until_idle(pids: dict[str, int], limit: float = 120.0) -> float:
    """Seconds until every process in `pids` used under 5 % of a core over two 0.5 s windows running."""
    started = time.perf_counter()
    quiet = 0
    while quiet < 2 and time.perf_counter() - started < limit:
        before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        await asyncio.sleep(0.5)
        busy = any(cpu_seconds(pid) - before[name] > 0.025 for name, pid in pids.items())
        quiet = 0 if busy else quiet + 1
    return time.perf_counter() - started


async def sdk_delete(address: str, http_port: int, store: str, listed, concurrency: int) -> tuple[float, int]:
    """The same deletes through Dapr's own Python SDK (dapr.aio.clients.DaprClient), as an app makes them."""
    from dapr.aio.clients import DaprClient
    from dapr.clients.grpc._state import Concurrency, StateOptions
    from dapr.conf import settings

    settings.DAPR_HTTP_PORT = http_port  # the SDK waits for the sidecar's HTTP health endpoint first
    options = StateOptions(concurrency=Concurrency.first_write)
    pending = iter(listed)
    done = [0]
    async with DaprClient(address=address) as client:

        async def worker() -> None:
            for item in pending:
                key = item.doc_id.split("||", 1)[1]
                await client.delete_state(store, key, etag=item.etag, options=options,
                                          state_metadata={"partitionKey": item.partition})
                done[0] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, done[0]


async def bench(args) -> None:
    from explorer.session.audit_log import AuditLog
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE
    from explorer.session.explorer_session import ExplorerSession
    from explorer.dapr.sidecar import SidecarClient

    if args.keys % (PER_PARTITION * args.rounds) or args.warmup % PER_PARTITION:
        raise SystemExit(f"--keys must be a multiple of {PER_PARTITION} x --rounds, --warmup of {PER_PARTITION}")
    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows: list[tuple[str, str, str]] = []
    notes: list[str] = []
    per_round = args.keys // PER_PARTITION // args.rounds  # partitions a side deletes each round
    warm = args.warmup // PER_PARTITION
    extra = 0 if args.no_breakdown else 2 * per_round  # partitions for the breakdown rounds (explorer only)
    sides = {"explorer": [f"bulk-e-{n:03d}" for n in range(warm + args.keys // PER_PARTITION + extra)],
             "bare": [f"bulk-b-{n:03d}" for n in range(warm + args.keys // PER_PARTITION + (0 if args.no_breakdown else warm))]}
    audit_dir = Path(tempfile.mkdtemp(prefix="bench-bulk-audit-", dir=args.audit_dir))
    with LocalStack(app_ids=(AGENTS_APP,)) as stack:
        os.environ.update(stack.client_env())
        sidecar_address = stack.sidecars[AGENTS_APP].grpc_address
        pids = {"daprd": stack.sidecars[AGENTS_APP].process.pid, "server": stack._server.pid, "explorer process": os.getpid()}
        session = await ExplorerSession.open([stack.resources_path], [sidecar_address], None, False, None,
                                             start_sidecars=False)
        session.audit = AuditLog(audit_dir / "audit.jsonl")
        try:
            async with SidecarClient(sidecar_address) as sidecar:
                location = await session.location(AGENTS_STORE)
                written = sum(len(p) for p in sides.values()) * PER_PARTITION
                seconds = await write_keys(sidecar, AGENTS_STORE, sides["explorer"] + sides["bare"], 8)
                notes.append(f"wrote {written:,} keys through daprd SaveState in {seconds:.0f} s "
                             f"({written / seconds:,.0f} keys/s; 20 keys a call, 8 calls in flight)")
                # every listing (the dry runs) before anything is timed: a query after writes makes this
                # server evaluate it over the whole container, and its garbage collection would land in
                # whichever round came next
                listings = {pk: await listing(session, location, [pk]) for parts in sides.values() for pk in parts}
                idle = await wait_until_idle({k: v for k, v in pids.items() if k != "explorer process"})
                notes.append(f"daprd and the server idle {idle:.1f} s after the seed's last write and the listings "
                             f"of every round (not counted)")

                async def delete(side: str, parts: list[str], samples: list) -> tuple[float, int, dict[str, float]]:
                    listed = [item for pk in parts for item in listings.pop(pk)]
                    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                    if side == "explorer":
                        took, n = await explorer_delete(session, location, listed, args.concurrency, samples)
                    else:
                        took, n = await bare_delete(sidecar, AGENTS_STORE, listed, args.concurrency)
                    cpu = {name: (cpu_seconds(pid) - before[name]) / n * 1000 for name, pid in pids.items()}
                    return took, n, cpu

                for side in ("explorer", "bare"):  # warm-up: not counted
                    took, n, _ = await delete(side, sides[side][:warm], [])
                    notes.append(f"warm-up {side}: {n:,} keys in {took:.2f} s ({n / took:,.0f}/s), not counted")
                rss_before = rss_mb()
                times: dict[str, list[float]] = {"explorer": [], "bare": []}
                counts: dict[str, int] = {"explorer": 0, "bare": 0}
                cpus: dict[str, list[dict[str, float]]] = {"explorer": [], "bare": []}
                samples: list[list[tuple[int, float]]] = []
                for round_ in range(args.rounds):
                    for side in ("explorer", "bare")[:: 1 if round_ % 4 in (0, 3) else -1]:  # ABBA
                        start = warm + round_ * per_round
                        took, n, cpu = await delete(side, sides[side][start:start + per_round], samples)
                        times[side].append(took)
                        counts[side] += n
                        cpus[side].append(cpu)
                        print(f"round {round_ + 1} {side}: {n:,} keys in {took:.2f} s ({n / took:,.0f}/s); CPU ms a key: "
                              + ", ".join(f"{k} {v:.3f}" for k, v in cpu.items()), flush=True)
                e_rate = counts["explorer"] / sum(times["explorer"])
                b_rate = counts["bare"] / sum(times["bare"])
                shares = [b / e for e, b in zip(times["explorer"], times["bare"])]  # same key count each round
                share = e_rate / b_rate
                rows.append((f"bulk delete of {counts['explorer']:,} keys: explorer >= {TARGET_SHARE:.0%} of the bare "
                             f"throughput ({args.concurrency} in flight both)",
                             f"explorer {e_rate:,.0f} keys/s, bare {b_rate:,.0f} keys/s: {share:.0%} (per round: "
                             + ", ".join(f"{s:.0%}" for s in shares) + f"; median {statistics.median(shares):.0%}; "
                             f"rounds of {counts['explorer'] // args.rounds:,} keys a side)",
                             "OK" if share >= TARGET_SHARE else "MISSED"))
                rows.append(("  time a round (explorer / bare), median",
                             f"{median(times['explorer']):.2f} s / {median(times['bare']):.2f} s", ""))
                for name in pids:
                    rows.append((f"  CPU ms a key, {name} (explorer / bare side), median",
                                 f"{statistics.median(c[name] for c in cpus['explorer']):.3f} / "
                                 f"{statistics.median(c[name] for c in cpus['bare']):.3f}", ""))

                # memory: every sample of every explorer round, against keys deleted so far
                flat, offset = [], 0
                for round_samples in samples:
                    flat.extend((offset + done, rss) for done, rss in round_samples)
                    offset += round_samples[-1][0]
                values = [rss for _, rss in flat]
                tenth = max(1, len(flat) // 10)
                first_tenth = statistics.median(values[:tenth])
                last_tenth = statistics.median(values[-tenth:])
                rows.append((f"memory flat while the explorer deletes {counts['explorer']:,} keys (VmRSS, {len(flat):,} "
                             "samples)",
                             f"before the rounds {rss_before:.1f} MB; first tenth of the samples {first_tenth:.1f} MB, last "
                             f"tenth {last_tenth:.1f} MB ({last_tenth - first_tenth:+.1f} MB); max {max(values):.1f} MB; "
                             "at the end of each round " + ", ".join(f"{s[-1][1]:.1f}" for s in samples) + " MB",
                             "OK" if last_tenth - first_tenth <= 2.0 else "MISSED"))

                if not args.no_breakdown:
                    base = warm + args.rounds * per_round
                    sdk_listed = [item for pk in sides["bare"][base:base + warm] for item in listings.pop(pk)]
                    took, n = await sdk_delete(sidecar_address, stack.sidecars[AGENTS_APP].http_port, AGENTS_STORE,
                                               sdk_listed, args.concurrency)
                    rows.append(("  breakdown: Dapr's Python SDK client (dapr.aio DaprClient.delete_state), same options",
                                 f"{n:,} keys in {took:.2f} s ({n / took:,.0f}/s): {n / took / b_rate:.0%} of the bare "
                                 "client's throughput above", ""))
                    base = warm + args.rounds * per_round
                    shm = Path(tempfile.mkdtemp(prefix="bench-bulk-audit-", dir="/dev/shm"))
                    session.audit = AuditLog(shm / "audit.jsonl")
                    took, n, _ = await delete("explorer", sides["explorer"][base:base + per_round], [])
                    rows.append(("  breakdown: explorer round, audit log on /dev/shm (tmpfs)",
                                 f"{n:,} keys in {took:.2f} s ({n / took:,.0f}/s): {n / took / b_rate:.0%} of the "
                                 "bare throughput above", ""))
                    (shm / "audit.jsonl").unlink()
                    shm.rmdir()
                    session.audit = AuditLog(audit_dir / "audit.jsonl")
                    listed = [item for pk in sides["explorer"][base + per_round:base + 2 * per_round] for item in listings.pop(pk)]
                    notes.extend(await profile(
                        lambda: explorer_delete(session, location, listed, args.concurrency, []), 1,
                        f"run_plan deleting {len(listed):,} keys, audit log in {audit_dir.parent}"))

            # checks: every key gone, one "done" audit record per explorer key outside /dev/shm
            container = stack.cosmos_client().get_database_client(location.database).get_container_client(
                location.container)
            left = next(iter(container.query_items(
                "SELECT VALUE COUNT(1) FROM c WHERE STARTSWITH(c.partitionKey, 'bulk-')",
                enable_cross_partition_query=True)))
            assert left == 0, f"{left} keys left in Cosmos"
            records = [json.loads(line) for line in (audit_dir / "audit.jsonl").read_text().splitlines()]
            outcomes = {r.get("outcome") for r in records}
            expected = args.warmup + counts["explorer"] + (0 if args.no_breakdown else per_round * PER_PARTITION)
            assert len(records) == expected and outcomes == {"done"}, (len(records), expected, outcomes)
            notes.append(f"checked: no bulk key left in Cosmos; the audit log ({audit_dir}, "
                         f"{os.statvfs(audit_dir).f_bsize}-byte blocks) holds {len(records):,} records, all 'done'")
        finally:
            await session.close()
    for path in audit_dir.iterdir():
        path.unlink()
    audit_dir.rmdir()
    print_report(rows, notes, load_at_start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=10_000, help="keys each side deletes (a multiple of 100 x rounds)")
    parser.add_argument("--rounds", type=int, default=4, help="counted rounds, ABBA order (a multiple of 4 balances it)")
    parser.add_argument("--warmup", type=int, default=1000, help="keys each side deletes first, not counted")
    parser.add_argument("--concurrency", type=int, default=8, help="keys in flight (explorer.session.bulk.CONCURRENCY is 8)")
    parser.add_argument("--audit-dir", default=None, help="where the explorer's audit log goes (default: temp folder)")
    parser.add_argument("--no-breakdown", action="store_true")
    asyncio.run(bench(smoke_args(parser, keys=100, rounds=1, warmup=100)))


if __name__ == "__main__":
    main()
