"""Reliability figures of issue 9, from one rerunnable script (a benchmark, never a timed test).

Every part starts its own local stack (real daprd sidecars + the Cosmos-compatible server, all on
127.0.0.1; daprd with --enable-api-logging where writes are counted), is bounded in time and in
requests, stops everything it started, and prints its figures. The summary at the end lists every
figure with its guarantee; the exit status is 1 if any figure breaks its guarantee.

  R1  read-only is total. (a) A --read-only TUI session (Textual Pilot) visits every screen, presses
      every key binding the screen has (plus e, d, ctrl+s, enter, y, r, …) and runs every command
      the command palette offers there; (b) every CLI write subcommand with --read-only before and
      after it. Counted: changed etags over every item of every container, and state writes in every
      daprd's API log (the counter is first proven on one real write: it must count 1).
  R2  no lost update. 200 races read → the app writes through its sidecar → the explorer saves with
      what it read: every save must be an EtagConflict and the app's value must be in Cosmos. Then
      20 `dapr-explorer set --etag E` processes at once with the same etag: one wins, 19 exit 4. Then
      bulk delete, bulk set-ttl, import --overwrite-changed and import (create) of 300 keys each, with
      another writer deleting, changing or creating every 10th key between the dry run and the typed
      count: each raced key is skipped, audited `skipped` (never `done`) and left as that writer left it.
  R4  fault matrix. daprd frozen (SIGSTOP) during a CLI set and a TUI save, daprd killed (SIGKILL)
      during a CLI set and a TUI save, the Cosmos server stopped during a partition listing and an
      export: the exit code, the one-line message, no traceback, the TUI still answering keys, and
      the next command working after the restart.
  R5  no secret anywhere. The account key (as is, base64-decoded as hex, URL-encoded, JSON-escaped),
      a DAPR_API_TOKEN of an extra daprd and the token of the explorer's own daprd are counted in the
      output of every CLI subcommand (human and --json, and error cases), in screenshots of a TUI
      session after each step, in every log file of the stack, and in `dapr-explorer stack`'s output.
  R6  bench/fuzz_inputs.py (run as it is; its output passed through): every parser of untrusted input.
  R7  hostile names and values. --hostile-count key names (every C0/C1 control, DEL, every bidi and
      format character, separators, the OSC/CSI attacks, markup look-alikes, non-BMP text, names up to
      1,000 bytes) and values holding them, written through daprd, plus items with a lone surrogate
      written with the SDK (daprd cannot store one), shown by every CLI subcommand that prints store
      data (human and --json) and every TUI view that does (headless: each full repaint's text): raw
      control characters reaching the terminal, tracebacks, --json lines not read back exactly.

Usage: .venv/bin/python bench/reliability.py [--only R1,R2,R4,R5,R6,R7] [--races 200] [--parallel 20] [--bulk-keys 300]
           [--export-keys 20000] [--fuzz-count 200000] [--hostile-count 1000] [--smoke]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import inspect
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import orjson  # noqa: E402

from bench.smoke import smoke_args  # noqa: E402
from explorer.localstack.seed import (  # noqa: E402
    AGENTS_APP, AGENTS_STORE, CACHE_APP, CACHE_STORE, WORKFLOWS_APP, WORKFLOWS_STORE,
)
from tests.support import every_etag, write_editing_keys  # noqa: E402
# Written by daprd from the stack's apps (start_stack(apps=True)): the actor app's cart and the failed order.
ACTOR_PARTITION = "cart-service||CartActor||cart-42"
ACTOR_KEY = "CartActor||cart-42||items"
WF_TYPE = "dapr.internal.default.order-processor.workflow"
WORKFLOW_PARTITION = f"order-processor||{WF_TYPE}||order-1002"
WORKFLOW_KEY = f"{WF_TYPE}||order-1002||metadata"
TRACEBACK = "Traceback (most recent call last)"


# -- figures and the summary -------------------------------------------------------------------


@dataclass
class Figure:
    part: str
    name: str
    value: str
    guarantee: str = ""
    ok: bool | None = None  # None: informational


FIGURES: list[Figure] = []


def figure(part: str, name: str, value, guarantee: str = "", ok: bool | None = None) -> None:
    FIGURES.append(Figure(part, name, str(value), guarantee, ok))
    mark = {True: "ok  ", False: "FAIL", None: "    "}[ok]
    tail = f"   (guarantee: {guarantee})" if guarantee else ""
    print(f"  {mark} {part} {name}: {value}{tail}", file=OUT, flush=True)


OUT = sys.stdout  # the figures go here even while an app's own output is captured


def say(text: str) -> None:
    print(text, file=OUT, flush=True)


# -- the stack and what it wrote -----------------------------------------------------------------


def start_stack(api_logging: bool = True, scale_keys: int = 0, scale_partitions: int = 10_000, apps: bool = False):
    """A seeded stack; `apps`: with the workflow and actor apps (their state is what R1's editors open)."""
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import seed

    stack = LocalStack(api_logging=api_logging, apps=apps).start()
    try:
        summary = asyncio.run(seed(stack, scale_keys, scale_partitions))
        asyncio.run(write_editing_keys(stack))  # the plain keys the scenarios edit (tests.support)
    except BaseException:
        stack.stop()
        raise
    say(f"  stack up: {stack.cosmos.url}, sidecars "
        + ", ".join(f"{a}:{s.grpc_port}" for a, s in stack.sidecars.items())
        + f"; seeded in {summary.seconds:.1f}s" + (f" ({summary.scale_keys} extra keys)" if scale_keys else ""))
    return stack


class Env:
    """os.environ with the stack's COSMOS_URL etc. while the in-process app or session runs."""

    def __init__(self, stack):
        self.stack = stack

    def __enter__(self):
        self.saved = dict(os.environ)
        os.environ.update(self.stack.client_env())
        os.environ.pop("DAPR_GRPC_PORT", None)

    def __exit__(self, *exc):
        os.environ.clear()
        os.environ.update(self.saved)


async def answers_help(pilot) -> bool:
    """Whether the app still answers keys: `?` opens Help (closed again)."""
    from explorer.tui.dialogs import Help

    await pilot.press("question_mark")
    try:
        await until(pilot, lambda: isinstance(pilot.app.screen, Help), "help", timeout=5)
    except TimeoutError:
        return False
    await pilot.press("escape")
    return True


def changed_etags(before: dict, after: dict) -> int:
    keys = set(before) | set(after)
    return sum(1 for k in keys if before.get(k) != after.get(k))


#: daprd --enable-api-logging lines for state writes: gRPC SaveState/DeleteState/transactions/bulk
#: delete, and their HTTP forms (POST /v1.0/state/S, POST …/transaction, DELETE /v1.0/state/S/K).
GRPC_WRITE = re.compile(r'msg="gRPC API Called".*method="?/dapr\.proto\.runtime\.v1\.Dapr/'
                        r'(SaveState|DeleteState|DeleteBulkState|ExecuteStateTransaction)\b')
HTTP_WRITE = re.compile(r'msg="HTTP API Called".*method="(POST|PUT|PATCH|DELETE) /v1\.0[^/ ]*/state/'
                        r'(?![^" ]*/bulk")[^"]*"')
API_CALL = re.compile(r'msg="(gRPC|HTTP) API Called"')


def api_log_lines(stack) -> dict[str, list[str]]:
    out = {}
    for app, sidecar in stack.sidecars.items():
        try:
            text = Path(sidecar.process.log_path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        out[app] = [line for line in text.splitlines() if API_CALL.search(line)]
    return out


def count_writes(stack) -> tuple[int, int]:
    """(state writes, all API calls) logged so far by every daprd of the stack."""
    time.sleep(0.3)  # daprd writes its log line after answering
    writes = calls = 0
    for lines in api_log_lines(stack).values():
        calls += len(lines)
        writes += sum(1 for line in lines if GRPC_WRITE.search(line) or HTTP_WRITE.search(line))
    return writes, calls


def prove_counter(stack, part: str) -> None:
    """One real write through daprd must count exactly one: the counter counts."""
    from explorer.dapr.sidecar import SidecarClient, StateWrite
    from tests.support import http_save

    before, _ = count_writes(stack)

    async def write():
        async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as client:
            await client.save(AGENTS_STORE, [StateWrite("reliability:probe", b'{"probe":1}')])

    asyncio.run(write())
    middle, _ = count_writes(stack)
    http_save(stack.sidecars[CACHE_APP].http_port, CACHE_STORE, "reliability:probe", b'{"probe":2}')
    after, _ = count_writes(stack)
    figure(part, "counter proof: one gRPC SaveState, one HTTP POST /v1.0/state", f"counted {middle - before} and "
           f"{after - middle}", "1 and 1", middle - before == 1 and after - middle == 1)


# -- the CLI -------------------------------------------------------------------------------------


def cli_env(stack, **extra) -> dict[str, str]:
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    env.pop("DAPR_GRPC_ENDPOINT", None)
    env.pop("DAPR_API_TOKEN", None)
    env.update(extra)
    return env


def cli_args(stack, *args, app: str | None = AGENTS_APP) -> list[str]:
    common = ["--resources-path", str(stack.resources_path)]
    if app:
        common += ["--dapr-grpc-port", str(stack.sidecars[app].grpc_port)]
    return [*args, *common]


@dataclass
class Run:
    argv: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def last_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""

    @property
    def traceback(self) -> bool:
        return TRACEBACK in self.stdout + self.stderr


def run_cli(argv: list[str], env: dict[str, str], timeout: float = 120, prefix: list[str] | None = None) -> Run:
    command = (prefix or [sys.executable, "-m", "explorer"]) + argv
    started = time.monotonic()
    result = subprocess.run(command, capture_output=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    return Run(argv, result.returncode, result.stdout.decode("utf-8", "replace"),
               result.stderr.decode("utf-8", "replace"), time.monotonic() - started)


def cli(stack, *args, app: str | None = AGENTS_APP, env: dict | None = None, timeout: float = 120) -> Run:
    return run_cli(cli_args(stack, *args, app=app), env or cli_env(stack), timeout)


# -- Pilot helpers -------------------------------------------------------------------------------


def make_app(stack, read_only: bool = False, addresses: list[str] | None = None, api_token: str | None = None):
    from explorer.tui.app import ExplorerApp
    from explorer.components.files import load_components

    paths = [stack.resources_path]
    if addresses is None:
        addresses = [s.grpc_address for s in stack.sidecars.values()]
    return ExplorerApp(load_components(paths), paths, addresses, read_only=read_only, api_token=api_token)


async def until(pilot, condition: Callable[[], bool], what: str, timeout: float = 20.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        await pilot.pause(0.05)
    return time.monotonic() - started


def running(app) -> bool:
    return app.is_running and app.return_code is None


def shown(widget) -> str:
    from textual.geometry import Region

    return "\n".join(line.text for line in widget.render_lines(Region(0, 0, widget.size.width, widget.size.height)))


def text_of(screen, selector: str) -> str:
    return " ".join(shown(screen.query_one(selector)).split())


async def to_browser(pilot) -> None:
    """Back to the main screen, whatever is on top."""
    app = pilot.app
    browser = app.browser
    for _ in range(8):
        if app.screen is browser:
            return
        await pilot.press("escape")
        await pilot.pause(0.05)
        if app.screen is not browser and len(app.screen_stack) > 1:
            app.pop_screen()
            await pilot.pause(0.05)
    if app.screen is not browser:
        raise RuntimeError(f"could not get back to the browser from {type(app.screen).__name__}")


async def select_store(pilot, store: str) -> None:
    from explorer.tui.widgets.store_list import StoreList

    app = pilot.app
    browser = app.browser
    await until(pilot, lambda: app.session is not None, "the session to open")
    stores = browser.query_one(StoreList)
    stores.focus()
    await pilot.pause(0.02)
    if stores.current_store != store:
        await pilot.press(*["up"] * 5)
        for _ in range(8):
            if stores.current_store == store:
                break
            await pilot.press("down")
    if stores.current_store != store:
        raise RuntimeError(f"store {store} not in the store list")
    await until(pilot, lambda: browser.store == store and browser.location is not None, f"{store} to open")


async def open_partition(pilot, store: str, partition: str) -> None:
    app = pilot.app
    browser = app.browser
    await to_browser(pilot)
    await select_store(pilot, store)
    await until(pilot, lambda: partition in browser.partitions.partitions, f"partition {partition}")
    if browser.partition != partition or not browser.keys.entries:
        browser.partitions.options.focus()
        await pilot.press("escape")  # clear any filter
        await pilot.press("slash", *partition, "enter")
        await until(pilot, lambda: browser.partition == partition and browser.keys.entries, f"keys of {partition}")


async def open_key(pilot, store: str, partition: str, key: str, verdict: bool = True):
    from explorer.tui.screens.key_editor import KeyEditor

    app = pilot.app
    await open_partition(pilot, store, partition)
    table = app.browser.keys
    table.focus()
    keys = [e.state_key.key for e in table.entries]
    if key not in keys:
        raise RuntimeError(f"{key} not in {keys}")
    await pilot.press(*["up"] * len(keys), *["down"] * keys.index(key))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, KeyEditor) and app.screen.opened is not None, f"the editor on {key}")
    editor = app.screen
    if verdict:
        await until(pilot, lambda: editor.opened.dapr_app is None or editor.opened.dapr_checked, f"Dapr's read of {key}")
    return editor


# == R1: read-only is total ====================================================================

EXTRA_KEYS = ["e", "d", "ctrl+s", "enter", "y", "r", "n", "o", "x", "escape", "tab", "question_mark", "slash", "g",
              "f", "k", "v", "i", "delete", "backspace", "ctrl+d", "ctrl+p"]


@dataclass
class State:
    name: str
    reach: Callable  # async (pilot) -> None
    signature: Callable  # (app) -> tuple: still in this state?
    keys_pressed: int = 0
    bindings: int = 0
    commands_run: int = 0
    skipped: list[str] = field(default_factory=list)
    left_state: int = 0  # presses after which the state had to be reached again
    items: list | None = None  # ("key", k) and ("command", title), listed on the screen itself
    done: int = 0
    seconds: float = 0.0


def _focus_sig(app) -> tuple:
    screen = app.screen
    focused = screen.focused
    return (type(screen).__name__, id(screen), type(focused).__name__ if focused else None,
            getattr(focused, "id", None))


def _browser_sig(extra: Callable[[object], object] = lambda b: None):
    def sig(app):
        browser = app.browser
        return (_focus_sig(app), browser.store, browser.partition, extra(browser))
    return sig


def r1_states() -> list[State]:
    from explorer.tui.widgets.store_list import StoreList

    async def store_list(pilot):
        await to_browser(pilot)
        await select_store(pilot, AGENTS_STORE)
        pilot.app.browser.query_one(StoreList).focus()
        await pilot.pause(0.05)

    async def partitions(pilot):
        await open_partition(pilot, AGENTS_STORE, "gpt4")
        pilot.app.browser.partitions.options.focus()
        await pilot.pause(0.05)

    async def filter_box(pilot):
        await partitions(pilot)
        await pilot.press("slash")
        await pilot.pause(0.05)

    async def keys(pilot):
        await open_partition(pilot, AGENTS_STORE, "gpt4")
        pilot.app.browser.keys.focus()
        await pilot.pause(0.05)

    def editor(store, partition, key):
        async def reach(pilot):
            await to_browser(pilot)
            await open_key(pilot, store, partition, key)
        return reach

    def modal(key: str, before):
        async def reach(pilot):
            await before(pilot)
            await pilot.press(key)
            await until(pilot, lambda: pilot.app.screen is not pilot.app.browser, f"the dialog of {key}")
            await pilot.pause(0.1)
        return reach

    def editor_sig(app):
        screen = app.screen
        return (_focus_sig(app), getattr(screen, "doc_id", None), getattr(screen, "editing", None))

    return [
        State("store list", store_list, _browser_sig()),
        State("partitions", partitions, _browser_sig()),
        State("filter", filter_box, _browser_sig()),
        State("keys browser", keys, _browser_sig()),
        State("key editor: plain key", editor(AGENTS_STORE, "gpt4", "agent:planner"), editor_sig),
        State("key editor: binary key", editor(AGENTS_STORE, "custom", "agent:ocr-worker:avatar"), editor_sig),
        State("key editor: actor key", editor(WORKFLOWS_STORE, ACTOR_PARTITION, ACTOR_KEY), editor_sig),
        State("key editor: workflow key", editor(WORKFLOWS_STORE, WORKFLOW_PARTITION, WORKFLOW_KEY), editor_sig),
        State("doctor findings", modal("f", store_list), lambda app: _focus_sig(app)),
        State("help", modal("question_mark", keys), lambda app: _focus_sig(app)),
        State("go-to dialog", modal("g", keys), lambda app: _focus_sig(app)),
        State("copy dialog (keys)", modal("y", keys), lambda app: _focus_sig(app)),
    ]


def _quit_keys(screen) -> set[str]:
    """Keys that end the session on this screen: any binding of them in the chain, or the app's, quits."""
    chain = [*screen._modal_binding_chain, (screen.app, screen.app._bindings)]
    return {key for _node, bindings in chain for key, binding in bindings if binding.action.split(".")[-1] == "quit"}


def _all_keys(screen) -> dict[str, tuple[str, bool]]:
    """Every key bound on the screen's binding chain (focused widget, screen, app): key → (action,
    offered). Bindings that check_action hides (False) are included, as not offered."""
    active = screen.active_bindings
    keys: dict[str, tuple[str, bool]] = {}
    for _node, bindings in [*screen._modal_binding_chain, (screen.app, screen.app._bindings)]:
        for key, binding in bindings:
            keys.setdefault(key, (binding.action, key in active and active[key].enabled))
    for key, item in active.items():
        keys[key] = (item.binding.action, item.enabled)
    return keys


async def _settle(pilot, state: State) -> None:
    """Dismiss what the last key or command opened, so the next one starts from the state."""
    app = pilot.app
    screen = app.screen
    if getattr(screen, "maximized", None) is not None:
        screen.action_minimize()
    if screen.query("HelpPanel"):
        app.action_hide_help_panel()
    await pilot.pause(0.05)


async def _walk(pilot, state: State, problems: list[str]) -> None:
    """Press every key and run every palette command of `state`, from where `state.done` says."""
    app = pilot.app
    await state.reach(pilot)
    expected = state.signature(app)
    if state.items is None:  # the screen's keys and palette commands, listed once on the screen itself
        keys = _all_keys(app.screen)
        state.bindings = len(keys)
        state.items = [("key", k) for k in [*keys, *[k for k in EXTRA_KEYS if k not in keys]]]
        state.items += [("command", c.title) for c in app.get_system_commands(app.screen)]
    while state.done < len(state.items):
        kind, name = state.items[state.done]
        state.done += 1  # counted before it runs: a crash on it is not retried
        if state.signature(app) != expected:
            state.left_state += 1
            await state.reach(pilot)
            expected = state.signature(app)
        if kind == "key":
            if name in _quit_keys(app.screen):
                state.skipped.append(name)
                continue
            await pilot.press(name)
            await pilot.pause(0.03)
            state.keys_pressed += 1
        else:
            command = next((c for c in app.get_system_commands(app.screen) if c.title == name), None)
            if command is None:
                problems.append(f"{state.name}: palette command {name!r} not offered any more")
                continue
            if name == "Quit":
                state.skipped.append("palette Quit")
                continue
            result = command.callback()
            if inspect.isawaitable(result):
                await result
            await pilot.pause(0.05)
            state.commands_run += 1
        if not running(app):
            problems.append(f"{state.name}: the app ended after {kind} {name!r}")
            return
        await _settle(pilot, state)


async def r1_tui(stack) -> dict:
    """Walk every state; when the app ends (a crash), note it and go on in a new read-only session."""
    import textual.app as textual_app
    from explorer.tui.screens.browser import Browser

    downloads = Path(tempfile.mkdtemp(prefix="reliability-shots-"))
    textual_app.user_downloads_path = lambda: downloads  # the palette's "Screenshot" saves here, not in ~
    states = r1_states()
    problems: list[str] = []
    sessions = 0
    launched_own = False
    quit_codes = []
    captured = io.StringIO()  # what Textual prints when an app ends with an exception (its traceback)
    with Env(stack), contextlib.redirect_stdout(captured), contextlib.redirect_stderr(captured):
        while any(s.items is None or s.done < len(s.items) for s in states) and sessions < 10:
            sessions += 1
            app = make_app(stack, read_only=True)
            try:
                async with app.run_test(size=(120, 40)) as pilot:
                    await until(pilot, lambda: app.session is not None, "the session to open", 30)
                    await until(pilot, lambda: isinstance(app.screen, Browser), "the browser")
                    for state in states:
                        if state.items is not None and state.done >= len(state.items):
                            continue
                        started = time.monotonic()
                        await _walk(pilot, state, problems)
                        state.seconds += time.monotonic() - started
                        if not running(app):
                            break
                        say(f"    {state.name:28} {state.bindings:3} bindings on screen, {state.keys_pressed:3} keys "
                            f"pressed, {state.commands_run:2} palette commands run; left the screen {state.left_state} "
                            f"times; {state.seconds:.0f}s")
                    if app.session is not None and app.session.workspace._launcher is not None:
                        launched_own = True
                    if running(app):  # the end of the session: the palette's Quit
                        await to_browser(pilot)
                        quit_cmd = next(c for c in app.get_system_commands(app.screen) if c.title == "Quit")
                        result = quit_cmd.callback()
                        if inspect.isawaitable(result):
                            await result
                        await pilot.pause(0.3)
                        quit_codes.append(app.return_code)
            except Exception as exc:  # noqa: BLE001 - the app raised: recorded, the walk goes on in a new session
                lines = [line for line in "".join(__import__("traceback").format_exception(exc)).splitlines() if line]
                where = next((line.strip() for line in reversed(lines) if line.strip().startswith('File "')
                              and "/explorer/" in line), "")
                problems.append(f"the app ended with {exc.__class__.__name__}: {exc} ({where})")
                say(f"    the app ended: {exc.__class__.__name__}: {exc} ({where}); going on in a new session")
    screenshots = len(list(downloads.iterdir()))
    shutil.rmtree(downloads, ignore_errors=True)
    return {"states": states, "problems": problems, "own_daprd_started": launched_own, "return_codes": quit_codes,
            "sessions": sessions, "screenshots": screenshots}


R1_CLI_WRITES = [
    ("set JSON", ["set", AGENTS_STORE, "agent:planner", '{"hijacked": true}']),
    ("set JSON --etag", ["set", AGENTS_STORE, "agent:planner", '{"hijacked": true}', "--etag", "{etag}"]),
    ("set --base64", ["set", AGENTS_STORE, "agent:ocr-worker:avatar", "AAEC/w==", "--base64"]),
    ("set --base64 --etag", ["set", AGENTS_STORE, "agent:ocr-worker:avatar", "AAEC", "--base64", "--change-shape",
                             "--etag", "{etag}"]),
    ("set a new key", ["set", AGENTS_STORE, "reliability:brand-new", "[1]"]),
    ("set a new key --etag", ["set", AGENTS_STORE, "reliability:brand-new-2", "[1]", "--etag", "{etag}"]),
    ("set --ttl 60", ["set", CACHE_STORE, "session:llm:1001", "{}", "--ttl", "60", "--app-id", CACHE_APP]),
    ("delete", ["delete", AGENTS_STORE, "agent:reviewer"]),
    ("delete --etag", ["delete", AGENTS_STORE, "agent:reviewer", "--etag", "{etag}"]),
]


def r1(args) -> None:
    say("R1  read-only is total")
    stack = start_stack(api_logging=True, apps=True)
    try:
        cosmos = stack.cosmos_client()
        prove_counter(stack, "R1")
        etags0 = every_etag(cosmos)
        writes0, calls0 = count_writes(stack)
        started = time.monotonic()
        result = asyncio.run(r1_tui(stack))
        tui_seconds = time.monotonic() - started
        etags1 = every_etag(cosmos)
        writes1, calls1 = count_writes(stack)
        states: list[State] = result["states"]
        keys = sum(s.keys_pressed for s in states)
        commands = sum(s.commands_run for s in states)
        figure("R1a", "TUI walk", f"{len(states)} screens, {keys} key presses, {commands} palette commands in "
               f"{tui_seconds:.0f}s; {calls1 - calls0} daprd API calls logged meanwhile")
        for s in states:
            skipped = ", ".join(dict.fromkeys(s.skipped))
            figure("R1a", f"  {s.name}", f"{s.bindings} bindings, {s.keys_pressed} keys pressed, "
                   f"{s.commands_run} palette commands" + (f"; not pressed: {skipped}" if skipped else ""))
        figure("R1a", "not pressed on any screen", "keys bound to quit and the palette's Quit: they end the session, "
               "so the session ends with the palette's Quit once, after the walk")
        figure("R1a", "problems during the walk", "; ".join(result["problems"]) or "none", "none",
               not result["problems"])
        figure("R1a", "read-only sessions used (a new one after each crash)", result["sessions"])
        figure("R1a", "SVG files the palette's Screenshot command saved (into a temp folder, removed)",
               result["screenshots"])
        figure("R1a", "sessions ended by the palette's Quit, return codes", result["return_codes"], "0 each",
               all(code in (0, None) for code in result["return_codes"]))
        figure("R1a", "own daprd started by the read-only session", result["own_daprd_started"], "False",
               not result["own_daprd_started"])
        figure("R1a", "changed etags (every item of every container)", changed_etags(etags0, etags1), "0",
               changed_etags(etags0, etags1) == 0)
        figure("R1a", "state writes in the daprd API logs", writes1 - writes0, "0", writes1 == writes0)

        # (b) the CLI
        env = cli_env(stack)
        etag_of = {}
        for key in ("agent:planner", "agent:ocr-worker:avatar", "agent:reviewer"):
            got = cli(stack, "get", AGENTS_STORE, key, "--json")
            etag_of[key] = orjson.loads(got.stdout)["etag"]
        etags0 = every_etag(cosmos)
        writes0, calls0 = count_writes(stack)
        runs = []
        for where in ("before", "after"):
            for name, command in R1_CLI_WRITES:
                key = command[2]
                command = [c.replace("{etag}", etag_of.get(key, etag_of["agent:planner"])) for c in command]
                argv = ["--read-only", *command] if where == "before" else [*command, "--read-only"]
                run = run_cli(cli_args(stack, *argv, app=AGENTS_APP), env)
                runs.append((f"{name} ({where})", run))
        etags1 = every_etag(cosmos)
        writes1, calls1 = count_writes(stack)
        bad = [(n, r.code, r.last_line) for n, r in runs
               if r.code != 5 or r.traceback or "Nothing was sent" not in r.stderr]
        figure("R1b", "CLI write subcommands with --read-only", f"{len(runs)} runs; exit codes "
               f"{sorted({r.code for _, r in runs})}; e.g. {runs[0][1].last_line!r}", "every one exits 5",
               not bad)
        for n, code, line in bad:
            figure("R1b", f"  {n}", f"exit {code}: {line}", "5", False)
        figure("R1b", "changed etags", changed_etags(etags0, etags1), "0", changed_etags(etags0, etags1) == 0)
        figure("R1b", "state writes in the daprd API logs", writes1 - writes0, "0", writes1 == writes0)
        figure("R1b", "daprd API calls logged during the CLI runs", calls1 - calls0)
    finally:
        stack.stop()


# == R2: no lost update ==========================================================================


def r2(args) -> None:
    say("R2  no lost update")
    stack = start_stack(api_logging=True)
    try:
        cosmos = stack.cosmos_client()
        prove_counter(stack, "R2")
        with Env(stack):
            result = asyncio.run(r2_races(stack, args.races))
        conflicts, lost, other, app_value_kept, seconds, per_race = result
        figure("R2", "races (read → app writes via its sidecar → explorer saves)", f"{args.races} in {seconds:.1f}s "
               f"(median {statistics.median(per_race) * 1000:.1f} ms a race)")
        figure("R2", "EtagConflict", f"{conflicts}/{args.races}", f"{args.races}/{args.races}", conflicts == args.races)
        figure("R2", "lost updates (explorer's value in Cosmos)", lost, "0", lost == 0)
        figure("R2", "app's value in Cosmos after the race", f"{app_value_kept}/{args.races}",
               f"{args.races}/{args.races}", app_value_kept == args.races)
        if other:
            figure("R2", "other outcomes", "; ".join(other[:3]), "none", False)
        r2_parallel(stack, cosmos, args.parallel)
        r2_plans(stack, cosmos, args.bulk_keys)
    finally:
        stack.stop()


async def r2_races(stack, races: int):
    from explorer.core.model import TtlChoice
    from explorer.core.writes import NewValue
    from explorer.errors import EtagConflict
    from explorer.session.explorer_session import ExplorerSession
    from explorer.dapr.sidecar import SidecarClient, StateWrite

    keys = [f"race:{n}" for n in range(5)]
    session = await ExplorerSession.open([stack.resources_path], [stack.sidecars[AGENTS_APP].grpc_address], None,
                                         read_only=False, ca_file=None)
    app = SidecarClient(stack.sidecars[AGENTS_APP].grpc_address)
    conflicts = lost = kept = 0
    other: list[str] = []
    per_race = []
    try:
        location = await session.location(AGENTS_STORE)
        await app.save(AGENTS_STORE, [StateWrite(k, b'{"v":"start"}', metadata={"partitionKey": "races"})
                                      for k in keys])
        started = time.monotonic()
        for n in range(races):
            t0 = time.monotonic()
            key = keys[n % len(keys)]
            doc_id = f"{AGENTS_APP}||{key}"
            read = await session.read(location, doc_id, "races")
            theirs = orjson.dumps({"by": "app", "race": n})
            await app.save(AGENTS_STORE, [StateWrite(key, theirs, metadata={"partitionKey": "races"})])
            try:
                await session.save(location, read, NewValue.json_text(orjson.dumps({"by": "explorer", "race": n}).decode()),
                                   TtlChoice.parse("keep"))
            except EtagConflict:
                conflicts += 1
            except Exception as exc:  # noqa: BLE001 - counted and shown
                other.append(f"race {n}: {exc.__class__.__name__}: {exc}")
            now = await session.read(location, doc_id, "races")
            value = now.document.get("value")
            if value == {"by": "explorer", "race": n}:
                lost += 1
            elif value == {"by": "app", "race": n}:
                kept += 1
            else:
                other.append(f"race {n}: Cosmos holds {value!r}")
            per_race.append(time.monotonic() - t0)
        seconds = time.monotonic() - started
    finally:
        await app.close()
        await session.close()
    return conflicts, lost, other, kept, seconds, per_race


def r2_parallel(stack, cosmos, count: int) -> None:
    key = "race:parallel"
    doc_id = f"{AGENTS_APP}||{key}"
    env = cli_env(stack)
    first = cli(stack, "set", AGENTS_STORE, key, '{"writer": "start"}', "--partition", "parallel")
    got = cli(stack, "get", AGENTS_STORE, key, "--json")
    if first.code != 0 or got.code != 0:
        figure("R2", "parallel set: setup", f"set exit {first.code} {first.last_line}; get exit {got.code}", "0", False)
        return
    etag = orjson.loads(got.stdout)["etag"]
    writes0, _ = count_writes(stack)
    started = time.monotonic()
    procs = []
    for n in range(count):
        argv = [sys.executable, "-m", "explorer", *cli_args(stack, "set", AGENTS_STORE, key, json.dumps({"writer": n}),
                                                              "--etag", etag)]
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      stdin=subprocess.DEVNULL))
    results = []
    for n, proc in enumerate(procs):
        out, err = proc.communicate(timeout=180)
        results.append((n, proc.returncode, out.decode(), err.decode()))
    seconds = time.monotonic() - started
    writes1, _ = count_writes(stack)
    codes = [code for _, code, _, _ in results]
    winners = [n for n, code, _, _ in results if code == 0]
    losers_said = {err.strip().splitlines()[-1][:160] for _, code, _, err in results if code == 4 and err.strip()}
    item = cosmos.get_database_client("dapr-agents").get_container_client("agent-registry").read_item(
        doc_id, partition_key="parallel")
    figure("R2", f"{count} parallel `set --etag E` processes", f"{codes.count(0)} exit 0, {codes.count(4)} exit 4, "
           f"others {[c for c in codes if c not in (0, 4)]}; {seconds:.1f}s for all", f"1 exit 0, {count - 1} exit 4",
           codes.count(0) == 1 and codes.count(4) == count - 1)
    figure("R2", "the losers said", " | ".join(sorted(losers_said)) or "(nothing)")
    figure("R2", "final value is the winner's", f"{item['value']} (winner: {winners})", "the winner's value",
           len(winners) == 1 and item["value"] == {"writer": winners[0]})
    figure("R2", "SaveState calls logged for the 20 processes", writes1 - writes0, f"{count} (each tried once)",
           writes1 - writes0 == count)
    tracebacks = sum(TRACEBACK in out + err for _, _, out, err in results)
    figure("R2", "tracebacks", tracebacks, "0", tracebacks == 0)


def confirm_after_race(stack, argv: list[str], count: int, audit_path: Path, race: Callable[[], None]):
    """`dapr-explorer --json ARGV` up to its count prompt (the dry run is done), then `race()` (another
    writer, through daprd), then the count typed, as a user would: (exit code, the JSON report, stderr)."""
    env = cli_env(stack, DAPR_EXPLORER_AUDIT_LOG=str(audit_path))
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "--json", *cli_args(stack, *argv)], env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    said = b""
    try:
        deadline = time.monotonic() + 120
        while f"Type {count} to ".encode() not in said and time.monotonic() < deadline and proc.poll() is None:
            said += os.read(proc.stderr.fileno(), 65536)
        if f"Type {count} to ".encode() not in said:
            return proc.poll(), None, said.decode("utf-8", "replace")
        race()
        out, err = proc.communicate(f"{count}\n".encode(), timeout=300)
    finally:
        proc.kill()
    lines = [line for line in out.decode().splitlines() if line.startswith('{"done"')]
    return proc.returncode, orjson.loads(lines[-1]) if lines else None, (said + err).decode("utf-8", "replace")


def r2_plans(stack, cosmos, count: int) -> None:
    """Bulk and import races: `count` keys, and between the dry run and the typed count another writer
    deletes every 10th key and changes every 10th + 5 (import create: creates every 10th + 5 first).
    Counted from the report, the audit log and Cosmos: every raced key skipped, audited `skipped`
    (never `done`) and left as the other writer left it; every other key done exactly once."""
    from explorer.session.audit_log import AuditLog
    from explorer.dapr.sidecar import SidecarClient, StateWrite

    container = cosmos.get_database_client("dapr-agents").get_container_client("agent-registry")
    address = stack.sidecars[AGENTS_APP].grpc_address
    folder = Path(tempfile.mkdtemp(prefix="r2-plans-"))

    def through_dapr(partition: str, saves: dict[str, bytes] = {}, deletes: list[str] = ()):  # noqa: B006
        async def go():
            async with SidecarClient(address) as app:
                meta = {"partitionKey": partition, "contentType": "application/json"}
                for start in range(0, len(saves), 100):
                    await app.save(AGENTS_STORE, [StateWrite(k, v, metadata=meta)
                                                  for k, v in list(saves.items())[start:start + 100]])
                for key in deletes:
                    await app.delete(AGENTS_STORE, key, metadata={"partitionKey": partition})
        asyncio.run(go())

    def items(partition: str) -> dict[str, dict]:
        return {d["id"]: d for d in container.query_items("SELECT * FROM c", partition_key=partition)}

    def export_lines(partition: str, keys: list[str], value) -> bytes:
        now = items(partition)
        return b"".join(orjson.dumps({"id": f"{AGENTS_APP}||{k}", "partitionKey": partition, "value": value(k),
                                      "isBinary": False, "etag": now.get(f"{AGENTS_APP}||{k}", {}).get("_etag")})
                        + b"\n" for k in keys)

    scenarios = ("bulk delete", "bulk set-ttl", "import --overwrite-changed", "import (create)")
    totals = {"raced": 0, "skipped": 0, "audited skipped": 0, "done": 0}
    for n, scenario in enumerate(scenarios):
        partition = f"r2-plan-{n}"
        keys = [f"{partition}:{i:04d}" for i in range(count)]
        deleted = keys[0::10] if scenario != "import (create)" else []
        changed = keys[5::10]
        raced = set(deleted) | set(changed)
        theirs = {k: orjson.dumps({"by": "other writer", "key": k}) for k in changed}
        audit = folder / f"audit-{n}.jsonl"
        if scenario.startswith("bulk"):
            through_dapr(partition, {k: orjson.dumps({"v": 1, "key": k}) for k in keys})
            action = scenario.split()[1]
            argv = ["bulk", AGENTS_STORE, action, "--partition", partition, *(["--ttl", "900"] if action == "set-ttl"
                                                                              else [])]
        elif scenario == "import --overwrite-changed":
            through_dapr(partition, {k: orjson.dumps({"v": 1, "key": k}) for k in keys})
            export = folder / f"export-{n}.jsonl"
            export.write_bytes(export_lines(partition, keys, lambda k: {"v": "exported", "key": k}))
            through_dapr(partition, {k: orjson.dumps({"v": 2, "key": k}) for k in keys})  # changed since the export
            argv = ["import", AGENTS_STORE, str(export), "--overwrite-changed"]
        else:
            export = folder / f"export-{n}.jsonl"
            export.write_bytes(export_lines(partition, keys, lambda k: {"v": "exported", "key": k}))
            argv = ["import", AGENTS_STORE, str(export)]
        code, report, err = confirm_after_race(stack, argv, count, audit,
                                               lambda: through_dapr(partition, theirs, deleted))
        if report is None:
            figure("R2", f"{scenario}: the run", f"exit {code}: {err.strip().splitlines()[-1:]}", "a report", False)
            continue
        skipped = {p["doc_id"].split("||", 1)[1]: p["reason"] for p in report["skipped"]}
        lines: dict[str, list[str]] = {}
        for record in AuditLog(audit).read().records:
            lines.setdefault(record.key, []).append(record.outcome)
        audited_skipped = sum(1 for k in raced if lines.get(k) and set(lines[k]) == {"skipped"})
        raced_done = sum(1 for k in raced if "done" in lines.get(k, ()))
        others_done = sum(1 for k in keys if k not in raced and lines.get(k) == ["done"])
        now = items(partition)
        left_as_theirs = sum(1 for k in changed if now.get(f"{AGENTS_APP}||{k}", {}).get("value") == orjson.loads(
            theirs[k])) + sum(1 for k in deleted if f"{AGENTS_APP}||{k}" not in now)
        totals["raced"] += len(raced)
        totals["skipped"] += len(raced & set(skipped))
        totals["audited skipped"] += audited_skipped
        totals["done"] += report["done"]
        reasons = sorted({r.split(" (")[0] for r in skipped.values()})
        figure("R2", f"{scenario}: {count} keys, {len(raced)} raced ({len(deleted)} deleted, {len(changed)} "
               f"{'created' if scenario == 'import (create)' else 'changed'} by another writer after the dry run)",
               f"exit {code}; {report['done']} done, {len(skipped)} skipped ({'; '.join(reasons)}), "
               f"{len(report['failed'])} failed", f"exit 4; {count - len(raced)} done, {len(raced)} skipped, 0 failed",
               code == 4 and report["done"] == count - len(raced) and set(skipped) == raced and not report["failed"])
        figure("R2", f"{scenario}: audit lines", f"raced: {audited_skipped}/{len(raced)} only `skipped`, {raced_done} "
               f"`done`; others: {others_done}/{count - len(raced)} one `done`",
               f"{len(raced)}/{len(raced)} skipped, 0 done; {count - len(raced)}/{count - len(raced)}",
               audited_skipped == len(raced) and raced_done == 0 and others_done == count - len(raced))
        figure("R2", f"{scenario}: raced keys left as the other writer left them", f"{left_as_theirs}/{len(raced)}",
               f"{len(raced)}/{len(raced)}", left_as_theirs == len(raced))
        if "Traceback" in err:
            figure("R2", f"{scenario}: tracebacks", 1, "0", False)
    figure("R2", "bulk and import races in all", f"{totals['raced']} raced keys: {totals['skipped']} reported "
           f"skipped, {totals['audited skipped']} audited skipped; {totals['done']} others done",
           "every raced key skipped and audited skipped", totals["raced"] == totals["skipped"] == totals["audited skipped"])
    shutil.rmtree(folder, ignore_errors=True)


# == R4: fault matrix ==========================================================================

#: Runs the CLI with SidecarClient.save patched to send a signal to daprd first: the fault lands
#: exactly while the CLI's write is in flight. The moment is written to R4_MARK.
FAULT_PROBE = """
import os, signal, sys, time
import explorer.dapr.sidecar as sidecar
pid, sig, mark = int(os.environ['R4_PID']), getattr(signal, os.environ['R4_SIGNAL']), os.environ['R4_MARK']
real_save = sidecar.SidecarClient.save
async def save(self, *args, **kwargs):
    os.kill(pid, sig)
    with open(mark, 'w') as f:
        f.write(repr(time.time()))
    return await real_save(self, *args, **kwargs)
sidecar.SidecarClient.save = save
from explorer.cli.main import main
raise SystemExit(main(sys.argv[1:]))
"""


@dataclass
class Case:
    name: str
    code: object
    seconds: str
    message: str
    ok: bool
    after: str


CASES: list[Case] = []


def case(name, code, seconds, message, ok, after) -> None:
    CASES.append(Case(name, code, seconds, message, ok, after))
    figure("R4", name, f"exit {code}, {seconds}: {message!r}; then: {after}", "one line, no traceback, right exit "
           "code, next command works", ok)


def one_line(run: Run) -> bool:
    return len([line for line in run.stderr.splitlines() if line.strip()]) == 1 and not run.traceback


def cli_fault(stack, app_id: str, sig: str, argv: list[str]) -> tuple[Run, float]:
    mark = Path(tempfile.mkstemp(prefix="r4-mark-")[1])
    env = cli_env(stack, R4_PID=str(stack.sidecars[app_id].process.pid), R4_SIGNAL=sig, R4_MARK=str(mark))
    run = run_cli(cli_args(stack, *argv, app=app_id), env, timeout=120, prefix=[sys.executable, "-c", FAULT_PROBE])
    ended = time.time()
    try:
        at = float(mark.read_text() or "nan")
    except ValueError:
        at = float("nan")
    mark.unlink(missing_ok=True)
    return run, ended - at


def r4(args) -> None:
    say("R4  fault matrix")
    stack = start_stack(api_logging=False, scale_keys=args.export_keys, scale_partitions=args.export_keys // 2)
    try:
        pid = stack.sidecars[AGENTS_APP].process.pid
        # 1. daprd frozen during a CLI set
        run, waited = cli_fault(stack, AGENTS_APP, "SIGSTOP", ["set", AGENTS_STORE, "agent:planner", '{"frozen": 1}'])
        os.kill(pid, signal.SIGCONT)
        time.sleep(1.0)
        landed = orjson.loads(cli(stack, "get", AGENTS_STORE, "agent:planner", "--json").stdout)["value"]
        nxt = cli(stack, "set", AGENTS_STORE, "agent:planner", '{"after": "freeze"}')
        case("CLI set, daprd frozen (SIGSTOP) during the write", run.code, f"gave up {waited:.1f}s after the freeze",
             run.last_line, run.code == 1 and one_line(run) and nxt.code == 0,
             f"SIGCONT; 1 s later the key holds {json.dumps(landed)} (the write landed after the CLI gave up: "
             f"{landed == {'frozen': 1}}); next set exit {nxt.code}")

        # 2. daprd killed during a CLI set
        run, waited = cli_fault(stack, AGENTS_APP, "SIGKILL", ["set", AGENTS_STORE, "agent:planner", '{"killed": 1}'])
        down = cli(stack, "set", AGENTS_STORE, "agent:planner", '{"while": "down"}')
        stack.restart_sidecar(AGENTS_APP)
        nxt = cli(stack, "set", AGENTS_STORE, "agent:planner", '{"after": "kill"}')
        case("CLI set, daprd killed (SIGKILL) during the write", run.code, f"{waited:.1f}s after the kill",
             run.last_line, run.code == 1 and one_line(run) and nxt.code == 0,
             f"set while down: exit {down.code} {down.last_line!r}; restart_sidecar; next set exit {nxt.code}")

        # 3/4. TUI save: daprd frozen, then killed
        with Env(stack):
            for sig in ("SIGSTOP", "SIGKILL"):
                asyncio.run(r4_tui_save(stack, sig))

        # 5. Cosmos stopped during an export (of the seeded extra keys)
        r4_cosmos_stop(stack, "export", ["export", AGENTS_STORE], 2000)
        # 6. Cosmos stopped during a partition listing (the restart emptied the server: seed partitions again)
        from explorer.localstack.seed import seed
        asyncio.run(seed(stack, args.export_keys // 4, args.export_keys // 4))
        asyncio.run(write_editing_keys(stack))
        r4_cosmos_stop(stack, "partitions", ["partitions", AGENTS_STORE], 200)
        # 7. TUI partition listing while Cosmos is down
        with Env(stack):
            asyncio.run(r4_tui_cosmos(stack))
    finally:
        for sidecar in stack.sidecars.values():
            try:
                os.kill(sidecar.process.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        stack.stop()
    if stack.kept_logs is not None:  # kept because this part killed a daprd on purpose
        say(f"  (the stack kept its logs after the SIGKILL, as it does when a process dies: {stack.kept_logs}; removed)")
        shutil.rmtree(stack.kept_logs, ignore_errors=True)
    say("\n  R4 table (case → exit code → message):")
    say("  | case | exit | time | message | afterwards |")
    say("  |---|---|---|---|---|")
    for c in CASES:
        say(f"  | {c.name} | {c.code} | {c.seconds} | {c.message} | {c.after} |")


async def r4_tui_save(stack, sig: str) -> None:
    from explorer.tui.dialogs import ConfirmSave
    from explorer.tui.screens.key_editor import KeyEditor

    pid = stack.sidecars[AGENTS_APP].process.pid
    app = make_app(stack)
    message, seconds, answered, after, landed_note, wrong_words = "", float("nan"), False, "", "", False
    async with app.run_test(size=(120, 40)) as pilot:
        editor = await open_key(pilot, AGENTS_STORE, "gpt4", "agent:router")
        await pilot.press("e")
        editor.query_one("#value-edit").text = json.dumps({"name": "router", "fault": sig})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmSave), "the save confirmation")
        os.kill(pid, getattr(signal, sig))
        started = time.monotonic()
        await pilot.press("ctrl+s")
        try:
            await until(pilot, lambda: isinstance(app.screen, KeyEditor) and "nothing was saved" in
                        text_of(editor, "#editor-message") or "may or may not" in text_of(editor, "#editor-message"),
                        "the save's failure", timeout=60)
        except TimeoutError as exc:
            message = f"{exc}; the editor says {text_of(editor, '#editor-message')!r}"
        seconds = time.monotonic() - started
        message = message or text_of(editor, "#editor-message")
        # still answering keys?
        await pilot.press("escape")  # leave the edit
        await pilot.pause(0.1)
        answered = await answers_help(pilot)
        if sig == "SIGSTOP":
            os.kill(pid, signal.SIGCONT)
            await pilot.pause(1.0)
            landed = stack.cosmos_client().get_database_client("dapr-agents").get_container_client(
                "agent-registry").read_item(f"{AGENTS_APP}||agent:router", partition_key="gpt4")["value"]
            wrong_words = landed == {"name": "router", "fault": sig} and "nothing was saved" in message
            landed_note = (f"; after SIGCONT Cosmos holds {json.dumps(landed)}"
                           + (" — the save the editor called 'nothing was saved' DID land"
                              if landed == {"name": "router", "fault": sig} else ""))
        else:
            stack.restart_sidecar(AGENTS_APP)  # on this thread: PDEATHSIG follows the thread that forks
        await until(pilot, lambda: isinstance(app.screen, KeyEditor), "the editor")
        await pilot.press("r")
        await until(pilot, lambda: editor.opened is not None and editor.opened.dapr_checked, "the reload", 30)
        await pilot.press("e")
        editor.query_one("#value-edit").text = json.dumps({"name": "router", "after": sig})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmSave), "the save confirmation")
        await pilot.press("ctrl+s")
        try:
            await until(pilot, lambda: editor.saved_etags, "the save after the comeback", 30)
            after = f"the next save worked (new etag {editor.saved_etags[-1]})"
            saved = True
        except TimeoutError:
            after = f"the next save did not work: {text_of(editor, '#editor-message')!r}"
            saved = False
        still = running(app)
    what = "frozen (SIGSTOP)" if sig == "SIGSTOP" else "killed (SIGKILL)"
    # honest either way: "nothing was saved" only when nothing was, else "may or may not have happened"
    said = "nothing was saved" in message or "may or may not" in message
    ok = (still and answered and saved and said and TRACEBACK not in message
          and "\n" not in message and not wrong_words)
    case(f"TUI save, daprd {what} during the save", "- (TUI)", f"{seconds:.1f}s to the message", message, ok,
         f"app running: {still}; answered ? with Help: {answered}; "
         + ("SIGCONT" if sig == "SIGSTOP" else "restart_sidecar") + f", r, {after}{landed_note}")


def r4_cosmos_stop(stack, name: str, argv: list[str], after_lines: int) -> None:
    from explorer.localstack.seed import seed

    env = cli_env(stack)
    command = [sys.executable, "-m", "explorer", *cli_args(stack, *argv)]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    lines = 0
    err_chunks: list[bytes] = []
    threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()), daemon=True).start()
    started = time.monotonic()
    stopped_at = None
    for _line in proc.stdout:
        lines += 1
        if lines == after_lines and stopped_at is None:
            stopped_at = lines
            stopper = threading.Thread(target=stack.stop_server)
            stopper.start()
    proc.wait(timeout=120)
    seconds = time.monotonic() - started
    time.sleep(0.2)
    stderr = b"".join(err_chunks).decode("utf-8", "replace")
    if stopped_at is not None:
        stopper.join()
    run = Run(argv, proc.returncode, "", stderr, seconds)
    if stopped_at is None:
        case(f"CLI {name}, Cosmos server stopped mid-stream", run.code, f"{seconds:.1f}s",
             f"finished with {lines} lines before the stop ({run.last_line})", False, "not measured")
        return
    stack.restart_server()
    asyncio.run(seed(stack))
    asyncio.run(write_editing_keys(stack))
    nxt = cli(stack, *argv)
    incomplete = name != "export" or "INCOMPLETE" in run.stderr
    case(f"CLI {name}, Cosmos server stopped after {stopped_at} output lines", run.code,
         f"{seconds:.1f}s in all, {lines} lines written", run.last_line,
         run.code not in (0, None) and one_line(run) and incomplete and nxt.code == 0,
         f"restart_server + seed; next {name} exit {nxt.code} ({len(nxt.stdout.splitlines())} lines)")


async def r4_tui_cosmos(stack) -> None:
    from explorer.localstack.seed import seed

    app = make_app(stack)
    async with app.run_test(size=(120, 40)) as pilot:
        await select_store(pilot, CACHE_STORE)
        browser = app.browser
        await asyncio.to_thread(stack.stop_server)
        started = time.monotonic()
        await pilot.press("down")  # the next store: its partition listing starts with Cosmos gone
        try:
            await until(pilot, lambda: "r retries" in text_of(browser, "#keys-message")
                        or "✖" in text_of(browser, "#partition-progress"), "the pane to say so", 60)
        except TimeoutError:
            pass
        seconds = time.monotonic() - started
        message = text_of(browser, "#keys-message")
        answered = await answers_help(pilot)
        stack.restart_server()  # on this thread: PDEATHSIG follows the thread that forks
        await seed(stack)
        await write_editing_keys(stack)
        await pilot.press("r")
        try:
            await until(pilot, lambda: {"user", "llm", "temp"} <= set(browser.partitions.partitions)
                        or len(browser.partitions.partitions) > 0 and "✖" not in text_of(browser, "#partition-progress"),
                        "partitions back", 30)
            back = f"r: {len(browser.partitions.partitions)} partitions of {browser.store} listed again"
            ok_back = True
        except TimeoutError:
            back, ok_back = "r: partitions did not come back", False
        still = running(app)
    case("TUI partition listing with the Cosmos server stopped", "- (TUI)", f"{seconds:.1f}s to the message", message,
         still and answered and ok_back and "r retries" in message and TRACEBACK not in message,
         f"app running: {still}; answered ? with Help: {answered}; restart_server + seed, {back}")


# == R5: no secret anywhere ====================================================================


def secret_forms(secret: str) -> set[str]:
    forms = {secret, secret.rstrip("="), urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
             json.dumps(secret)[1:-1], secret.replace("/", "\\/")}
    return {f for f in forms if len(f) >= 16}


def key_secrets(master_key: str) -> set[str]:
    forms = secret_forms(master_key)
    raw = base64.b64decode(master_key)
    forms |= {raw.hex(), raw.hex().upper()}
    return forms


class Scanner:
    def __init__(self) -> None:
        self.secrets: dict[str, set[str]] = {}
        self.outputs = 0
        self.bytes = 0
        self.hits: list[tuple[str, str]] = []

    def add(self, label: str, forms: set[str]) -> None:
        self.secrets[label] = forms

    def scan(self, where: str, text: str | bytes) -> None:
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        self.outputs += 1
        self.bytes += len(text.encode("utf-8", "replace"))
        for label, forms in self.secrets.items():
            for form in forms:
                if form in text:
                    self.hits.append((where, label))

    def scan_run(self, run: Run) -> None:
        self.scan(f"stdout of {' '.join(run.argv[:3])}", run.stdout)
        self.scan(f"stderr of {' '.join(run.argv[:3])}", run.stderr)


def r5(args) -> None:
    from explorer.dapr.daprd import start_daprd
    from explorer.localstack.installs import find_daprd

    say("R5  no secret anywhere")
    scanner = Scanner()
    stack = start_stack(api_logging=True)
    token_daprd = None
    try:
        scanner.add("account key", key_secrets(stack.cosmos.master_key))
        token = base64.urlsafe_b64encode(os.urandom(30)).decode()
        scanner.add("DAPR_API_TOKEN", secret_forms(token))
        wrong_key = base64.b64encode(os.urandom(64)).decode()
        scanner.add("a wrong account key given", key_secrets(wrong_key))
        token_daprd = start_daprd(find_daprd(), "token-app", [stack.resources_path], stack.run_dir / "daprd-token-app.log",
                                  dict(stack.client_env(), DAPR_API_TOKEN=token), api_logging=True)
        token_daprd.wait_healthy(60, RuntimeError)
        port = str(token_daprd.ports.grpc)
        env = cli_env(stack, DAPR_API_TOKEN=token)

        def run(*argv, app_port: str | None = port, environment=None) -> Run:
            extra = ["--resources-path", str(stack.resources_path)] + (["--dapr-grpc-port", app_port] if app_port else [])
            result = run_cli([*argv, *extra], environment or env)
            scanner.scan_run(result)
            return result

        ran: list[tuple[str, int]] = []
        for json_flag in ([], ["--json"]):
            for argv in (["stores"], ["doctor"], ["partitions", AGENTS_STORE], ["keys", AGENTS_STORE, "--partition", "gpt4"],
                         ["get", AGENTS_STORE, "agent:planner", "--app-id", AGENTS_APP],
                         ["set", AGENTS_STORE, "secret-check", '{"v": 1}'],
                         ["get", AGENTS_STORE, "secret-check"],
                         ["delete", AGENTS_STORE, "secret-check"],
                         ["set", AGENTS_STORE, "agent:summarizer", '{"via": "own daprd"}', "--app-id", AGENTS_APP],
                         ["export", AGENTS_STORE]):
                result = run(*argv, *json_flag)
                ran.append((" ".join(argv[:1] + json_flag), result.code))
        errors = [
            ("wrong store", ["get", "no-such-store", "k"], {}),
            ("bad key", ["get", AGENTS_STORE, "k" * 2000], {}),
            ("bad --ttl", ["set", AGENTS_STORE, "k", "1", "--ttl", "²"], {}),
            ("bad JSON", ["set", AGENTS_STORE, "k", "{nope"], {}),
            ("read-only write", ["--read-only", "delete", AGENTS_STORE, "agent:planner"], {}),
            ("wrong DAPR_API_TOKEN", ["set", AGENTS_STORE, "k", "1"], {"DAPR_API_TOKEN": "not-the-token"}),
            ("no DAPR_API_TOKEN", ["stores"], {"DAPR_API_TOKEN": ""}),
            ("wrong account key", ["keys", AGENTS_STORE, "--partition", "gpt4"], {"COSMOS_MASTER_KEY": wrong_key}),
            ("key not base64", ["keys", AGENTS_STORE, "--partition", "gpt4"], {"COSMOS_MASTER_KEY": token + "!"}),
            ("untrusted TLS", ["keys", AGENTS_STORE, "--partition", "gpt4", "--cosmos-ca-file",
                               __import__("certifi").where()], {}),
        ]
        for name, argv, extra in errors:
            result = run(*argv, environment=dict(env, **extra))
            ran.append((name, result.code))
        stack.stop_server()
        for argv in (["get", AGENTS_STORE, "agent:planner"], ["partitions", AGENTS_STORE], ["doctor"],
                     ["export", AGENTS_STORE], ["set", AGENTS_STORE, "k", "1"]):
            result = run(*argv)
            ran.append((f"server stopped: {argv[0]}", result.code))
        stack.restart_server()
        asyncio.run(__import__("explorer.localstack.seed", fromlist=["seed"]).seed(stack))
        asyncio.run(write_editing_keys(stack))
        figure("R5", "CLI runs", f"{len(ran)}: " + ", ".join(f"{name} → {code}" for name, code in ran))

        with Env(stack):
            shots, own_token = asyncio.run(r5_tui(stack, token, token_daprd.ports.grpc, scanner))
        figure("R5", "TUI screenshots scanned", shots)
        figure("R5", "token of the explorer's own daprd (found in the session, added to the secrets)",
               "found" if own_token else "not found")

        stack_out = r5_stack_command(scanner)
        figure("R5", "`dapr-explorer stack`", stack_out)
    finally:
        if token_daprd is not None:
            token_daprd.process.stop()
        run_dir = stack.run_dir
        files = [p for p in run_dir.rglob("*") if p.is_file()]  # logs, and the TLS files
        for path in sorted(set(files)):
            scanner.scan(f"log {path.name}", path.read_bytes())
        figure("R5", "stack log files scanned", ", ".join(sorted({p.name for p in files})))
        stack.stop()
    figure("R5", "outputs scanned", f"{scanner.outputs} outputs, {scanner.bytes:,} bytes, "
           f"{sum(len(f) for f in scanner.secrets.values())} secret forms of {len(scanner.secrets)} secrets")
    where = sorted({f"{w} ({label})" for w, label in scanner.hits})
    figure("R5", "occurrences of a secret", f"{len(scanner.hits)}" + (f": {'; '.join(where[:8])}" if where else ""),
           "0", not scanner.hits)


async def r5_tui(stack, token: str, token_port: int, scanner: Scanner) -> tuple[int, bool]:
    """A session with the token daprd and chat-api/order-processor, no agent-registry sidecar: the save
    of an agents key starts the explorer's own daprd, whose token then counts as a secret too."""
    from explorer.tui.dialogs import ConfirmSave

    addresses = [stack.sidecars[CACHE_APP].grpc_address, stack.sidecars[WORKFLOWS_APP].grpc_address,
                 f"127.0.0.1:{token_port}"]
    app = make_app(stack, addresses=addresses, api_token=token)
    shots: list[tuple[str, str]] = []
    own_token = None

    def shot(label: str) -> None:
        shots.append((label, app.export_screenshot()))

    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.session is not None, "the session", 30)
        shot("start")
        await select_store(pilot, AGENTS_STORE)
        shot("agents store")
        await pilot.press("f")
        await pilot.pause(0.3)
        shot("doctor findings")
        await to_browser(pilot)
        editor = await open_key(pilot, AGENTS_STORE, "gpt4", "agent:planner")
        shot("editor")
        await pilot.press("e")
        editor.query_one("#value-edit").text = '{"name": "planner", "secret-scan": true}'
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmSave), "the confirmation")
        shot("confirm save")
        await pilot.press("ctrl+s")
        try:
            await until(pilot, lambda: editor.saved_etags, "the save through our own daprd", 60)
        except TimeoutError:
            pass
        await pilot.pause(0.3)
        shot("saved")
        launcher = app.session.workspace._launcher
        if launcher is not None:
            for own in launcher._started.values():
                for name, value in own.client._metadata:
                    if name == "dapr-api-token":
                        own_token = value
                        scanner.add("own daprd token", secret_forms(value))
                for path in own.process.log_path.parent.glob("*"):
                    if path.is_file():
                        scanner.scan(f"own daprd {path.name}", path.read_bytes())
        for keys in (["y"], ["question_mark"], ["escape", "escape"], ["g"], ["escape", "question_mark"], ["escape"]):
            await pilot.press(*keys)
            await pilot.pause(0.2)
            shot("+".join(keys))
        await to_browser(pilot)
        await asyncio.to_thread(stack.stop_server)
        await pilot.press("r")
        await pilot.pause(2)
        shot("server stopped, r")
        await pilot.press("down")
        await pilot.pause(1)
        shot("server stopped, next store")
        stack.restart_server()  # on this thread: PDEATHSIG follows the thread that forks
        for label, svg in shots:
            scanner.scan(f"screenshot {label}", svg)
        # notifications too (shown as toasts, also in the screenshots)
        for note in list(app._notifications):
            scanner.scan("notification", f"{note.title} {note.message}")
    return len(shots), own_token is not None


def r5_stack_command(scanner: Scanner) -> str:
    """`dapr-explorer stack`: its output, its logs while it runs, and its key (read from its daprd's
    environment) as one more secret."""
    proc = subprocess.Popen([sys.executable, "-m", "explorer", "stack"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
    out: list[bytes] = []
    err: list[bytes] = []
    reader = threading.Thread(target=lambda: err.append(proc.stderr.read()), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out.append(line)
        if b"Ctrl-C stops everything" in line:
            break
    key = None
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                if int(stat.split(")")[-1].split()[1]) == proc.pid:
                    children.append(int(entry.name))
                    env = (entry / "environ").read_bytes().split(b"\0")
                    for pair in env:
                        if pair.startswith(b"COSMOS_MASTER_KEY="):
                            key = pair.split(b"=", 1)[1].decode()
            except (OSError, ValueError, IndexError):
                continue
    logs_scanned = 0
    if key:
        scanner.add("`stack` account key", key_secrets(key))
    # its run folder (named in nothing it prints before Ctrl-C): the daprd children's cwd
    run_dirs = set()
    for pid in children:
        try:
            run_dirs.add(Path(os.readlink(f"/proc/{pid}/cwd")))
        except OSError:
            pass
    for d in run_dirs:  # while it runs: Ctrl-C removes its run folder
        for path in d.glob("*.log"):
            scanner.scan(f"`stack` log {path.name}", path.read_bytes())
            logs_scanned += 1
    proc.send_signal(signal.SIGINT)
    try:
        rest, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate()
    out.append(rest or b"")
    reader.join(timeout=5)
    stdout, stderr = b"".join(out), b"".join(err)
    scanner.scan("`stack` stdout", stdout)
    scanner.scan("`stack` stderr", stderr)
    return (f"exit {proc.returncode}, {len(stdout) + len(stderr)} bytes of output, key read from its daprd: "
            f"{bool(key)}, {logs_scanned} of its log files read while it ran")


# == R6 ==========================================================================================


def r6(args) -> None:
    say("R6  inputs fuzzed (bench/fuzz_inputs.py)")
    argv = [sys.executable, str(REPO / "bench" / "fuzz_inputs.py"), "--seed", str(args.fuzz_seed), "--count",
            str(args.fuzz_count)]
    say("  $ " + " ".join(argv[1:]))
    started = time.monotonic()
    result = subprocess.run(argv, stdin=subprocess.DEVNULL)
    figure("R6", "bench/fuzz_inputs.py", f"exit {result.returncode} in {time.monotonic() - started:.0f}s "
           f"({args.fuzz_count} inputs, seed {args.fuzz_seed})", "exit 0 (no unexpected exception)",
           result.returncode == 0)


# == R7: hostile names and values ================================================================

R7_PARTITIONS = 8  # --smoke: 2
R7_SAMPLE = 12  # names read, written and missed one by one (a process each: ~1.5 s a run); --smoke: 2


def r7_data(count: int, partition_count: int = R7_PARTITIONS) -> tuple[list[str], list[str]]:
    """`count` hostile key names (tests.support.hostile_names) and the partitions they are spread over —
    hostile names too, but the first, which stays plain so one partition is reachable by typing."""
    from tests.support import hostile_names

    names = hostile_names(count)
    partitions = ["r7-plain", *(f"r7p{n}:" + name for n, name in enumerate(hostile_names(partition_count - 1, 200)))]
    return names, partitions


def r7(args) -> None:
    """Every hostile name and value written through daprd, then shown by every CLI subcommand that prints
    store data (human and --json) and by every TUI view that does: raw control characters that reach the
    terminal, tracebacks, and --json lines that do not read back to what was written."""
    from explorer.localstack.manager import LocalStack
    from explorer.dapr.sidecar import SidecarClient, StateWrite
    from tests.support import raw_control_bytes

    count = args.hostile_count
    say(f"R7  hostile names and values ({count} keys)")
    names, partitions = r7_data(count, 2 if args.smoke else R7_PARTITIONS)
    proof = sum(raw_control_bytes(name.encode("utf-8")) > 0 for name in names)  # the counter sees what it counts
    figure("R7", "names the counter finds raw controls in, before display", f"{proof:,} of {len(names):,}",
           "every one", proof == len(names))
    stack = LocalStack(api_logging=False, app_ids=(CACHE_APP,)).start()
    try:
        started = time.monotonic()
        placed = {name: partitions[n % len(partitions)] for n, name in enumerate(names)}

        async def write() -> None:
            async with SidecarClient(stack.sidecars[CACHE_APP].grpc_address) as sidecar:
                batch = []
                for n, name in enumerate(names):
                    value = orjson.dumps({"v": name, "n": n}) if n % 5 else orjson.dumps(name)
                    batch.append(StateWrite(name, value, metadata={"partitionKey": placed[name], "contentType": "application/json"}))
                    if len(batch) == 50:
                        await sidecar.save(CACHE_STORE, batch)
                        batch = []
                if batch:
                    await sidecar.save(CACHE_STORE, batch)
        asyncio.run(write())
        # A lone surrogate cannot go through daprd (protobuf will not encode it; Go's JSON stores U+FFFD):
        # another writer's items, written with the SDK, hold one in the id, the partition and the value.
        container = stack.cosmos_client().get_database_client("dapr-cache").get_container_client("session-cache")
        for n, partition in enumerate(partitions):
            container.create_item({"id": f"{CACHE_APP}||lone{n}\udc80", "partitionKey": partition,
                                   "value": {"v": "half \ud83d of a pair"}})
        container.create_item({"id": f"{CACHE_APP}||lone-pk", "partitionKey": "r7-lone\udc80", "value": 1})
        figure("R7", "keys written through daprd", f"{len(names):,} in {len(partitions)} partitions "
               f"({time.monotonic() - started:.1f}s) + {len(partitions) + 1} items with a lone surrogate via the SDK")
        work = Path(tempfile.mkdtemp(prefix="r7-"))
        audit_file = work / "audit.jsonl"
        raw, tracebacks, runs, wrong_json, out_bytes, unexpected = r7_cli(stack, names, partitions, placed, raw_control_bytes, work,
                                                                        2 if args.smoke else R7_SAMPLE)
        figure("R7", "CLI runs", f"{runs} runs of 14 subcommands, {out_bytes:,} bytes of output")
        figure("R7", "CLI raw control characters reaching the terminal", raw, "0", raw == 0)
        figure("R7", "CLI tracebacks", tracebacks, "0", tracebacks == 0)
        figure("R7", "CLI 'unexpected error' exits (no traceback, but a crash)", unexpected, "0", unexpected == 0)
        figure("R7", "--json lines not read back to what was written", wrong_json, "0", wrong_json == 0)
        with Env(stack):
            os.environ["DAPR_EXPLORER_AUDIT_LOG"] = str(audit_file)  # the audit view shows the CLI's hostile writes
            screens, raw_tui, crashed = asyncio.run(r7_tui(stack, partitions, placed))
        shutil.rmtree(work, ignore_errors=True)
        figure("R7", "TUI screens checked", f"{screens} full repaints (browser pages, editors, insight, search, "
               "bulk dry runs, audit log)")
        figure("R7", "TUI raw control characters in what is drawn", raw_tui, "0", raw_tui == 0)
        figure("R7", "TUI tracebacks", crashed, "0", crashed == 0)
    finally:
        stack.stop()


def r7_cli(stack, names, partitions, placed, raw_control_bytes, work: Path,
           sample: int = R7_SAMPLE) -> tuple[int, int, int, int, int, int]:
    """Every subcommand that prints store data, over every partition; (raw, tracebacks, runs, wrong JSON, bytes,
    unexpected errors)."""
    env = {**cli_env(stack), "COLUMNS": "200"}
    env["DAPR_EXPLORER_AUDIT_LOG"] = str(work / "audit.jsonl")
    totals = {"raw": 0, "tracebacks": 0, "runs": 0, "json": 0, "bytes": 0, "unexpected": 0}

    def run(*argv, stdin: bytes | None = None, codes=(0,)) -> subprocess.CompletedProcess:
        full = [sys.executable, "-m", "explorer", *cli_args(stack, *argv, app=CACHE_APP)]
        result = subprocess.run(full, capture_output=True, env=env, timeout=300, input=stdin or b"")
        totals["runs"] += 1
        totals["bytes"] += len(result.stdout) + len(result.stderr)
        found = raw_control_bytes(result.stdout) + raw_control_bytes(result.stderr)
        if found:
            say(f"    {found} raw control character(s) from {argv[:2]}: {result.stdout[:200]!r} {result.stderr[:200]!r}")
        totals["raw"] += found
        if TRACEBACK.encode() in result.stdout + result.stderr:
            totals["tracebacks"] += 1
            say(f"    traceback from {argv[:3]}: {result.stderr[-400:]!r}")
        if b"unexpected error" in result.stderr:  # the last net's one line: no traceback, but a crash all the same
            totals["unexpected"] += 1
            say(f"    unexpected error from {argv[:3]}: {result.stderr.splitlines()[-1][:300]!r}")
        if result.returncode not in codes:
            say(f"    exit {result.returncode} from {argv[:3]} (expected {codes}): {result.stderr[-300:]!r}")
            totals["tracebacks"] += result.returncode == 1 and b"unexpected error" in result.stderr
        return result

    def json_keys(result) -> set[str]:
        keys = set()
        for line in result.stdout.decode("utf-8").splitlines():
            try:
                keys.add(json.loads(line)["key"])
            except (ValueError, KeyError):
                totals["json"] += 1
        return keys

    # (the partition holding a lone surrogate cannot be named in argv, which is bytes: partitions, stats,
    # search and the TUI show it)
    for n, arg in enumerate(partitions):
        wanted = {name for name, p in placed.items() if p == arg} | {f"lone{n}\udc80"}
        if "\x00" in arg:  # no argv holds a NUL
            continue
        run("keys", CACHE_STORE, "--partition", arg, "--page-size", "1000")
        got = json_keys(run("--json", "keys", CACHE_STORE, "--partition", arg, "--page-size", "1000"))
        totals["json"] += len(wanted ^ got)
        run("search", CACHE_STORE, "{}", "--partition", arg)
        got = json_keys(run("--json", "search", CACHE_STORE, "{}", "--partition", arg))
        totals["json"] += len(wanted ^ got)
        run("bulk", CACHE_STORE, "delete", "--partition", arg, "--dry-run", "--show", "100000")
        run("--json", "bulk", CACHE_STORE, "delete", "--partition", arg, "--dry-run")
        export = run("export", CACHE_STORE, "--partition", arg)
        exported = work / f"export-{n}.jsonl"
        exported.write_bytes(export.stdout)
        run("import", CACHE_STORE, str(exported), "--dry-run", codes=(0, 2))
        run("diff", CACHE_STORE, str(exported), "--partition", arg, "--values", codes=(0, 1, 2))
    for name in names[:: max(1, len(names) // sample)]:  # get, set and delete: a sample of the names
        if "\x00" in name:
            continue
        run("get", CACHE_STORE, name, "--partition", placed[name], "--app-id", CACHE_APP)
        run("--json", "get", CACHE_STORE, name, "--partition", placed[name], "--app-id", CACHE_APP)
        run("set", CACHE_STORE, name, orjson.dumps({"again": name}).decode(), "--partition", placed[name],
            "--app-id", CACHE_APP)
        run("get", CACHE_STORE, name + "\x1b[2J-gone", "--partition", placed[name], "--app-id", CACHE_APP, codes=(3,))
        run("delete", CACHE_STORE, name + "\u202e-gone", "--partition", placed[name], "--app-id", CACHE_APP, codes=(3,))
    run("partitions", CACHE_STORE)
    run("--json", "partitions", CACHE_STORE)
    run("stats", CACHE_STORE)
    run("--json", "stats", CACHE_STORE)
    run("search", CACHE_STORE, "{}")
    run("search", CACHE_STORE, "--sql", "SELECT * FROM c WHERE STARTSWITH(c.id, @p)", "--param", "@p=chat-api||h")
    run("audit", "--diff")
    run("--json", "audit")
    # a real bulk run over one hostile partition: its report and failure lines
    bulk_partition = partitions[1]
    bulk_count = sum(1 for p in placed.values() if p == bulk_partition)  # the lone-surrogate item is left alone
    run("bulk", CACHE_STORE, "set-ttl", "--ttl", "86400", "--partition", bulk_partition, "--confirm", str(bulk_count),
        codes=(0, 1, 4))
    return totals["raw"], totals["tracebacks"], totals["runs"], totals["json"], totals["bytes"], totals["unexpected"]


async def r7_tui(stack, partitions, placed) -> tuple[int, int, int]:
    """The browser on every partition (every page of its key table), the editor on a few keys of each,
    insight, a search, a bulk dry run and the audit log: (repaints checked, raw controls, tracebacks)."""
    from explorer.tui.screens.bulk import BulkView
    from explorer.tui.screens.key_editor import KeyEditor
    from explorer.tui.screens.search import SearchView
    from explorer.tui.screens.stats import StatsView
    from tests.support import screen_raw_controls

    checked = raw = crashed = 0
    unread: list[str] = []
    app = make_app(stack)

    async def check(pilot, where: str) -> None:
        nonlocal checked, raw
        await pilot.pause(0.1)
        found, first = screen_raw_controls(app)
        checked += 1
        if found:
            say(f"    {found} raw control character(s) on screen at {where}: {first!r}")
        raw += found

    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await select_store(pilot, CACHE_STORE)
            browser = app.browser
            await until(pilot, lambda: all(p in browser.partitions.partitions for p in partitions), "every partition")
            await check(pilot, "the partition list")
            for n, partition in enumerate(partitions):
                await to_browser(pilot)
                plist = browser.partitions
                plist.options.focus()
                await pilot.press("escape")
                await pilot.pause(0.05)
                plist.options.highlighted = plist._shown.index(partition)
                await pilot.press("enter")
                await until(pilot, lambda: browser.partition == partition and browser.keys.entries, f"keys of {n}")
                table = browser.keys
                table.focus()
                for _ in range(max(1, table.row_count // 30) + 1):
                    await check(pilot, f"partition {n}, row {table.cursor_row}")
                    await pilot.press("pagedown")
                for row in range(0, table.row_count, max(1, table.row_count // 3)):
                    await to_browser(pilot)
                    table.focus()
                    table.move_cursor(row)
                    await pilot.press("enter")
                    await until(pilot, lambda: isinstance(app.screen, KeyEditor), "the editor")
                    try:
                        await until(pilot, lambda: app.screen.opened is not None, "the key read", 5)
                    except TimeoutError:  # it says why in its pane (a lone surrogate in the id, say): shown too
                        unread.append(table.entries[row].doc_id)
                    await check(pilot, f"the editor on row {row} of partition {n}")
                    await pilot.press("escape")
                await to_browser(pilot)
                table.focus()
                await pilot.press("B")
                await pilot.pause(0.2)
                await pilot.press("enter")
                await until(pilot, lambda: isinstance(app.screen, BulkView) and app.screen.plan is not None, "a dry run")
                await check(pilot, f"the bulk dry run of partition {n}")
                await pilot.press("escape")
            await to_browser(pilot)
            await pilot.press("i")
            await until(pilot, lambda: isinstance(app.screen, StatsView) and not app.screen.running, "insight")
            await check(pilot, "insight")
            await to_browser(pilot)
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, SearchView), "search")
            await pilot.press("{", "}", "enter")
            await until(pilot, lambda: not app.screen.running and app.screen.hits, "search hits", 60)
            await check(pilot, "search")
            await to_browser(pilot)
            await pilot.press("L")
            await pilot.pause(0.5)
            await check(pilot, "the audit log")
            await to_browser(pilot)
    except Exception as exc:  # noqa: BLE001 - counted, and said: the figure fails
        import traceback

        traceback.print_exc()
        say(f"    the TUI walk stopped: {exc.__class__.__name__}: {exc}")
        crashed += 1
    crashed += app.return_code not in (None, 0)
    if unread:
        say(f"    the editor could not read {len(unread)} of the keys it opened (its pane says why): "
            + ", ".join(repr(i) for i in unread[:5]))
    return checked, raw, crashed


# == main =========================================================================================

PARTS = {"R1": r1, "R2": r2, "R4": r4, "R5": r5, "R6": r6, "R7": r7}


def main() -> int:
    import logging

    logging.getLogger("azure").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help="comma-separated parts (default: all)")
    parser.add_argument("--races", type=int, default=200)
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--bulk-keys", type=int, default=300, help="keys of each of R2's bulk and import races")
    parser.add_argument("--export-keys", type=int, default=20_000, help="extra keys seeded for R4's export")
    parser.add_argument("--fuzz-count", type=int, default=200_000)
    parser.add_argument("--fuzz-seed", type=int, default=1)
    parser.add_argument("--hostile-count", type=int, default=1000, help="R7's hostile key names (--smoke: 60 in 2 partitions, 2 read one by one)")
    # --smoke: what tests/integration/test_bench_smoke.py runs (R2 and R6, R7 beside them), R7 also in 2 partitions
    args = smoke_args(parser, races=20, parallel=5, bulk_keys=40, fuzz_count=3_400, hostile_count=60)
    parts = [p.strip().upper() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; choose from {', '.join(PARTS)}")
    load = os.getloadavg()
    say(f"reliability run {time.strftime('%Y-%m-%d %H:%M:%S')} · {os.cpu_count()} cores · load {load[0]:.1f} "
        f"{load[1]:.1f} {load[2]:.1f} · parts {', '.join(parts)}")
    started = time.monotonic()
    for part in parts:
        t0 = time.monotonic()
        try:
            PARTS[part](args)
        except Exception as exc:  # noqa: BLE001 - a part that cannot finish is a failed figure, the others still run
            import traceback

            traceback.print_exc()
            figure(part, "the part could not finish", f"{exc.__class__.__name__}: {exc}", "finishes", False)
        say(f"  ({part} took {time.monotonic() - t0:.0f}s)\n")
    say(f"== summary ({time.monotonic() - started:.0f}s, load {os.getloadavg()[0]:.1f}) ==")
    for f in FIGURES:
        if f.ok is not None:
            say(f"  {'ok  ' if f.ok else 'FAIL'} {f.part} {f.name.strip()}: {f.value}")
    failed = [f for f in FIGURES if f.ok is False]
    say(f"{len(FIGURES) - len(failed)} figures ok or informational, {len(failed)} broke their guarantee")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
