"""The local stack's Dapr apps as processes: the workflow app, the actor app and the dapr-agents app
(explorer.localstack.apps, stack/agents) beside their sidecars, and how to tell they are ready.

What it is for: `LocalStack(apps=True)` (explorer.localstack.manager) starts each app with `app_argv`
as an `AppProcess` pointed at its daprd's ports (the actor app on a socket bound for it before its
daprd started: `bound_listener`), and waits until daprd's metadata (`sidecar_metadata`) reports the
workflow worker connected or the actor types hosted.

What it must never do: give an app a secret on its command line, let it write to our terminal (its
output goes to `app-<app id>.log` in the run folder), or reach daprd anywhere but on loopback.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import explorer
from explorer.dapr.daprd import LOOPBACK, http_status
from explorer.dapr.processes import ManagedProcess, wait_until
from explorer.errors import StackError
from explorer.localstack.apps import ACTOR_APP_ID, AGENTS_APP_ID, WORKFLOW_APP_ID
from explorer.localstack.installs import agents_app_sources, agents_python
from explorer.localstack.specs import Sidecar


#: What the actor app hosts; its daprd's metadata lists them once it has asked the app.
ACTOR_TYPES = ("CartActor", "InventoryActor")
#: The module each of our apps runs as (`python -m`), by app id.
APP_MODULES = {WORKFLOW_APP_ID: "explorer.localstack.apps.workflow_app", ACTOR_APP_ID: "explorer.localstack.apps.actor_app"}


def app_argv(app_id: str, agents_interpreter: Path | None = None) -> list[str]:
    """How an app is started: ours as `python -m <module>` (APP_MODULES) on the interpreter we run on;
    the dapr-agents app as stack/agents/app.py on its own venv's (`agents_interpreter`, agents_python())."""
    if app_id == AGENTS_APP_ID:
        return [str(agents_interpreter or agents_python()), str(agents_app_sources() / "app.py")]
    return [sys.executable, "-m", APP_MODULES[app_id]]


class AppProcess:
    """One of the stack's Dapr apps (`argv`, see app_argv) beside its sidecar, its output in
    `app-<app id>.log` in the run folder. Ours run with our own package on their path, so a checkout
    and an installed wheel start the same code; the agents app gets no PYTHONPATH at all (its venv is
    its whole world)."""

    def __init__(self, app_id: str, argv: Sequence[str], sidecar: Sidecar, run_dir: Path,
                 listener: socket.socket | None = None):
        """`listener`: the socket bound for the app to listen on (the actor app), handed to it as
        APP_LISTEN_FD: bound since before its daprd started, so no other process can take the port."""
        self.app_id = app_id
        self.sidecar = sidecar
        self.app_port = listener.getsockname()[1] if listener is not None else 0
        env = dict(os.environ)
        env.update(DAPR_GRPC_PORT=str(sidecar.grpc_port), DAPR_HTTP_PORT=str(sidecar.http_port),
                   DAPR_RUNTIME_HOST=LOOPBACK, PYTHONUNBUFFERED="1")
        if app_id in APP_MODULES:
            package_root = str(Path(explorer.__file__).resolve().parent.parent)
            env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        else:
            env.pop("PYTHONPATH", None)
        for name in ("DAPR_GRPC_ENDPOINT", "DAPR_HTTP_ENDPOINT"):  # they would win over the ports above
            env.pop(name, None)
        fds: tuple[int, ...] = ()
        if listener is not None:
            env.update(APP_PORT=str(self.app_port), APP_LISTEN_FD=str(listener.fileno()))
            fds = (listener.fileno(),)
        self.process = ManagedProcess(f"app-{app_id}", argv, run_dir / f"app-{app_id}.log", env=env, cwd=run_dir,
                                      pass_fds=fds)

    def ready(self) -> bool:
        """What daprd says: the workflow worker connected, or the actor types hosted (and the app answering)."""
        meta = sidecar_metadata(self.sidecar.http_port)
        if meta is None:
            return False
        if not self.app_port:
            return ((meta.get("workflows") or {}).get("connectedWorkers") or 0) >= 1
        hosted = {a.get("type") for a in meta.get("actors") or []}
        runtime = meta.get("actorRuntime") or {}
        return (set(ACTOR_TYPES) <= hosted and runtime.get("placement") == "placement: connected"
                and http_status(LOOPBACK, self.app_port, "/healthz") == 200)

    def wait_ready(self, timeout: float) -> None:
        """Return once `ready()`; a StackError naming the app's log if it exits or is not ready in time."""
        wait_until(lambda: not self.process.alive() or self.ready(), timeout, interval=0.1)
        if self.process.alive() and self.ready():
            return
        state = (f"exited during start-up (code {self.process.process.returncode})" if not self.process.alive()
                 else f"was not ready within {timeout:.0f}s (daprd for {self.app_id} did not report it)")
        tail = self.process.log_tail(8)
        raise StackError(f"the {self.app_id} app {state}. Its log ({self.process.log_path})"
                         + (f" ends:\n{tail}" if tail else " is empty"))


def bound_listener() -> socket.socket:
    """A TCP socket bound to a free port on 127.0.0.1, not yet listening (connections are refused
    until the app that inherits it listens). Picking a port and binding it later would race every
    connection the machine makes meanwhile: the port can become one's local port (measured once in
    a full test run: the actor app's bind failed with "address already in use")."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    return listener


def sidecar_metadata(http_port: int) -> dict | None:
    """daprd's GET /v1.0/metadata, None when it does not answer (straight to loopback: no proxy)."""
    conn = http.client.HTTPConnection(LOOPBACK, http_port, timeout=2)
    try:
        conn.request("GET", "/v1.0/metadata")
        response = conn.getresponse()
        return json.loads(response.read()) if response.status == 200 else None
    except (OSError, ValueError):
        return None
    finally:
        conn.close()

