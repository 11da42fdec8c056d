"""Start, provision and stop the local stack: a Cosmos-compatible server and real daprd sidecars.

Every process listens on loopback on a port chosen at start (parallel stacks do
not collide), keeps its log in the run folder, and is stopped on exit, Ctrl-C
or a failing test. The containers are created from the component files in the
resources path: partitioned on /partitionKey, as Dapr requires. For outage
tests, one daprd or the server can be stopped and started again on its old
ports, so clients that know the address reconnect without being told.

Never prints the account key; `LocalStack.client_env()` hands it to children
through the environment only.
"""

from __future__ import annotations

import atexit
import base64
import http.client
import os
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from explorer.components import Component, load_components
from explorer.errors import StackError
from explorer.localstack.processes import ManagedProcess, free_port, wait_until
from explorer.localstack.tls import LocalCertificates, make_certificates

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = REPO_ROOT / "stack"
DEFAULT_RESOURCES = REPO_ROOT / "components"
LOCAL_TTL_ANNOTATION = "dapr-explorer.dev/local-container-default-ttl"
PARTITION_KEY_PATH = "/partitionKey"

#: The apps whose sidecars the demo and the tests run, and the store each owns.
DEFAULT_APPS = ("order-processor", "agent-registry", "chat-api")


@dataclass(frozen=True)
class CosmosEndpoint:
    url: str
    master_key: str
    ca_file: Path

    def __repr__(self) -> str:  # keep the key out of tracebacks and logs
        return f"CosmosEndpoint(url={self.url!r}, master_key='••••••', ca_file={str(self.ca_file)!r})"


@dataclass
class Sidecar:
    app_id: str
    grpc_port: int
    http_port: int
    process: ManagedProcess

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


@dataclass(frozen=True)
class ContainerSpec:
    store: str
    database: str
    container: str
    default_ttl: int | None


def container_specs(components: Iterable[Component]) -> list[ContainerSpec]:
    """The Cosmos containers the Cosmos state stores in `components` need."""
    specs = []
    for comp in components:
        if not comp.is_cosmos:
            continue
        database, container = comp.plain("database"), comp.plain("collection")
        if not database or not container:
            raise StackError(f"component {comp.name} ({comp.source}) needs plain 'database' and 'collection' values")
        ttl_text = comp.annotations.get(LOCAL_TTL_ANNOTATION)
        specs.append(ContainerSpec(comp.name, database, container, int(ttl_text) if ttl_text is not None else None))
    return specs


def find_daprd(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--daprd / DAPR_EXPLORER_DAPRD, else the cached build from stack/build-daprd.sh (building it if needed)."""
    candidate = explicit or os.environ.get("DAPR_EXPLORER_DAPRD")
    if candidate:
        path = Path(candidate)
        if not path.is_file():
            raise StackError(f"daprd not found at {path}. Pass a daprd binary, or unset DAPR_EXPLORER_DAPRD to build one.")
        return path
    script = STACK_DIR / "build-daprd.sh"
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True)
    if result.returncode != 0:
        raise StackError(f"building daprd failed (bash {script}):\n{result.stderr.strip()[-2000:]}")
    return Path(result.stdout.strip().splitlines()[-1])


class LocalStack:
    """The whole local stack; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        resources_path: Path = DEFAULT_RESOURCES,
        app_ids: Sequence[str] = DEFAULT_APPS,
        run_dir: Path | None = None,
        daprd: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
    ):
        self.resources_path = Path(resources_path)
        self.app_ids = tuple(app_ids)
        self._own_run_dir = run_dir is None
        self.run_dir = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="dapr-explorer-stack-"))
        self._daprd_arg = daprd
        self.startup_timeout = startup_timeout
        self.components = load_components([self.resources_path])
        self.cosmos: CosmosEndpoint | None = None
        self.sidecars: dict[str, Sidecar] = {}
        self._server: ManagedProcess | None = None
        self._daprd: Path | None = None
        self._server_starts = 0
        self._certs: LocalCertificates | None = None
        self._lock = threading.Lock()
        self._stopped = False

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        atexit.register(self.stop)
        try:
            self._daprd = find_daprd(self._daprd_arg)
            self._certs = make_certificates(self.run_dir / "tls")
            self._start_server()
            self.provision()
            for app_id in self.app_ids:
                self._start_sidecar(self._daprd, app_id)
            for app_id in self.app_ids:
                self._wait_sidecar(self.sidecars[app_id])
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        for sidecar in self.sidecars.values():
            sidecar.process.stop()
        if self._server is not None:
            self._server.stop()
        atexit.unregister(self.stop)

    def processes(self) -> list[ManagedProcess]:
        procs = [s.process for s in self.sidecars.values()]
        return procs + ([self._server] if self._server else [])

    def remove_run_dir(self) -> None:
        if self._own_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    # -- environment handed to clients ---------------------------------------------------

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for anything that talks to this stack (daprd, the explorer, tests)."""
        if self.cosmos is None:
            raise StackError("the local stack is not started")
        env = dict(os.environ if base is None else base)
        env.update(
            COSMOS_URL=self.cosmos.url,
            COSMOS_MASTER_KEY=self.cosmos.master_key,
            SSL_CERT_FILE=str(self.cosmos.ca_file),
            REQUESTS_CA_BUNDLE=str(self.cosmos.ca_file),
        )
        return env

    def cosmos_client(self):
        """A synchronous azure-cosmos client for this stack's server (trusting its CA)."""
        from explorer.cosmos_connect import sync_client

        assert self.cosmos is not None
        return sync_client(self.cosmos.url, self.cosmos.master_key, str(self.cosmos.ca_file))

    # -- outages: take one piece away, bring it back where its clients expect it ------------

    def _check_running(self) -> None:
        if self.cosmos is None or self._stopped:
            raise StackError("the local stack is not running")

    def stop_server(self) -> None:
        """Stop the Cosmos-compatible server. It keeps its data in memory: that is gone too."""
        self._check_running()
        assert self._server is not None
        self._server.stop()

    def restart_server(self) -> None:
        """Start the server again on its old port (same URL, key and CA, so clients and sidecars
        reconnect by themselves) and create the containers again. They are empty: seed them."""
        self._check_running()
        assert self.cosmos is not None and self._server is not None
        old_url = self.cosmos.url
        self._server.stop()
        self._start_server(urlsplit(old_url).port or 0)
        if self.cosmos.url != old_url:  # cannot happen unless --port was ignored
            raise StackError(f"the Cosmos-compatible server came back at {self.cosmos.url}, not {old_url}")
        self.provision()

    def stop_sidecar(self, app_id: str) -> None:
        """Stop `app_id`'s daprd; `restart_sidecar` brings it back on the same ports."""
        self._check_running()
        self.sidecars[app_id].process.stop()

    def restart_sidecar(self, app_id: str) -> Sidecar:
        """Start `app_id`'s daprd again on its old gRPC and HTTP ports and wait until it is healthy,
        so a client that knows its address reconnects without being told."""
        self._check_running()
        assert self._daprd is not None
        old = self.sidecars[app_id]
        old.process.stop()
        self._start_sidecar(self._daprd, app_id, old.grpc_port, old.http_port)
        self._wait_sidecar(self.sidecars[app_id])
        return self.sidecars[app_id]

    # -- the Cosmos-compatible server ------------------------------------------------------

    def _start_server(self, port: int = 0) -> None:
        node = shutil.which("node")
        if node is None:
            raise StackError("Node.js is not installed; the local Cosmos-compatible server needs it (Debian: apt-get install nodejs npm).")
        script = STACK_DIR / "cosmos" / "server.js"
        if not (STACK_DIR / "cosmos" / "node_modules" / "@vercel" / "cosmosdb-server").is_dir():
            raise StackError(f"the Cosmos-compatible server is not installed; run: npm ci --prefix {STACK_DIR / 'cosmos'}")
        assert self._certs is not None
        self._server_starts += 1  # a log per start: READY is read from the new one only
        suffix = "" if self._server_starts == 1 else f".{self._server_starts}"
        self._server = ManagedProcess(
            "cosmosdb-server",
            [node, str(script), "--port", str(port), "--host", "127.0.0.1",
             "--cert", str(self._certs.cert_file), "--key", str(self._certs.key_file)],
            self.run_dir / f"cosmosdb-server{suffix}.log",
            env=os.environ,
        )
        url: list[str] = []

        def ready() -> bool:
            for line in self._server.log_tail(50).splitlines():
                if line.startswith("READY "):
                    url.append(line.split(" ", 1)[1].strip())
                    return True
            return not self._server.alive()

        wait_until(ready, self.startup_timeout)
        if not url:
            state = "exited" if not self._server.alive() else f"did not report READY within {self.startup_timeout:.0f}s"
            raise StackError(f"the Cosmos-compatible server {state}. Its log ({self._server.log_path}):\n{self._server.log_tail()}")
        # A restart keeps the key the sidecars were started with.
        key = self.cosmos.master_key if self.cosmos else base64.b64encode(secrets.token_bytes(64)).decode()
        self.cosmos = CosmosEndpoint(url[0], key, self._certs.ca_file)

    def provision(self) -> list[ContainerSpec]:
        """Create every database and container the component files name (idempotent)."""
        from azure.cosmos import PartitionKey

        specs = container_specs(self.components)
        client = self.cosmos_client()
        for spec in specs:
            database = client.create_database_if_not_exists(spec.database)
            kwargs = {"default_ttl": spec.default_ttl} if spec.default_ttl is not None else {}
            database.create_container_if_not_exists(
                id=spec.container, partition_key=PartitionKey(path=PARTITION_KEY_PATH), **kwargs
            )
        return specs

    # -- daprd ------------------------------------------------------------------------------

    def _start_sidecar(self, daprd: Path, app_id: str, grpc_port: int = 0, http_port: int = 0) -> None:
        """Start daprd for `app_id` on the given gRPC/HTTP ports (0: free ones)."""
        grpc_port, http_port = grpc_port or free_port(), http_port or free_port()
        internal_port, metrics_port = free_port(), free_port()
        argv = [
            str(daprd),
            "--app-id", app_id,
            "--mode", "standalone",
            "--resources-path", str(self.resources_path),
            "--dapr-listen-addresses", "127.0.0.1",
            "--dapr-grpc-port", str(grpc_port),
            "--dapr-http-port", str(http_port),
            "--dapr-internal-grpc-port", str(internal_port),
            "--metrics-port", str(metrics_port),
            "--enable-metrics=false",
            "--placement-host-address", "",
            "--scheduler-host-address", "",
            "--log-level", "info",
        ]
        process = ManagedProcess(
            f"daprd-{app_id}", argv, self.run_dir / f"daprd-{app_id}.log", env=self.client_env(), cwd=self.run_dir
        )
        self.sidecars[app_id] = Sidecar(app_id, grpc_port, http_port, process)

    def _wait_sidecar(self, sidecar: Sidecar) -> None:
        deadline = time.monotonic() + self.startup_timeout

        def healthy() -> bool:
            if not sidecar.process.alive():
                return True
            return _http_status("127.0.0.1", sidecar.http_port, "/v1.0/healthz") == 204

        wait_until(healthy, max(0.0, deadline - time.monotonic()), interval=0.1)
        if not sidecar.process.alive():
            raise StackError(
                f"daprd for {sidecar.app_id} exited during start-up (code {sidecar.process.process.returncode}). "
                f"Its log ({sidecar.process.log_path}):\n{sidecar.process.log_tail()}"
            )
        if _http_status("127.0.0.1", sidecar.http_port, "/v1.0/healthz") != 204:
            raise StackError(
                f"daprd for {sidecar.app_id} was not healthy within {self.startup_timeout:.0f}s. "
                f"Its log ({sidecar.process.log_path}):\n{sidecar.process.log_tail()}"
            )


def _http_status(host: str, port: int, path: str) -> int | None:
    conn = http.client.HTTPConnection(host, port, timeout=1)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    except OSError:
        return None
    finally:
        conn.close()
