"""Start one daprd and wait until it is healthy: the one launcher behind the explorer's own sidecar
(explorer.dapr.own_sidecar) and the local dev stack's sidecars, which import it from here.

What it is for: the daprd command line (app-id, component folders, loopback listen
addresses, free ports, the placement and scheduler addresses — empty, i.e. none, unless the
stack runs them for actors and workflows —, the app's port on 127.0.0.1 when there is an app
that daprd calls, such as the stack's actor app, log level, optional configuration file,
optional `--enable-api-logging`), starting it as a `ManagedProcess` whose output goes to a
log file, and waiting for its outbound health (components loaded, APIs answering; no app
needed) with an error that says what happened and names the log file.

What it must never do: listen on anything but loopback, put a secret on the command line
(the Cosmos key and DAPR_API_TOKEN reach daprd through its environment only), or let daprd
write to our terminal.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from explorer.dapr.processes import ManagedProcess, free_port, wait_until

LOOPBACK = "127.0.0.1"
HEALTH_PATH = "/v1.0/healthz/outbound"


@dataclass(frozen=True)
class DaprdPorts:
    grpc: int
    http: int
    internal_grpc: int
    metrics: int

    @classmethod
    def pick(cls, grpc: int = 0, http: int = 0) -> DaprdPorts:
        """The given gRPC/HTTP ports (0: a free one each) and free internal-gRPC and metrics ports."""
        return cls(grpc or free_port(), http or free_port(), free_port(), free_port())


def daprd_argv(
    binary: Path,
    app_id: str,
    resources_paths: Sequence[Path],
    ports: DaprdPorts,
    *,
    config: Path | None = None,
    log_level: str = "info",
    api_logging: bool = False,
    placement_address: str = "",
    scheduler_address: str = "",
    app_port: int = 0,
) -> list[str]:
    """The command line of a standalone daprd on loopback only. `placement_address` and
    `scheduler_address` ("127.0.0.1:PORT") connect it to those services; empty (the default): none,
    so it runs without actors, workflows, reminders or jobs. `app_port`: the port its app listens on
    at 127.0.0.1 (HTTP), which daprd calls (actor hosts); 0 (the default): no app to call."""
    argv = [str(binary), "--app-id", app_id, "--mode", "standalone", "--log-level", log_level]
    if config is not None:
        argv += ["--config", str(config)]
    for path in resources_paths:
        argv += ["--resources-path", str(path)]
    argv += [
        "--dapr-listen-addresses", LOOPBACK, "--dapr-internal-grpc-listen-address", LOOPBACK,
        "--dapr-grpc-port", str(ports.grpc), "--dapr-http-port", str(ports.http),
        "--dapr-internal-grpc-port", str(ports.internal_grpc), "--metrics-port", str(ports.metrics),
        "--enable-metrics=false", "--placement-host-address", placement_address, "--scheduler-host-address", scheduler_address,
    ]
    # daprd waits until the app listens, then asks it for its actor types (GET /dapr/config); the app may
    # start after it (Dapr's Python actor SDK waits for daprd's outbound health before it registers actors).
    if app_port:
        argv += ["--app-port", str(app_port), "--app-channel-address", LOOPBACK, "--app-protocol", "http"]
    if api_logging:
        argv.append("--enable-api-logging")  # one log line per API call (the reliability script counts them)
    return argv


@dataclass
class Daprd:
    """One daprd started by `start_daprd`; `who` names it in errors ("daprd for orders")."""

    app_id: str
    ports: DaprdPorts
    process: ManagedProcess
    who: str

    def healthy(self) -> bool:
        return http_status(LOOPBACK, self.ports.http, HEALTH_PATH) == 204

    def wait_healthy(self, timeout: float, error: Callable[[str], Exception]) -> None:
        """Return once daprd is healthy; raise `error(message)` if it exits or is not healthy in time."""
        wait_until(lambda: not self.process.alive() or self.healthy(), timeout, interval=0.1)
        if self.process.alive() and self.healthy():
            return
        state = (f"exited during start-up (code {self.process.process.returncode})" if not self.process.alive()
                 else f"was not healthy within {timeout:.0f}s")
        raise error(f"{self.who} {state}. Its log ({self.process.log_path}):\n{self.why()}")

    def why(self) -> str:
        """The fatal lines of its log, else the error lines, else its last lines."""
        log = self.process.log_tail(200).splitlines()
        picked = [line for line in log if "level=fatal" in line] or [line for line in log if "level=error" in line]
        return "\n".join(picked[-5:]) or self.process.log_tail()


def start_daprd(
    binary: Path,
    app_id: str,
    resources_paths: Sequence[Path],
    log_path: Path,
    env: Mapping[str, str],
    *,
    who: str | None = None,
    ports: DaprdPorts | None = None,
    **flags: Any,
) -> Daprd:
    """Start daprd (not waiting for it; see `Daprd.wait_healthy`) in the log file's folder. `flags`:
    daprd_argv's keyword arguments (config, log_level, api_logging, placement_address,
    scheduler_address, app_port), passed on as they are.

    Call it from a long-lived thread: Linux sends PDEATHSIG when the thread that forked exits.
    """
    ports = ports or DaprdPorts.pick()
    argv = daprd_argv(binary, app_id, resources_paths, ports, **flags)
    process = ManagedProcess(log_path.stem, argv, log_path, env=env, cwd=log_path.parent)
    return Daprd(app_id, ports, process, who or f"daprd for {app_id}")


def http_status(host: str, port: int, path: str) -> int | None:
    """The status of GET http://host:port/path, None when nothing answers within a second."""
    conn = http.client.HTTPConnection(host, port, timeout=1)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()

