"""Child processes: started in their own process group with their output in a log file, and
stopped (TERM, then KILL) so none outlives us; free loopback ports for them, and a poll to wait on.

What it is for: the explorer's own daprd (explorer.dapr.own_sidecar, through explorer.dapr.daprd)
and every process of the local dev stack, which imports it from here. `PR_SET_PDEATHSIG` makes a
child die with us even after kill -9.

What it must never do: let a child inherit our terminal (a child that writes to the screen would
corrupt the TUI, so every byte goes to its log file), or any descriptor of ours but those named
for it (`pass_fds`).
"""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # pragma: no cover - runs in the child
    """Ask Linux to send the child SIGTERM if we die without cleaning up (kill -9)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:
        pass


class ManagedProcess:
    """One child process whose stdout and stderr go to `log_path`."""

    def __init__(self, name: str, argv: Sequence[str], log_path: Path, env: Mapping[str, str], cwd: Path | None = None,
                 pass_fds: Sequence[int] = ()):
        """`pass_fds`: descriptors the child inherits (e.g. a listening socket bound for it)."""
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._stop_asked = False
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent,
            pass_fds=tuple(pass_fds),
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def exited_by_itself(self) -> bool:
        """It has exited, and not because stop() asked it to (it crashed or was killed by someone else)."""
        return not self._stop_asked and not self.alive()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the whole process group, SIGKILL what is left after `grace` seconds."""
        self._stop_asked = True
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(timeout=5)
        # Reap anything left in the group (e.g. a shell's children).
        self._signal_group(signal.SIGKILL)
        self._log.close()

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel hands out to outgoing connections (and to bind(0))."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, chosen BELOW the kernel's ephemeral range: a port from
    that range (what bind(0) returns) can be taken as the local port of any outgoing connection in the
    moment before our process binds it (CI saw daprd and placement fail with "address already in use").
    Falls back to bind(0) when no such port is free."""
    low, _ = _ephemeral_range()
    for _ in range(50):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
