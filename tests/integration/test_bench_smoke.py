"""Every bench script in its --smoke mode (tiny sizes, one round, seconds; bench/smoke.py), run as a person
reruns it: a subprocess from the repository's root, each starting its own real local stack (daprd, the
Cosmos-compatible server and, for the workflows, placement, scheduler and bench/apps/workflow_load.py) as
its full run does. Each must exit 0 and print the figures its full run prints (a pattern per figure), so a
renamed module, option or function breaks the suite instead of the bench. A smoke run, not a timed test:
the figures themselves come from full runs (docs/reliability.md, docs/bench-many-keys.md, docs/tui.md,
docs/bench-workflows.md, docs/production-load.md).

The runs go three at a time (most of a smoke's time is processes starting and stacks coming up), the
longest first, all of them started by the first test that asks for a result; each test then waits for its
own run (all of them together: ~95 s on this project's 2 cores at a load of 3 to 5). bench/many_keys.py is the benches' shared loader (no command of its own); the workflow load
app runs inside the workflows bench, both its modes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
NUMBER = r"[\d,.]+"

# "script [parts]" -> the figures its smoke run must print, a pattern a line ({N}: a number); the longest
# first. Each runs as `bench/<script> [--only <parts>] --smoke`: reliability.py's R7 and R2 (its longest
# parts, a stack each) as two runs side by side; its R6 is fuzz_inputs.py, which runs on its own as well.
FIGURES = {
    "reliability.py R7": r"""
ok   R7 CLI raw control characters reaching the terminal: 0
ok   R7 TUI raw control characters in what is drawn: 0
\b0 broke their guarantee
""",
    "tui_bench.py": r"""
first paint \(store list drawn\) <= 0.5 s +\w+ +{N} ms median
open a key <= 2x a direct point read +\w+ +open_key {N} ms / read_item {N} ms
in the app: enter until the editor has the key +{N} ms median
RSS <= 200 MB after scrolling all 300 keys of one partition +\w+ +{N} MB at the end
TTL countdown of \d+ visible rows <= 5 % of a core +\w+ +{N} %
cross-check: headless driver \(frames composed, not written\) +{N} %
""",
    "reliability.py R2,R6": r"""
ok   R2 bulk and import races in all: \d+ raced keys
ok   R6 bench/fuzz_inputs.py: exit 0
\b0 broke their guarantee
""",
    "workflows_bench.py": r"""
seeding 3 small instances \(load-000000…\): {N} s
seeding big-fan-out \(a chain of 5 activities\)
first instances page <= 300 ms at 7 \(data path, warm\) +\w+ +{N} ms
first timeline page <= 300 ms \(18 events, data path, warm\) +\w+ +{N} ms
in the app: w until the first instance rows are drawn <= 300 ms \(7\) +\w+ +{N} ms median
RSS <= idle \+ 50 MB with the big timeline open and scrolled to its end +\w+ +idle {N} MB
""",
    "production_load.py": r"""
no throttling, unpaced x 2: .*'documents': 2000, 'RU': {N}
server at 150 RU/s, unpaced x 2: server 300.*'429s waited': \d+
budget 100 RU/s \(the default\) x 2: server 800.*'RU/s': {N}
""",
    "bulk_delete_bench.py": r"""
bulk delete of 100 keys: explorer >= 80% of the bare throughput .* explorer {N} keys/s
breakdown: Dapr's Python SDK client .* 100 keys in {N} s
checked: no bulk key left in Cosmos; .* holds 300 records, all 'done'
""",
    "fidelity_property.py": r"""
fidelity property run: 40 round trips, 0 mismatches
""",
    "lister_bench.py": r"""
seeded 200 keys over 20 partitions in {N} s
first page of tenant-00000 \(10 keys\), median of 1: lister {N} ms, bare SDK {N} ms
partition discovery \(after a write\), 20 partitions
memory: RSS {N} MB after the first page, {N} MB after streaming 200 keys of 20 partitions
""",
    "search_bench.py": r"""
search 300 items, first results \(warm\): explorer <= 1.2x bare SDK +\w+ +explorer {N} ms
search 300 items, page.limit 100 \(after a write\): explorer <= 1.2x bare SDK +\w+ +explorer {N} ms
note: 300 items, page.limit 100, explorer: 100 hits \(of 150 matching
note: profile \(1 x explorer search without a limit, warm, under cProfile\): {N} ms
""",
    "discovery_rows_bench.py": r"""
400 items / 10 partitions: lister.partitions \(the product\) +10 rows in 1 page\(s\); {N} s after a write
400 items / 10 partitions: bare SDK scan +400 rows
""",
    "stats_bench.py": r"""
seeded 300 items over 30 partitions \(30 with a ttl\)
explorer \(session.stats\) +30 +\d+ +{N} s
explorer / bare SDK: {N}x \(medians of 1\)
""",
    "server_query_bench.js": r"""
same  write between pages: \d+ pages
same  scan after the write: 1 pages, 300 rows
patched:\n  2000 items / 100 partitions: scan page 1 {N} ms
""",
    "server_partition_discovery.py": r"""
seeded 300 items over 30 partitions in {N} s
lister.partitions \(DISTINCT\) +30 +1 +30 +{N} ms
""",
    "fuzz_inputs.py": r"""
total +inputs +1700 +expected errors +\d+ +unexpected exceptions +0 
protobuf: iter_fields \+ workflow_state decoders +inputs +\d+
""",
}
ARGV = {run: [f"bench/{run.split()[0]}", *(["--only", run.split()[1]] if " " in run else []), "--smoke"]
        for run in FIGURES}
AT_ONCE = 3
TIMEOUT = 600


def patterns(script: str) -> list[str]:
    return [line.replace("{N}", NUMBER) for line in FIGURES[script].splitlines() if line]


def run_smoke(argv: list[str]) -> subprocess.CompletedProcess:
    interpreter = shutil.which("node") if argv[0].endswith(".js") else sys.executable
    return subprocess.run([interpreter, *argv], capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO)


@pytest.fixture(scope="module")
def smokes(request):
    """The smoke run of every script this session selected, all started at once (AT_ONCE at a time, in
    FIGURES' order): script -> its future."""
    chosen = {item.callspec.params["script"] for item in request.session.items
              if item.module is request.module and "script" in getattr(getattr(item, "callspec", None), "params", {})}
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        futures = {name: pool.submit(run_smoke, argv) for name, argv in ARGV.items() if name in chosen}
        yield futures
        for future in futures.values():
            future.cancel()


def test_every_bench_script_has_a_smoke():
    scripts = {p.name for p in (REPO / "bench").iterdir() if p.suffix in (".py", ".js")}
    assert scripts - {run.split()[0] for run in FIGURES} == {"many_keys.py", "smoke.py"}  # the shared loader, the option


@pytest.mark.timeout(TIMEOUT * len(FIGURES) // AT_ONCE)
@pytest.mark.parametrize("script", list(FIGURES))
def test_bench_smoke_exits_0_and_prints_its_figures(smokes: dict[str, Future], script: str):
    result = smokes[script].result()
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(ARGV[script])} exited {result.returncode}:\n{output[-4000:]}"
    for pattern in patterns(script):
        assert re.search(pattern, result.stdout), f"{script}: no line matching {pattern!r} in:\n{result.stdout[-4000:]}"
