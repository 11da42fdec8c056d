"""Bulk delete of many keys (issue 13): the explorer's run_plan against bare etag-checked deletes
through the same sidecar, side by side in one run; the explorer's memory sampled while it runs.

Starts LocalStack(app_ids=("agent-registry",)) — one daprd and the Cosmos-compatible server, no
apps — and writes 2 x --keys keys to statestore-agents-cosmos through daprd's SaveState (JSON
values, 100 keys a partition, partitions "bulk-e-NNN" for the explorer and "bulk-b-NNN" for the bare
side): each side deletes its own keys. Then --rounds rounds, alternating which side goes first, each
side deleting --keys / --rounds of its keys (the same number of partitions), both from a listing
taken the same way just before (ExplorerSession.listed_keys: id, partition, etag):

  explorer  explorer.bulk.run_plan(session, location, make_plan(... DELETE ...)) with CONCURRENCY
            (8) keys in flight: each key through ExplorerSession.write — daprd DeleteState with
            the listed etag (first-write concurrency), and its audit record appended and fsync'd to
            a temp file (--audit-dir; default the system's temp folder) — as `dapr-explorer bulk
            STORE delete` runs it after the typed count;
  bare      SidecarClient.delete(store, key, etag=<listed etag>, metadata={"partitionKey": pk}),
            the same gRPC call and options, the same number of keys in flight (one shared iterator,
            as run_writes), no audit, no report.

Throughput = keys deleted / wall seconds of the round; the explorer's share of the bare throughput
per round and overall (target >= 80 %). Memory: VmRSS of this process sampled every 20 ms while the
explorer side runs (and the keys done at each sample); flat = no growth with keys done.

Then, unless --no-breakdown, one more round of each not counted above, to say where the explorer's
time goes: the explorer with its audit log instrumented (the seconds spent in AuditLog.append,
which runs on the event loop and fsyncs, and in the rest of ExplorerSession.write), and the
explorer with its audit log on /dev/shm (tmpfs: fsync is free) — same keys in flight — and one
explorer round under cProfile (the functions with the most time of their own).

Every key is checked gone from Cosmos at the end (both sides), and the audit file must hold one
"done" record per explorer key.

Usage: .venv/bin/python bench/bulk_delete_bench.py [--keys 10000] [--rounds 5] [--concurrency 8]
           [--audit-dir DIR] [--no-breakdown]
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
    from explorer.sidecar import StateWrite

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
    from explorer.bulk import run_plan
    from explorer.core.bulk import BulkAction, make_plan

    plan = make_plan(location.store, location.key_prefix, BulkAction.DELETE, listed)
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


class TimedAudit:
    """Wraps a session's AuditLog: seconds each write waited for its record to be on disk (the
    appends of concurrent writes share a flush, so these overlap: a sum of waits, not of work)."""

    def __init__(self, audit) -> None:
        self.audit, self.seconds, self.calls = audit, 0.0, 0

    def ready(self) -> None:
        t = time.perf_counter()
        self.audit.ready()
        self.seconds += time.perf_counter() - t

    async def append_async(self, record) -> None:
        t = time.perf_counter()
        await self.audit.append_async(record)
        self.seconds += time.perf_counter() - t
        self.calls += 1

    def __getattr__(self, name):
        return getattr(self.audit, name)


async def bench(args) -> None:
    from explorer.audit import AuditLog
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE
    from explorer.session import ExplorerSession
    from explorer.sidecar import SidecarClient

    if args.keys % (PER_PARTITION * args.rounds):
        raise SystemExit(f"--keys must be a multiple of {PER_PARTITION} x --rounds")
    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows: list[tuple[str, str, str]] = []
    notes: list[str] = []
    per_round = args.keys // PER_PARTITION // args.rounds  # partitions a side deletes each round
    extra = 0 if args.no_breakdown else 3 * per_round  # partitions for the breakdown rounds (explorer only)
    sides = {"explorer": [f"bulk-e-{n:03d}" for n in range(args.keys // PER_PARTITION + extra)],
             "bare": [f"bulk-b-{n:03d}" for n in range(args.keys // PER_PARTITION)]}
    audit_dir = Path(tempfile.mkdtemp(prefix="bench-bulk-audit-", dir=args.audit_dir))
    with LocalStack(app_ids=(AGENTS_APP,)) as stack:
        os.environ.update(stack.client_env())
        sidecar_address = stack.sidecars[AGENTS_APP].grpc_address
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
                rss_before = rss_mb()
                times: dict[str, list[float]] = {"explorer": [], "bare": []}
                counts: dict[str, int] = {"explorer": 0, "bare": 0}
                samples: list[list[tuple[int, float]]] = []
                list_times: list[float] = []
                for round_ in range(args.rounds):
                    for side in ("explorer", "bare")[:: 1 if round_ % 2 == 0 else -1]:
                        parts = sides[side][round_ * per_round:(round_ + 1) * per_round]
                        t = time.perf_counter()
                        listed = await listing(session, location, parts)
                        list_times.append(time.perf_counter() - t)
                        if side == "explorer":
                            took, n = await explorer_delete(session, location, listed, args.concurrency, samples)
                        else:
                            took, n = await bare_delete(sidecar, AGENTS_STORE, listed, args.concurrency)
                        times[side].append(took)
                        counts[side] += n
                        print(f"round {round_ + 1} {side}: {n:,} keys in {took:.2f} s ({n / took:,.0f}/s)", flush=True)
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
                             f"{median(times['explorer']):.2f} s / {median(times['bare']):.2f} s; listing "
                             f"{per_round * PER_PARTITION:,} keys {median(list_times):.2f} s median (not counted)", ""))

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

                # where the time goes (not counted above)
                if not args.no_breakdown:
                    base = args.rounds * per_round
                    parts = sides["explorer"][base:base + per_round]
                    listed = await listing(session, location, parts)
                    timed = TimedAudit(session.audit)
                    session.audit = timed
                    took, n = await explorer_delete(session, location, listed, args.concurrency, [])
                    session.audit = timed.audit
                    rows.append(("  breakdown: explorer round with its audit appends timed",
                                 f"{n:,} keys in {took:.2f} s ({n / took:,.0f}/s); AuditLog.append_async {timed.seconds:.2f} s "
                                 f"waited in all ({timed.seconds / max(timed.calls, 1) * 1000:.2f} ms a record; the waits of the "
                                 f"keys in flight overlap)", ""))
                    shm = Path(tempfile.mkdtemp(prefix="bench-bulk-audit-", dir="/dev/shm"))
                    session.audit = AuditLog(shm / "audit.jsonl")
                    parts = sides["explorer"][base + per_round:base + 2 * per_round]
                    listed = await listing(session, location, parts)
                    took, n = await explorer_delete(session, location, listed, args.concurrency, [])
                    rows.append(("  breakdown: explorer round, audit log on /dev/shm (tmpfs)",
                                 f"{n:,} keys in {took:.2f} s ({n / took:,.0f}/s): {n / took / b_rate:.0%} of the "
                                 "bare throughput above", ""))
                    (shm / "audit.jsonl").unlink()
                    shm.rmdir()
                    session.audit = AuditLog(audit_dir / "audit.jsonl")
                    parts = sides["explorer"][base + 2 * per_round:base + 3 * per_round]
                    listed = await listing(session, location, parts)
                    notes.extend(await profile(
                        lambda: explorer_delete(session, location, listed, args.concurrency, []), 1,
                        f"run_plan deleting {len(listed):,} keys, audit log in {audit_dir.parent}"))

            # checks: every key gone, one "done" audit record per explorer key of the counted rounds
            container = stack.cosmos_client().get_database_client(location.database).get_container_client(
                location.container)
            left = next(iter(container.query_items(
                "SELECT VALUE COUNT(1) FROM c WHERE STARTSWITH(c.partitionKey, 'bulk-')",
                enable_cross_partition_query=True)))
            assert left == 0, f"{left} keys left in Cosmos"
            records = [json.loads(line) for line in (audit_dir / "audit.jsonl").read_text().splitlines()]
            outcomes = {r.get("outcome") for r in records}
            expected = counts["explorer"] + (0 if args.no_breakdown else 2 * per_round * PER_PARTITION)
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
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8, help="keys in flight (explorer.bulk.CONCURRENCY is 8)")
    parser.add_argument("--audit-dir", default=None, help="where the explorer's audit log goes (default: temp folder)")
    parser.add_argument("--no-breakdown", action="store_true")
    asyncio.run(bench(parser.parse_args()))


if __name__ == "__main__":
    main()
