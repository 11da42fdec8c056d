"""The stack manager starts real processes on free loopback ports and leaves none behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from explorer.errors import StackError
from explorer.localstack.manager import LocalStack
from tests.support import read_until

pytestmark = pytest.mark.integration


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.split(")")[-1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_dead(pids, timeout=10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if pid_alive(p)]


def test_stop_leaves_no_process_and_no_open_port(tmp_path):
    stack = LocalStack(app_ids=("lifecycle-a",), run_dir=tmp_path).start()
    pids = [p.pid for p in stack.processes()]
    ports = [stack.sidecars["lifecycle-a"].grpc_port, stack.sidecars["lifecycle-a"].http_port]
    assert all(pid_alive(p) for p in pids) and all(port_open(p) for p in ports)
    assert (tmp_path / "daprd-lifecycle-a.log").read_text().strip(), "daprd's log is kept in the run folder"
    assert "READY" in (tmp_path / "cosmosdb-server.log").read_text()
    stack.stop()
    assert wait_dead(pids) == []
    assert not any(port_open(p) for p in ports)


def test_parallel_stacks_do_not_collide(tmp_path):
    stacks, errors = [], []

    def run(name):
        try:
            stacks.append(LocalStack(app_ids=(name,), run_dir=tmp_path / name).start())
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"parallel-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        urls = {s.cosmos.url for s in stacks}
        ports = {sc.grpc_port for s in stacks for sc in s.sidecars.values()}
        assert len(urls) == 2 and len(ports) == 2
    finally:
        for s in stacks:
            s.stop()


def test_daprd_that_dies_at_start_gives_a_clear_error_and_stops_the_server(tmp_path):
    fake = tmp_path / "broken-daprd"
    fake.write_text("#!/bin/sh\necho 'fatal: component init failed for the test' >&2\nexit 3\n")
    fake.chmod(0o755)
    stack = LocalStack(app_ids=("broken",), run_dir=tmp_path / "run", daprd=fake)
    with pytest.raises(StackError) as info:
        stack.start()
    message = str(info.value)
    assert "daprd for broken exited during start-up" in message
    assert "component init failed for the test" in message
    assert stack._server is not None and wait_dead([stack._server.pid]) == []


def test_a_failed_start_leaves_no_empty_run_folder_and_keeps_one_with_logs(tmp_path, monkeypatch):
    """A stack that made its own run folder removes it when a start fails before anything logged,
    and keeps it (`kept_logs`, named in the error) when there are logs to read."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(StackError, match="daprd not found"):
        LocalStack(app_ids=("nothing",), daprd=tmp_path / "no-such-daprd").start()
    assert list(tmp_path.iterdir()) == []

    fake = tmp_path / "broken-daprd"
    fake.write_text("#!/bin/sh\necho 'fatal: broken on purpose' >&2\nexit 3\n")
    fake.chmod(0o755)
    stack = LocalStack(app_ids=("broken",), daprd=fake)
    with pytest.raises(StackError) as info:
        stack.start()
    assert stack.kept_logs is not None and stack.kept_logs.name.startswith("dapr-explorer-stack-")
    assert str(stack.kept_logs) in str(info.value)
    assert "broken on purpose" in (stack.kept_logs / "daprd-broken.log").read_text()


def test_a_stack_that_made_its_run_folder_removes_it_on_stop_unless_asked_to_keep_the_logs(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    stack = LocalStack(app_ids=("tidy",)).start()
    assert stack.run_dir.parent == tmp_path and (stack.run_dir / "daprd-tidy.log").is_file()
    stack.stop()
    assert list(tmp_path.iterdir()) == [] and stack.kept_logs is None

    stack = LocalStack(app_ids=("kept",)).start()
    stack.stop(keep_logs=True)  # e.g. seeding failed after a good start: the caller wants the logs
    assert stack.kept_logs == stack.run_dir and (stack.run_dir / "daprd-kept.log").is_file()


def test_api_logging_makes_daprd_log_every_state_call(tmp_path):
    import http.client

    with LocalStack(app_ids=("api-log",), run_dir=tmp_path, api_logging=True) as stack:
        assert "--enable-api-logging" in stack.sidecars["api-log"].process.argv
        conn = http.client.HTTPConnection("127.0.0.1", stack.sidecars["api-log"].http_port, timeout=10)
        conn.request("GET", "/v1.0/state/statestore-agents-cosmos/no-such-key")
        assert conn.getresponse().status in (200, 204)
        conn.close()
    log = (tmp_path / "daprd-api-log.log").read_text()
    assert 'HTTP API Called' in log and 'method="GET /v1.0/state/statestore-agents-cosmos/no-such-key"' in log, log[-3000:]


@pytest.mark.parametrize(("how", "apps"), [(signal.SIGINT, False), (signal.SIGTERM, True), (signal.SIGKILL, True)])
def test_cli_stack_leaves_nothing_behind_when_stopped(how, apps, tmp_path):
    """`dapr-explorer stack` (with its apps, or `--no-apps`) stopped by Ctrl-C, SIGTERM, or even kill -9
    orphans no daprd, server, service or app; stopped by a signal it can catch, it also removes its
    run folder."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "explorer", "stack", *([] if apps else ["--no-apps"])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        # kill -9 leaves its run folder and its `local` context registration: here, not in /tmp or ~/.local/state
        env=dict(os.environ, TMPDIR=str(tmp_path), XDG_STATE_HOME=str(tmp_path / "state")),
    )
    try:
        read_until(cli, "Ctrl-C stops everything")
        kids = children_of(cli.pid)
        assert len(kids) == (10 if apps else 4), "server, 3 daprd (+ placement, scheduler, cart-service's daprd, 3 apps)"
        os.kill(cli.pid, how)
        cli.wait(timeout=30)
        assert wait_dead(kids) == []
        if how != signal.SIGKILL:
            assert list(tmp_path.glob("dapr-explorer-stack-*")) == []
    finally:
        if cli.poll() is None:
            cli.kill()


class Terminal:
    """A pseudo-terminal around a real process: keys in, the screen's text out (escape codes removed)."""

    ESCAPES = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")

    def __init__(self, argv: list[str], columns: int = 120, lines: int = 30, cwd: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        import fcntl
        import pty
        import struct
        import termios

        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        env = dict(os.environ if env is None else env, TERM="xterm-256color", COLUMNS=str(columns), LINES=str(lines))
        self.process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd,
                                        start_new_session=True)
        os.close(slave)
        self.raw = b""
        self.mark = 0  # where the output that followed the last keys sent starts

    def text(self) -> str:
        return self.ESCAPES.sub(b"", self.raw).decode("utf-8", "replace")

    def read(self, seconds: float) -> None:
        import select

        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if select.select([self.master], [], [], left)[0]:
                try:
                    self.raw += os.read(self.master, 65536)
                except OSError:  # the process has gone
                    return

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match:
        """The first match of `pattern` in what was drawn since the last keys were sent."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.ESCAPES.sub(b"", self.raw[self.mark:]).decode("utf-8", "replace"))
            if found:
                return found
            if time.monotonic() > deadline:
                break
            self.read(0.2)
        raise AssertionError(f"{pattern!r} never appeared; the screen ended with:\n{self.text()[-3000:]}")

    def press(self, *keys: bytes) -> None:
        self.mark = len(self.raw)
        for key in keys:
            os.write(self.master, key)
            self.read(0.15)


DOWN, ENTER, RIGHT, CTRL_S = b"\x1b[B", b"\r", b"\x1b[C", b"\x13"


def test_the_readme_walkthrough_in_the_demo_then_quit_leaves_no_process_behind():
    """What the README tells a newcomer, typed into `dapr-explorer demo` in a real terminal (a pty):
    the store list appears; a seeded cache key is found with the filter, opened, edited and saved
    through the confirmation (keep the expiry instant); the editor shows the new etag and the
    countdown still running. Then `q` quits and no process is left behind."""
    term = Terminal([sys.executable, "-m", "explorer", "demo"])
    try:
        term.wait_for("4 sidecars", timeout=120)
        assert "statestore-agents-cosmos" in term.text()
        kids = children_of(term.process.pid)
        assert len(kids) == 10, "server, placement, scheduler, four daprd (cart-service's too) and the three apps"

        term.press(DOWN)  # the store list has the focus: the cache store
        term.wait_for(r"temp")  # its partitions stream in
        term.press(b"/", *[bytes([c]) for c in b"temp"], ENTER)  # filter, Enter opens the first match
        term.wait_for(r"session:temp:1008")
        term.read(0.5)
        since = term.ESCAPES.sub(b"", term.raw[term.mark:]).decode("utf-8", "replace")
        rows = list(dict.fromkeys(re.findall(r"session:temp:\d+", since)))  # in the order the table drew them
        term.press(*[DOWN] * rows.index("session:temp:1008"), ENTER)  # the key with an hour's TTL, in the editor
        term.wait_for(r"key +session:temp:1008")
        term.wait_for(r"Dapr \(chat-api\)")  # read via: Dapr's verdict is in
        before = set(re.findall(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", term.text()))
        assert before, "the editor shows the key's etag"

        term.press(b"e", RIGHT, *[bytes([c]) for c in b'"walkthrough": 1,'], CTRL_S)
        term.wait_for("keep the current expiry instant")  # the confirmation: diff and TTL choice
        term.press(CTRL_S)
        saved = term.wait_for(r"saved · new etag \"?([0-9a-f-]{36})\"? · (expires in \d+m \d+s)")
        assert saved.group(1) not in before, "a new etag"

        term.press(b"\x1b")
        term.read(0.5)
        term.press(b"q")
        deadline = time.monotonic() + 30
        while term.process.poll() is None and time.monotonic() < deadline:
            term.read(0.2)
        assert term.process.wait(timeout=5) == 0
        assert wait_dead(kids) == []
    finally:
        if term.process.poll() is None:
            term.process.kill()
        os.close(term.master)


def test_a_daprd_whose_port_was_taken_before_it_bound_it_is_started_again_on_fresh_ports(tmp_path, monkeypatch):
    """A port is picked free a moment before daprd binds it; another process may take it in between
    (seen once in CI). The first daprd is given an HTTP port something else already listens on: it
    exits ("could not listen on any endpoint") and the stack starts it again on fresh ports."""
    from explorer.dapr import daprd as daprd_module

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    picks = []
    real_pick = daprd_module.DaprdPorts.pick.__func__

    def pick(cls, grpc: int = 0, http: int = 0):
        ports = real_pick(cls, grpc, http)
        if not picks:  # the first daprd gets the taken port
            ports = cls(ports.grpc, taken.getsockname()[1], ports.internal_grpc, ports.metrics)
        picks.append(ports)
        return ports

    monkeypatch.setattr(daprd_module.DaprdPorts, "pick", classmethod(pick))
    try:
        with LocalStack(run_dir=tmp_path, app_ids=("order-processor",)) as stack:
            sidecar = stack.sidecars["order-processor"]
            assert len(picks) == 2 and sidecar.http_port != taken.getsockname()[1]
            assert sidecar.process.alive() and sidecar.daprd.healthy()
    finally:
        taken.close()
