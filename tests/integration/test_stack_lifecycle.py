"""The stack manager starts real processes on free loopback ports and leaves none behind."""

from __future__ import annotations

import os
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


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_cli_stack_leaves_nothing_behind_when_stopped(how):
    """`dapr-explorer stack` stopped by Ctrl-C, SIGTERM, or even kill -9 orphans no daprd/server."""
    cli = subprocess.Popen(
        [sys.executable, "-m", "explorer", "stack"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        line = ""
        deadline = time.monotonic() + 120
        while "Ctrl-C stops everything" not in line and time.monotonic() < deadline:
            line = cli.stdout.readline()
            assert line or cli.poll() is None, cli.stderr.read()
        kids = children_of(cli.pid)
        assert len(kids) == 4, "one server and three daprd"
        os.kill(cli.pid, how)
        cli.wait(timeout=30)
        assert wait_dead(kids) == []
    finally:
        if cli.poll() is None:
            cli.kill()


def test_quitting_the_demo_leaves_no_process_behind():
    """`dapr-explorer demo` in a real terminal (a pty): the store list appears, `q` quits, nothing is left."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="30")
    demo = subprocess.Popen([sys.executable, "-m", "explorer", "demo"], stdin=slave, stdout=slave, stderr=slave,
                            env=env, start_new_session=True)
    os.close(slave)
    screen = b""
    try:
        deadline = time.monotonic() + 120
        while b"3 sidecars" not in screen and time.monotonic() < deadline:
            try:
                screen += os.read(master, 65536)
            except OSError:
                break
        assert b"statestore-agents-cosmos" in screen and b"3 sidecars" in screen, screen[-2000:]
        kids = children_of(demo.pid)
        assert len(kids) == 4, "one server and three daprd"
        os.write(master, b"q")
        deadline = time.monotonic() + 30
        while demo.poll() is None and time.monotonic() < deadline:
            try:
                os.read(master, 65536)
            except OSError:
                time.sleep(0.1)
        assert demo.wait(timeout=5) == 0
        assert wait_dead(kids) == []
    finally:
        if demo.poll() is None:
            demo.kill()
        os.close(master)
