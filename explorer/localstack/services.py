"""The local stack's processes besides daprd and the apps: Dapr's placement and scheduler services,
and the READY line the stack's node servers (the Cosmos-compatible server, the token endpoint) print.

What it is for: `LocalStack(actors=True)` (explorer.localstack.manager) starts placement and the
scheduler as `DaprService`s on free loopback ports and connects every daprd to them; outage tests stop
one and start it again on its old ports. `wait_ready_line` reads the URL a node server listens on.

What it must never do: listen on anything but loopback, or write to our terminal (every process's
output goes to its log in the run folder).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from explorer.dapr.daprd import LOOPBACK, http_status
from explorer.dapr.processes import ManagedProcess, free_port, wait_until
from explorer.errors import StackError


class DaprService:
    """placement or scheduler, started on free loopback ports with its log in the run folder; `start()`
    again (after `process.stop()`) brings it back on the same ports, appending to the same log (the
    scheduler with its etcd data folder)."""

    def __init__(self, name: str, binary: Path, run_dir: Path, startup_timeout: float):
        self.name = name
        self.port, self.healthz_port, self.metrics_port = free_port(), free_port(), free_port()
        self.log_path = run_dir / f"{name}.log"
        self.startup_timeout = startup_timeout
        self.run_dir = run_dir
        common = ["--port", str(self.port), "--healthz-port", str(self.healthz_port), "--metrics-port", str(self.metrics_port),
                  "--listen-address", LOOPBACK, "--metrics-listen-address", LOOPBACK,
                  # Ignored by Dapr 1.18.2 (build-dapr-services.sh patches healthz onto loopback); harmless.
                  "--healthz-listen-address", LOOPBACK, "--log-level", "info"]
        if name == "placement":
            # Its raft peer port defaults to a fixed 8201 on every interface's host: a free loopback one.
            extra = ["--initial-cluster", f"dapr-placement-0={LOOPBACK}:{free_port()}"]
        else:
            etcd = run_dir / "etcd"
            shutil.rmtree(etcd, ignore_errors=True)  # a reused run folder's etcd names other peer ports
            self.etcd_client_port = free_port()
            # Embedded etcd: client and peer listeners on loopback (the peer port defaults to localhost:2380).
            extra = ["--etcd-data-dir", str(etcd), "--etcd-client-port", str(self.etcd_client_port),
                     "--etcd-client-listen-address", LOOPBACK,
                     "--etcd-initial-cluster", f"dapr-scheduler-server-0=http://{LOOPBACK}:{free_port()}"]
        self.argv = [str(binary), *common, *extra]
        self.process: ManagedProcess = self.start()

    def start(self) -> ManagedProcess:
        """Start it (again) with the same command line, so on the same ports; wait_healthy() waits."""
        self.process = ManagedProcess(self.name, self.argv, self.log_path, env=os.environ, cwd=self.run_dir)
        return self.process

    @property
    def address(self) -> str:
        """What daprd's --placement-host-address / --scheduler-host-address takes."""
        return f"{LOOPBACK}:{self.port}"

    def healthy(self) -> bool:
        return http_status(LOOPBACK, self.healthz_port, "/healthz") == 200

    def wait_healthy(self) -> None:
        """Return once /healthz answers 200; a one-line StackError naming the log if it exits or never does."""
        wait_until(lambda: not self.process.alive() or self.healthy(), self.startup_timeout, interval=0.1)
        if self.process.alive() and self.healthy():
            return
        if self.process.alive():
            state = f"was not healthy within {self.startup_timeout:.0f}s"
        else:
            state = f"exited during start-up (code {self.process.process.returncode})"
        fatal = [line for line in self.process.log_tail(50).splitlines() if "level=fatal" in line]
        why = ""
        if fatal:
            found = re.search(r'msg="((?:[^"\\]|\\.)*)"', fatal[-1])
            why = ": " + (found.group(1) if found else fatal[-1]).replace("\\n", "; ")
        raise StackError(f"Dapr's {self.name} {state}{why} (its log: {self.log_path})")


def wait_ready_line(process: ManagedProcess, timeout: float) -> str | None:
    """What follows `READY ` in the process's log (the URL our node servers print once they listen),
    waiting up to `timeout` seconds; None if the process exits or never says it."""
    said: list[str] = []

    def ready() -> bool:
        for line in process.log_tail(50).splitlines():
            if line.startswith("READY "):
                said.append(line.split(" ", 1)[1].strip())
                return True
        return not process.alive()

    wait_until(ready, timeout)
    return said[0] if said else None
