"""Benchmark of the TUI's speed and memory targets (issue 4), every figure from one run.

Starts its own local stack (real daprd + the Cosmos-compatible server), seeds the demo data,
then measures each part in fresh processes, so no part inherits another's imports or heap:

  paint      First paint. The real `dapr-explorer` entry point is started in a pseudo-terminal
             (120x40, TERM=xterm-256color) against the stack's sidecars; the clock runs from just
             before the process is spawned until every state store name of ./components has been
             written to the terminal (the store list drawn); --paint-runs times after one unscored
             warm-up; median and p90. Also the time until the status bar shows the open session
             (" stores · ": SDKs loaded, sidecars asked). Cross-check: the same entry point run
             headless by a small driver that takes the parent's time.time() from just before the
             spawn (env BENCH_T0) and stops the clock at the first composed frame whose StoreList
             has rows. For comparison, in fresh interpreters: `import textual, azure.cosmos.aio,
             dapr.proto`, `import textual.app, textual.widgets`, the same plus explorer.session.explorer_session
             (everything the app loads), and an interpreter that does nothing.
  open       Opening a key. ExplorerSession.open_key (the Cosmos point read and its decoding: what
             the editor waits for before it shows the key) against a bare azure-cosmos async
             `container.read_item` of the same item (same client settings: verified TLS to the
             stack's CA); also the Dapr get alone, and open_key followed by check_through_dapr
             (when the editor's "read via" has Dapr's verdict); interleaved in rotating order,
             --open-runs each after 5 warm-ups; medians and the ratio. Then end to end in the app (Pilot, headless, 120x40): enter on the key in
             the key table (sent as the terminal driver delivers keys) until the editor has
             `opened`, and until the editor's next composed frame; escape back; --open-app-runs.
  scroll     Memory. Seeds one partition with --scroll-keys keys through daprd (the seeder's scale
             mode, scale_partitions=1) and reports how long that took. Then the app (Pilot,
             headless, 120x40) opens that partition and sends ctrl+end (cursor to the last row
             held, which asks for the next page) until the key table's window is at the end of
             the partition; VmRSS from /proc/self/status after the first page, at the end, and
             the largest sampled after each page, plus VmHWM (peak); also the time a page takes
             and the key table's own share of it (append, drop_front).
  countdown  TTL countdown CPU. Writes --countdown-keys keys with ttlInSeconds 1200 s and up
             through chat-api's sidecar into one partition of the cache store. The app runs with
             its real terminal driver in a pseudo-terminal of 120x1020 (more than 1,000 table rows
             on screen) that a separate `cat` process drains, as a terminal emulator would; its
             clock runs 120 s ahead, so "modified" reads "2m ago" (changes once a minute, as for
             keys that are not brand new) while every countdown still changes each second. It
             loads every page, goes back to the top, then alternates idle windows (the browser's
             1 s ticker paused) and ticking windows, --countdown-rounds of each, --countdown-seconds
             in all of each kind, measuring time.process_time() (all threads) against wall time.
             Reports the CPU share ticking minus idle as % of one core, the cells each tick changed,
             the time of KeyTable.tick itself and the full garbage collections while ticking. Then
             the same with the headless driver (frames composed, no bytes written), and in a
             120x50 pty (a usual terminal) for comparison.

Usage: .venv/bin/python bench/tui_bench.py [--only paint|open|scroll|countdown ...] [--paint-runs 15]
           [--open-runs 50] [--open-app-runs 20] [--scroll-keys 100000] [--countdown-keys 1000]
           [--countdown-seconds 60] [--countdown-rounds 2] [--smoke]
Never a test: the machines are shared and noisy (the load average is printed with the figures);
quote the medians and ratios it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.smoke import smoke_args  # noqa: E402

PARTS = ("paint", "open", "scroll", "countdown")
RESULT = "BENCH-RESULT "

AGENTS_STORE = "statestore-agents-cosmos"
CACHE_STORE = "statestore-cache-cosmos"
OPEN_KEY = ("agent:planner", "gpt4")  # a plain key of agent-registry (tests.support.editing_writes), read through its sidecar
SCROLL_PARTITION = "tenant-00000"  # what seed(scale_partitions=1) writes every key into
TTL_PARTITION = "bench-ttl"


# -- small helpers -----------------------------------------------------------------------------


def proc_status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def median(values) -> float:
    return statistics.median(values)


def p90(values) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.1 else f"{seconds * 1000:.1f} ms"


def venv_python() -> str:
    return sys.executable


def entry_point() -> str:
    script = Path(sys.executable).parent / "dapr-explorer"
    if not script.exists():
        found = shutil.which("dapr-explorer")
        if not found:
            raise SystemExit("the dapr-explorer entry point is not installed (pip install -e .)")
        return found
    return str(script)


def run_child(part: str, env: dict[str, str], args: argparse.Namespace, timeout: float) -> dict:
    """Run `part` of this script in a fresh interpreter; it prints one RESULT line of JSON."""
    argv = [venv_python(), str(Path(__file__).resolve()), "--child", part,
            "--open-runs", str(args.open_runs), "--open-app-runs", str(args.open_app_runs),
            "--countdown-seconds", str(args.countdown_seconds), "--countdown-rounds", str(args.countdown_rounds),
            "--countdown-height", str(args.countdown_height), *(["--countdown-pty"] if args.countdown_pty else [])]
    done = subprocess.run(argv, env=env, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    raise RuntimeError(f"child {part} failed (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")


def emit(result: dict) -> None:
    print(RESULT + json.dumps(result), flush=True)


# -- part 1: first paint (parent side: spawns fresh processes) -----------------------------------


def _store_names() -> list[str]:
    from explorer.components.files import load_components

    return [c.name for c in load_components([REPO / "components"]) if c.type.startswith("state.")]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/PID/stat; 10 ms resolution)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def paint_in_pty(env: dict[str, str], ports: list[int], names: list[str], timeout: float = 20.0,
                 size: tuple[int, int] = (120, 40)) -> tuple[float, float | None, float]:
    """(seconds to the store list on the terminal, seconds to the session's status line,
    CPU seconds the process had used when the store list was on the terminal)."""
    import fcntl
    import pty
    import signal
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    argv = [entry_point(), "--resources-path", str(REPO / "components")]
    for port in ports:
        argv += ["--dapr-grpc-port", str(port)]
    child_env = dict(env, TERM="xterm-256color", COLUMNS=str(size[0]), LINES=str(size[1]))
    markers = [name.encode() for name in names]
    session_marker = " stores · ".encode()
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=child_env, cwd=REPO,
                            start_new_session=True, close_fds=True)
    os.close(slave)
    buf = b""
    painted = ready = cpu = None
    try:
        while time.perf_counter() - t0 < timeout and (painted is None or ready is None):
            readable, _, _ = select.select([master], [], [], 0.02)
            if not readable:
                if proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 1 << 16)
            except OSError:
                break
            now = time.perf_counter() - t0
            buf += data
            if painted is None and all(m in buf for m in markers):
                painted = now
                cpu = cpu_seconds(proc.pid)
            if ready is None and session_marker in buf:
                ready = now
        os.write(master, b"\x03")  # ctrl+c: the app's quit binding
        deadline = time.perf_counter() + 10
        while proc.poll() is None and time.perf_counter() < deadline:
            readable, _, _ = select.select([master], [], [], 0.05)
            if readable:
                try:
                    os.read(master, 1 << 16)
                except OSError:
                    pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(5)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    if painted is None:
        tail = buf[-2000:].decode("utf-8", "replace")
        raise RuntimeError(f"the store list never appeared on the terminal; last output:\n{tail}")
    return painted, ready, cpu


HEADLESS_DRIVER = r"""
import json, os, sys, time
T0 = float(os.environ["BENCH_T0"])
if not os.environ.get("BENCH_WITHOUT_CLI"):
    import explorer.cli.main as cli
from explorer.tui.app import ExplorerApp
marks = {}
_display = ExplorerApp._display
def display(self, screen, renderable):
    _display(self, screen, renderable)
    if "paint" in marks or renderable is None:
        return
    now = time.time() - T0
    from explorer.tui.widgets.store_list import StoreList
    try:
        table = screen.query_one(StoreList)
    except Exception:
        return
    if table.row_count and table.region.height:
        marks["paint"] = now
        marks["sdks"] = [m for m in ("azure.cosmos", "azure.cosmos.aio", "aiohttp", "grpc", "dapr.proto")
                         if m in sys.modules]
        self.exit()
ExplorerApp._display = display
_run = ExplorerApp.run
ExplorerApp.run = lambda self, **kw: _run(self, headless=True, size=(120, 40))
if os.environ.get("BENCH_WITHOUT_CLI"):
    # What-if: the app built as cli._run_explorer builds it, but without the CLI's argument
    # parser (which imports explorer.cli.commands and with it the SDKs) and without explorer.dapr.sidecar.
    from pathlib import Path
    from explorer.components.files import load_components
    args = sys.argv[1:]
    paths = [Path(args[i + 1]) for i, a in enumerate(args) if a == "--resources-path"]
    ports = [args[i + 1] for i, a in enumerate(args) if a == "--dapr-grpc-port"]
    ExplorerApp(load_components(paths), paths, [f"127.0.0.1:{p}" for p in ports]).run()
else:
    cli.main(sys.argv[1:])
print("BENCH-RESULT " + json.dumps(marks), flush=True)
"""


def paint_headless(env: dict[str, str], ports: list[int], without_cli: bool = False) -> dict:
    argv = [venv_python(), "-c", HEADLESS_DRIVER, "--resources-path", str(REPO / "components")]
    for port in ports:
        argv += ["--dapr-grpc-port", str(port)]
    child_env = dict(env, BENCH_T0=repr(time.time()))
    if without_cli:
        child_env["BENCH_WITHOUT_CLI"] = "1"
    done = subprocess.run(argv, env=child_env, cwd=REPO, capture_output=True, text=True, timeout=60)
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            return json.loads(line[len(RESULT):])
    raise RuntimeError(f"headless paint driver failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def import_costs(codes: dict[str, str], runs: int) -> dict[str, tuple[float, float]]:
    """Per name: (median in-process seconds of its code, median seconds from spawn to exit), each in
    fresh interpreters, the codes interleaved so that all of them see the same machine."""
    inner: dict[str, list[float]] = {name: [] for name in codes}
    outer: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            program = f"import time; t = time.perf_counter(); {code}; print(time.perf_counter() - t)"
            t0 = time.perf_counter()
            done = subprocess.run([venv_python(), "-c", program], capture_output=True, text=True, check=True, cwd=REPO)
            outer[name].append(time.perf_counter() - t0)
            inner[name].append(float(done.stdout.strip().splitlines()[-1]))
    return {name: (median(inner[name]), median(outer[name])) for name in codes}


def bench_paint(stack, args) -> dict:
    env = stack.client_env()
    ports = [s.grpc_port for s in stack.sidecars.values()]
    names = _store_names()
    if not args.smoke:
        paint_in_pty(env, ports, names)  # warm the page cache once; not counted
    painted, ready, cpu, marks, lean = [], [], [], [], []
    for _ in range(args.paint_runs):  # interleaved, so all three see the same machine
        p, r, c = paint_in_pty(env, ports, names)
        painted.append(p)
        cpu.append(c)
        if r is not None:
            ready.append(r)
        marks.append(paint_headless(env, ports))
        lean.append(paint_headless(env, ports, without_cli=True))
    headless = [m["paint"] for m in marks]
    imports = import_costs({
        "import_sdks": "import textual, azure.cosmos.aio, dapr.proto",
        "import_textual": "import textual.app, textual.widgets",
        "import_all": "import textual.app, textual.widgets, explorer.session.explorer_session",  # everything the app loads
        # What the entry point runs before it builds the app: its module and its argument parser.
        "import_cli": "import explorer.cli.main, explorer.cli.parser; explorer.cli.parser.build_parser()",
        "interpreter": "pass",
    }, args.paint_runs)
    return {
        "runs": args.paint_runs, "pty_median": median(painted), "pty_p90": p90(painted), "pty_all": painted,
        "pty_cpu_median": median(cpu), "ready_median": median(ready) if ready else None, "ready_runs": len(ready),
        "headless_median": median(headless), "headless_p90": p90(headless), "sdks_at_paint": marks[-1]["sdks"],
        "lean_median": median([m["paint"] for m in lean]), "lean_p90": p90([m["paint"] for m in lean]),
        "lean_sdks": lean[-1]["sdks"], **imports,
    }


# -- part 2: opening a key (children) --------------------------------------------------------------


def _child_paths() -> tuple[list[Path], list[str]]:
    resources = [Path(p) for p in os.environ["BENCH_RESOURCES"].split(os.pathsep)]
    return resources, os.environ["BENCH_SIDECARS"].split(",")


async def child_open(args) -> dict:
    from explorer.core.envelope import document_id
    from explorer.backends.cosmos.connection import async_client
    from explorer.session.explorer_session import ExplorerSession

    resources, addresses = _child_paths()
    session = await ExplorerSession.open(resources, addresses, None, False, None)
    try:
        location = await session.location(AGENTS_STORE)
        key, partition = OPEN_KEY
        doc_id = document_id(key, location.key_prefix, "agent-registry", location.store)
        client = async_client(os.environ["COSMOS_URL"], os.environ["COSMOS_MASTER_KEY"], os.environ["SSL_CERT_FILE"])
        container = client.get_database_client(location.database).get_container_client(location.container)
        sidecar = session.workspace.sidecars["agent-registry"]

        async def bare():
            return await container.read_item(doc_id, partition_key=partition)

        async def dapr():
            return await sidecar.get(location.store, key, {"partitionKey": partition})

        async def opened():
            result = await session.open_key(location, doc_id, partition)
            assert result.dapr_app == "agent-registry" and not result.dapr_checked, result
            return result

        async def checked():
            result = await session.check_through_dapr(location, await session.open_key(location, doc_id, partition))
            assert result.read_through.startswith("Dapr") and not result.warnings, result
            return result

        names = ("bare", "open_key", "dapr", "checked")
        runs: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}  # this process's CPU per call
        order = [("bare", bare), ("open_key", opened), ("dapr", dapr), ("checked", checked)]
        for i in range(5 + args.open_runs):
            rotated = order[i % 4:] + order[:i % 4]  # alternate who goes first
            for name, call in rotated:
                c, t = time.process_time(), time.perf_counter()
                await call()
                if i >= 5:
                    runs[name].append(time.perf_counter() - t)
                    cpu[name].append(time.process_time() - c)
        await client.close()
    finally:
        await session.close()
    return ({name: median(values) for name, values in runs.items()}
            | {f"{name}_cpu": statistics.mean(values) for name, values in cpu.items()} | {"runs": args.open_runs})


async def _until(pilot, condition, what: str, timeout: float = 60.0, step: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(step)


def _make_app(clock_offset: float = 0.0):
    from explorer.tui.app import ExplorerApp
    from explorer.components.files import load_components

    resources, addresses = _child_paths()
    return ExplorerApp(load_components(resources), resources, addresses, clock=lambda: time.time() + clock_offset)


def _send_key(app, key: str, char: str | None = None) -> None:
    """A key event as the terminal driver delivers it (Pilot.press adds idle waits of 2 x 20 ms or more)."""
    from textual import events

    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)  # noqa: SLF001


async def _next_page(pilot, browser) -> int:
    """ctrl+end (the cursor to the last row held, which asks for the next page) until that page is in;
    returns its number, counting from 1."""
    last = browser.window.last_page
    _send_key(pilot.app, "ctrl+end")
    await _until(pilot, lambda: browser.window.at_end or (browser.window.last_page > last
                                                           and not browser.window.pending),
                 f"page {last + 2}", timeout=60, step=0.002)
    return last + 2


async def _open_partition(pilot, store: str, partition: str):
    """Put the store list's cursor on `store`, then open `partition` as the go-to dialog (g) does."""
    from explorer.tui.widgets.store_list import StoreList

    app = pilot.app
    browser = app.browser
    await _until(pilot, lambda: app.session is not None, "the session to open")
    # The doctor's first checks redraw the store list; let them finish so that nothing else moves.
    await _until(pilot, lambda: all(s.name in browser.findings for s in app.session.stores() if s.declared_in),
                 "the doctor's checks", timeout=120)
    browser.query_one(StoreList).move_cursor(row=[s.name for s in app.session.stores()].index(store))
    await _until(pilot, lambda: browser.store == store and browser.location is not None, f"{store} to open")
    await _until(pilot, lambda: partition in browser.partitions.partitions, f"partition {partition}", timeout=300)
    browser.partitions.select(partition)
    browser.open_partition(partition)
    browser.keys.focus()
    await _until(pilot, lambda: browser.partition == partition and browser.keys.entries and not browser.window.pending,
                 f"keys of {partition}")
    return browser


async def child_open_app(args) -> dict:
    from explorer.tui.screens.browser import Browser
    from explorer.tui.screens.key_editor import KeyEditor

    app = _make_app()
    frames: list[tuple[float, object]] = []  # (when, screen) of every composed frame
    display = app._display

    def recording_display(screen, renderable) -> None:
        display(screen, renderable)
        if renderable is not None:
            frames.append((time.perf_counter(), screen))

    app._display = recording_display
    key, partition = OPEN_KEY
    opened_times, drawn_times = [], []
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await _open_partition(pilot, AGENTS_STORE, partition)
        table = browser.keys
        table.focus()

        def on_key() -> bool:
            return table.current is not None and table.current.state_key.key == key

        for _ in range(len(table.entries)):
            if on_key():
                break
            await pilot.press("down")
        assert on_key(), [e.state_key.key for e in table.entries]
        for i in range(3 + args.open_app_runs):
            await pilot.pause(0.1)
            frames.clear()
            t = time.perf_counter()
            _send_key(app, "enter", "\r")
            while not (isinstance(app.screen, KeyEditor) and app.screen.opened is not None):
                await asyncio.sleep(0.0005)
            opened_at = time.perf_counter()
            editor = app.screen
            while not any(when >= opened_at and screen is editor for when, screen in frames):
                await asyncio.sleep(0.0005)
            drawn_at = next(when for when, screen in frames if when >= opened_at and screen is editor)
            if i >= 3:
                opened_times.append(opened_at - t)
                drawn_times.append(drawn_at - t)
            await pilot.press("escape")
            await _until(pilot, lambda: isinstance(app.screen, Browser) and not browser.window.pending and on_key(),
                         "back on the key")
    return {"app_open_median": median(opened_times), "app_open_p90": p90(opened_times),
            "app_drawn_median": median(drawn_times), "app_drawn_p90": p90(drawn_times), "runs": len(opened_times)}


# -- part 3: memory while scrolling a big partition (child) ------------------------------------------


async def child_scroll(args) -> dict:
    app = _make_app()
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        browser = await _open_partition(pilot, AGENTS_STORE, SCROLL_PARTITION)
        table = browser.keys
        table.focus()
        spent: dict[str, list[float]] = {"append": [], "drop_front": []}  # the table's work per page

        def timed(name: str, method):
            def call(*a, **kw):
                t = time.perf_counter()
                method(*a, **kw)
                spent[name].append(time.perf_counter() - t)
            return call

        table.append = timed("append", table.append)
        table.drop_front = timed("drop_front", table.drop_front)
        first_page = proc_status_mb("VmRSS")
        started = time.perf_counter()
        while not browser.window.at_end:
            page = await _next_page(pilot, browser)
            samples.append(proc_status_mb("VmRSS"))
            if page % 100 == 0:
                print(f"page {page}: RSS {samples[-1]:.1f} MB, {time.perf_counter() - started:.0f} s",
                      file=sys.stderr, flush=True)
        seconds = time.perf_counter() - started
        end = proc_status_mb("VmRSS")
        held = len(table.entries)
        pages = browser.window.last_page + 1
        keys_scrolled = browser.window.last_page * 100 + len(browser.window._pages[-1][1])  # noqa: SLF001
    return {"rss_first_page": first_page, "rss_end": end, "rss_max_sampled": max(samples + [first_page, end]),
            "vm_hwm": proc_status_mb("VmHWM"), "pages": pages, "keys": keys_scrolled, "rows_held": held,
            "seconds": seconds, "rss_every_100_pages": samples[98::100],
            "append_ms_median": 1000 * median(spent["append"]),
            "drop_front_ms_median": 1000 * median(spent["drop_front"]) if spent["drop_front"] else 0.0}


# -- part 4: CPU of the TTL countdown (child) -------------------------------------------------------


class _Steps:
    """What `_open_partition` and `_until` need of a Pilot, for an app run with its real driver."""

    def __init__(self, app) -> None:
        self.app = app

    async def pause(self, delay: float | None = None) -> None:
        await asyncio.sleep(delay or 0)


async def _measure_countdown(pilot, args) -> dict:
    """Open the TTL partition, load it all, then alternate idle and ticking windows (see the docstring)."""
    rounds, window = args.countdown_rounds, args.countdown_seconds / args.countdown_rounds
    app = pilot.app
    browser = await _open_partition(pilot, CACHE_STORE, TTL_PARTITION)
    table = browser.keys
    table.focus()
    while not browser.window.at_end:
        await _next_page(pilot, browser)
    _send_key(app, "ctrl+home")
    await pilot.pause(0.5)
    ticks: list[tuple[float, int]] = []
    tick = table.tick

    def counted(now: float) -> int:
        t = time.perf_counter()
        changed = tick(now)
        ticks.append((time.perf_counter() - t, changed))
        return changed

    table.tick = counted
    visible = min(len(table.entries), table.size.height - (table.header_height if table.show_header else 0))
    idle = [0.0, 0.0]  # CPU seconds, wall seconds
    ticking = [0.0, 0.0]
    ticks.clear()
    ticker = browser._ticker  # noqa: SLF001 - the one 1 s timer the browser drives the countdown with

    # Full (generation 2) garbage collections walk the whole heap (~0.2 s here); what the ticks
    # allocate decides how often they come, so they are part of the countdown's cost.
    full_collections: list[float] = []
    collecting = {"on": False, "start": 0.0}

    def on_gc(phase: str, info: dict) -> None:
        if info["generation"] != 2 or not collecting["on"]:
            return
        if phase == "start":
            collecting["start"] = time.perf_counter()
        else:
            full_collections.append(time.perf_counter() - collecting["start"])

    async def window_of(into: list[float]) -> None:
        c, w = time.process_time(), time.perf_counter()
        await asyncio.sleep(window)
        into[0] += time.process_time() - c
        into[1] += time.perf_counter() - w

    gc.callbacks.append(on_gc)
    for _ in range(rounds):
        ticker.pause()
        await asyncio.sleep(1.5)  # let a tick that was running finish
        await window_of(idle)
        ticker.resume()
        collecting["on"] = True
        await window_of(ticking)
        collecting["on"] = False
    ticker.pause()
    gc.callbacks.remove(on_gc)
    changed = [n for _, n in ticks]
    share = ticking[0] / ticking[1] - idle[0] / idle[1]
    return {"rows_held": len(table.entries), "table_height": table.size.height, "visible_rows": visible,
            "idle_cpu": idle[0], "idle_wall": idle[1], "ticking_cpu": ticking[0], "ticking_wall": ticking[1],
            "percent": 100 * share, "ticks": len(ticks),
            "full_gc": len(full_collections), "full_gc_seconds": sum(full_collections),
            "tracked_objects": len(gc.get_objects()),
            "cells_changed_median": median(changed) if changed else 0,
            "tick_python_ms_median": 1000 * median(t for t, _ in ticks) if ticks else 0.0}


async def child_countdown(args) -> dict:
    # The app's one clock, 120 s ahead: the keys were written seconds ago, and a "modified 12s ago"
    # cell would change every second too; this is the partition as seen two minutes later
    # ("2m ago" changes once a minute), every TTL countdown still changing each second.
    app = _make_app(clock_offset=120.0)
    if not args.countdown_pty:
        async with app.run_test(size=(120, args.countdown_height)) as pilot:
            return await _measure_countdown(pilot, args)
    # The real terminal driver writing to a pseudo-terminal of that size, which a separate `cat`
    # process drains (its CPU is not ours, as a terminal emulator's would not be).
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", args.countdown_height, 120, 0, 0))
    drain = subprocess.Popen(["cat"], stdin=master, stdout=subprocess.DEVNULL)
    saved = os.dup(1), os.dup(0)
    os.dup2(slave, 0)
    os.dup2(slave, 1)
    result: dict = {}

    async def steps() -> None:
        try:
            while not app.is_running or app.browser is None:
                await asyncio.sleep(0.01)
            result.update(await _measure_countdown(_Steps(app), args))
        except BaseException as error:  # noqa: BLE001 - reported by the parent as the child's failure
            result["error"] = repr(error)
        finally:
            app.exit()

    try:
        task = asyncio.create_task(steps())
        await app.run_async()
        await task
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 0)
        drain.kill()
        for fd in (*saved, master, slave):
            os.close(fd)
    if "error" in result:
        raise RuntimeError(result["error"])
    return result


# -- seeding -------------------------------------------------------------------------------------


async def seed_ttl_keys(stack, count: int) -> float:
    import orjson

    from explorer.localstack.seed import CACHE_APP
    from explorer.dapr.sidecar import SidecarClient, StateWrite

    started = time.perf_counter()
    writes = [StateWrite(key=f"bench:ttl-{i:05d}", value=orjson.dumps({"n": i}),
                         metadata={"partitionKey": TTL_PARTITION, "ttlInSeconds": str(1200 + i % 1800)})
              for i in range(count)]
    async with SidecarClient(stack.sidecars[CACHE_APP].grpc_address) as client:
        for i in range(0, len(writes), 200):
            await client.save(CACHE_STORE, writes[i:i + 200])
    return time.perf_counter() - started


# -- the run --------------------------------------------------------------------------------------


def command_line() -> str:
    """How this bench was started, as a user would type it (bench/<script> and its options)."""
    return " ".join([".venv/bin/python", "bench/" + Path(sys.argv[0]).name, *sys.argv[1:]])


def print_report(rows: list[tuple[str, str, str]], notes: list[str], load_at_start: str) -> None:
    """The closing table every bench prints: the command, the machine's load, notes, then a row per
    target (what, verdict, measured)."""
    width = max((len(r[0]) for r in rows), default=10)
    print()
    print(f"command: {command_line()}")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores "
          f"(started at {load_at_start})")
    for note in notes:
        print(f"note: {note}")
    print(f"{'target':<{width}}  {'result':<6}  measured")
    for target, measured, verdict in rows:
        print(f"{target:<{width}}  {verdict:<6}  {measured}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=PARTS, action="append", help="run only this part (repeatable)")
    parser.add_argument("--paint-runs", type=int, default=15)
    parser.add_argument("--open-runs", type=int, default=50)
    parser.add_argument("--open-app-runs", type=int, default=20)
    parser.add_argument("--scroll-keys", type=int, default=100_000)
    parser.add_argument("--countdown-keys", type=int, default=1000)
    parser.add_argument("--countdown-seconds", type=float, default=60.0)
    parser.add_argument("--countdown-rounds", type=int, default=2)
    parser.add_argument("--countdown-height", type=int, default=1020, help="terminal lines (1020: >1,000 table rows)")
    parser.add_argument("--countdown-pty", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=("open", "open-app", "scroll", "countdown"), help=argparse.SUPPRESS)
    args = smoke_args(parser, paint_runs=1, open_runs=1, open_app_runs=1, scroll_keys=300, countdown_keys=20,
                      countdown_seconds=2.0, countdown_rounds=1, countdown_height=50)

    if args.child:
        child = {"open": child_open, "open-app": child_open_app, "scroll": child_scroll,
                 "countdown": child_countdown}[args.child]
        emit(asyncio.run(child(args)))
        return

    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import seed

    from tests.support import write_editing_keys

    parts = args.only or list(PARTS)
    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows: list[tuple[str, str, str]] = []
    notes: list[str] = []
    t = time.perf_counter()
    with LocalStack() as stack:
        print(f"local stack up in {time.perf_counter() - t:.1f} s", flush=True)
        scale = args.scroll_keys if "scroll" in parts else 0
        summary = asyncio.run(seed(stack, scale_keys=scale, scale_partitions=1))
        asyncio.run(write_editing_keys(stack))  # OPEN_KEY is one of the tests' own plain keys
        print(f"seeded the demo data{f' and {scale:,} keys in partition {SCROLL_PARTITION}' if scale else ''} "
              f"in {summary.seconds:.1f} s", flush=True)
        if scale:
            notes.append(f"seeding {scale:,} keys into one partition through daprd took {summary.seconds:.0f} s")
        env = stack.client_env()
        env["BENCH_RESOURCES"] = str(stack.resources_path)
        env["BENCH_SIDECARS"] = ",".join(s.grpc_address for s in stack.sidecars.values())

        if "paint" in parts:
            p = bench_paint(stack, args)
            print(f"paint: {json.dumps(p)}", flush=True)
            rows.append(("first paint (store list drawn) <= 0.5 s",
                         f"{ms(p['pty_median'])} median, p90 {ms(p['pty_p90'])} "
                         f"(n={p['runs']}, real entry point in a pty)",
                         "OK" if p["pty_median"] <= 0.5 else "MISSED"))
            rows.append(("  CPU the process had used by then (user+sys)", f"{ms(p['pty_cpu_median'])} median", ""))
            rows.append(("  cross-check: headless driver, first frame with store rows",
                         f"{ms(p['headless_median'])} median, p90 {ms(p['headless_p90'])}", ""))
            rows.append(("  what-if, headless: the app without explorer.cli.main's parser",
                         f"{ms(p['lean_median'])} median, p90 {ms(p['lean_p90'])}; SDK modules loaded at the first "
                         f"paint: {', '.join(p['lean_sdks']) or 'none'}", ""))
            if p["ready_median"] is not None:
                rows.append(("  session open (status line shows stores/sidecars)",
                             f"{ms(p['ready_median'])} median ({p['ready_runs']} runs)", ""))
            rows.append(("  import textual, azure.cosmos.aio, dapr.proto (fresh interpreter)",
                         f"{ms(p['import_sdks'][0])} in-process; {ms(p['import_sdks'][1])} spawn to exit", ""))
            rows.append(("  import textual.app, textual.widgets",
                         f"{ms(p['import_textual'][0])} in-process; {ms(p['import_textual'][1])} spawn to exit", ""))
            rows.append(("  import textual.app, textual.widgets, explorer.session.explorer_session (all the app loads)",
                         f"{ms(p['import_all'][0])} in-process; {ms(p['import_all'][1])} spawn to exit", ""))
            rows.append(("  import explorer.cli.main + its argument parser (before the app)",
                         f"{ms(p['import_cli'][0])} in-process; SDK modules loaded at the first paint: "
                         f"{', '.join(p['sdks_at_paint']) or 'none'}", ""))
            rows.append(("  interpreter doing nothing", f"{ms(p['interpreter'][1])} spawn to exit", ""))

        if "open" in parts:
            o = run_child("open", env, args, timeout=600)
            print(f"open: {json.dumps(o)}", flush=True)
            ratio = o["open_key"] / o["bare"]
            rows.append(("open a key <= 2x a direct point read",
                         f"open_key {ms(o['open_key'])} / read_item {ms(o['bare'])} = {ratio:.2f}x "
                         f"(n={o['runs']} each)",
                         "OK" if ratio <= 2 else "MISSED"))
            rows.append(("  Dapr get alone (same key)", f"{ms(o['dapr'])} median", ""))
            rows.append(("  open_key, then Dapr's verdict (check_through_dapr)",
                         f"{ms(o['checked'])} median; {o['checked'] / o['bare']:.2f}x the point read", ""))
            rows.append(("  client CPU per call (mean): open_key / read_item / Dapr get / both",
                         f"{ms(o['open_key_cpu'])} / {ms(o['bare_cpu'])} / {ms(o['dapr_cpu'])} / "
                         f"{ms(o['checked_cpu'])}", ""))
            a = run_child("open-app", env, args, timeout=600)
            print(f"open-app: {json.dumps(a)}", flush=True)
            rows.append(("  in the app: enter until the editor has the key",
                         f"{ms(a['app_open_median'])} median, p90 {ms(a['app_open_p90'])} (n={a['runs']}); "
                         f"{a['app_open_median'] / o['bare']:.1f}x the point read", ""))
            rows.append(("  in the app: enter until the editor's frame with the key is composed",
                         f"{ms(a['app_drawn_median'])} median, p90 {ms(a['app_drawn_p90'])}", ""))

        if "scroll" in parts:
            s = run_child("scroll", env, args, timeout=3600)
            print(f"scroll: {json.dumps(s)}", flush=True)
            rows.append((f"RSS <= 200 MB after scrolling all {s['keys']:,} keys of one partition",
                         f"{s['rss_end']:.0f} MB at the end ({s['rss_first_page']:.0f} MB after the first page; "
                         f"max sampled {s['rss_max_sampled']:.0f} MB, peak VmHWM {s['vm_hwm']:.0f} MB)",
                         "OK" if max(s["rss_end"], s["rss_max_sampled"]) <= 200 else "MISSED"))
            rows.append(("  scroll-through", f"{s['pages']:,} pages in {s['seconds']:.0f} s "
                         f"({1000 * s['seconds'] / max(1, s['pages'] - 1):.0f} ms a page); "
                         f"{s['rows_held']:,} rows held; per page KeyTable.append {s['append_ms_median']:.0f} ms, "
                         f"drop_front {s['drop_front_ms_median']:.0f} ms",
                         ""))

        if "countdown" in parts:
            seconds = asyncio.run(seed_ttl_keys(stack, args.countdown_keys))
            notes.append(f"writing {args.countdown_keys:,} TTL keys took {seconds:.1f} s")
            runs = ((args.countdown_height, True), (args.countdown_height, False), (50, True))
            for height, pty_mode in runs[:2] if args.smoke else runs:  # smoke: the 120x50 pty is already the first
                run = argparse.Namespace(**{**vars(args), "countdown_height": height, "countdown_pty": pty_mode})
                c = run_child("countdown", env, run, timeout=600)
                how = "pty" if pty_mode else "headless"
                print(f"countdown ({how}, 120x{height}): {json.dumps(c)}", flush=True)
                cpu = (f"{c['percent']:.1f} % (CPU {c['ticking_cpu']:.2f} s in {c['ticking_wall']:.1f} s ticking, "
                       f"{c['idle_cpu']:.2f} s in {c['idle_wall']:.1f} s idle)")
                per_tick = (f"{c['cells_changed_median']:.0f} cells changed a tick; tick() itself "
                            f"{c['tick_python_ms_median']:.1f} ms ({c['ticks']} ticks); {c['full_gc']} full garbage "
                            f"collections while ticking ({ms(c['full_gc_seconds'])}; {c['tracked_objects']:,} objects "
                            f"tracked)")
                if height == args.countdown_height and pty_mode:
                    rows.append((f"TTL countdown of {c['visible_rows']:,} visible rows <= 5 % of a core",
                                 f"{cpu}; real terminal driver, 120x{height} pty",
                                 "OK" if c["percent"] <= 5 else "MISSED"))
                    rows.append(("  per tick", per_tick, ""))
                elif pty_mode:
                    rows.append((f"  same, 120x{height} pty ({c['visible_rows']} rows on screen)", f"{cpu}; {per_tick}", ""))
                else:
                    rows.append(("  cross-check: headless driver (frames composed, not written)", cpu, ""))

    stack.remove_run_dir()
    print_report(rows, notes, load_at_start)


if __name__ == "__main__":
    main()
