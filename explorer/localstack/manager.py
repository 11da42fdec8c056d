"""Start, provision and stop the local stack: a Cosmos-compatible server and real daprd sidecars.

Every process listens on loopback on a port chosen at start (parallel stacks do
not collide), keeps its log in the run folder, and is stopped on exit, Ctrl-C
or a failing test. A run folder the stack made itself is removed by `stop()`,
unless a start failed or a process died on its own: then it is kept if it holds
a log (`kept_logs`), and never left empty. The containers are created from the
component files in the resources path: partitioned on /partitionKey, as Dapr
requires. Every daprd is started by explorer.localstack.daprd (with
`--enable-api-logging` when `api_logging=True`). With `actors=True` the stack also runs
Dapr's placement and scheduler services (built by build-dapr-services.sh from the same
modules as daprd), on loopback, and connects every daprd to them: what actors and
workflows need; without it (the default) daprd runs with neither. With `apps=True`
(implies actors) it also runs the two real Dapr apps of explorer.localstack.apps beside
their sidecars — the workflow app as the `order-processor` sidecar's worker, the actor app
with a daprd of its own (`cart-service`, `--app-port`) — so the seeder can leave workflow
and actor state that daprd itself wrote; they run until the stack stops. For outage tests,
one daprd, placement, the scheduler or the server can be stopped and started again on its
old ports, so clients that know the address reconnect without being told.

With `entra=True` the stack runs in Entra ID mode (docs/local-stack.md "Entra ID mode"): a
stand-in managed identity endpoint (explorer.localstack.entra) starts first, the server refuses
keys and checks Entra ID tokens and data-plane roles, the containers are created by the server
itself (database and container writes are control plane there), the component files are
stack/entra/components/ (stores without a masterKey) unless `resources_path` is given, and every
daprd and client reaches the endpoint through IDENTITY_ENDPOINT / IDENTITY_HEADER — no key
anywhere.

Works from an installed package too (explorer.resources finds the stack's files):
the server's node packages, which a package cannot carry, are installed once with
`npm ci` into the user cache; daprd is built into the same cache by build-daprd.sh; the agents
app's venv is installed there once with pip, from stack/agents/requirements.txt.

Never prints the account key, a token or the identity header; `LocalStack.client_env()` hands
them to children through the environment only.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import explorer
from explorer.components.files import load_components
from explorer.core.component_model import Component
from explorer.errors import StackError
from explorer.localstack.apps import ACTOR_APP_ID, AGENTS_APP_ID, WORKFLOW_APP_ID
from explorer.localstack.entra import OTHER_IDENTITY_VARIABLES, Identity, TokenEndpoint, load_tenant, server_config
from explorer.localstack.daprd import LOOPBACK, Daprd, DaprdPorts, http_status, start_daprd
from explorer.localstack.processes import ManagedProcess, free_port, wait_ready_line, wait_until
from explorer.localstack.tls import LocalCertificates, make_certificates
from explorer.resources import (
    build_daprd_script,
    build_dapr_services_script,
    cache_dir,
    cosmos_server_sources,
    default_components_dir,
    entra_components_dir,
    stack_dir,
)

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
    daprd: Daprd

    @property
    def grpc_port(self) -> int:
        return self.daprd.ports.grpc

    @property
    def http_port(self) -> int:
        return self.daprd.ports.http

    @property
    def process(self) -> ManagedProcess:
        return self.daprd.process

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
    return _cached_build(build_daprd_script(), "daprd", 1)[0]


def find_dapr_services() -> tuple[Path, Path]:
    """placement and scheduler: the cached build from stack/build-dapr-services.sh (building what is missing)."""
    placement, scheduler = _cached_build(build_dapr_services_script(), "placement and scheduler", 2)
    return placement, scheduler


def _cached_build(script: Path, what: str, count: int) -> list[Path]:
    """Run one of the stack's build scripts (each prints the paths of its cached binaries, building
    what is missing) and return those paths; a StackError in one line when it says why it failed."""
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        said = result.stderr.strip().splitlines()
        prefix = f"{script.stem}: "
        if said and said[-1].startswith(prefix):  # the script's own diagnosis, last (no Go, a missing file, …)
            raise StackError(said[-1])
        raise StackError(f"building {what} failed (bash {script}):\n{result.stderr.strip()[-2000:]}")
    lines = result.stdout.strip().splitlines()
    if len(lines) < count:
        raise StackError(f"bash {script} printed {result.stdout!r}, not the path(s) of {what}")
    return [Path(line) for line in lines[-count:]]


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


#: What daprd logs when a port it was given is taken (it then exits at start).
PORT_TAKEN = ("could not listen on any endpoint", "address already in use")

#: The npm package of the Cosmos-compatible server (stack/cosmos/package.json).
COSMOS_SERVER_PACKAGE = "@vercel/cosmosdb-server"


def cosmos_server(environ: Mapping[str, str] | None = None) -> tuple[Path, dict[str, str]]:
    """server.js, and the environment node needs to find its packages.

    A checkout after `make install` has them in stack/cosmos/node_modules. Otherwise (an
    installed package) they are installed once into `<cache>/cosmos-server-<hash of
    package-lock.json>` and found through NODE_PATH; server.js runs from the package.
    """
    sources = cosmos_server_sources()
    if (sources / "node_modules" / COSMOS_SERVER_PACKAGE).is_dir():
        return sources / "server.js", {}
    return sources / "server.js", {"NODE_PATH": str(install_cosmos_server(sources, cache_dir(environ)))}


def install_cosmos_server(sources: Path, cache: Path) -> Path:
    """`npm ci` of the server's package-lock.json into the cache (once per lock file); its node_modules."""
    lock = (sources / "package-lock.json").read_bytes()
    target = cache / f"cosmos-server-{hashlib.sha256(lock).hexdigest()[:12]}"
    npm = shutil.which("npm")
    if npm is None and not (target / ".installed").is_file():
        raise StackError("npm is not installed; the local Cosmos-compatible server needs it once, to install its packages "
                         "(Debian: apt-get install nodejs npm).")

    def install(work: Path) -> None:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(sources / name, work / name)
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work,
                                capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0 or not (work / "node_modules" / COSMOS_SERVER_PACKAGE).is_dir():
            raise StackError(f"installing the Cosmos-compatible server's packages failed (npm ci into {target}): "
                             + _last_line(result))

    return install_once(target, install) / "node_modules"


def install_once(target: Path, install: Callable[[Path], None]) -> Path:
    """`target`, made once: `install(work)` fills a fresh partial folder beside it, which is then renamed
    into place, so a folder that is there (with its `.installed` mark) is always whole. A half-made
    folder of an older run is replaced; a parallel start that got there first wins."""
    if (target / ".installed").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    try:
        install(work)
        (work / ".installed").touch()
        if target.exists() and not (target / ".installed").is_file():
            shutil.rmtree(target, ignore_errors=True)  # a half-made folder from an older version of this code
        try:
            work.rename(target)
        except OSError:
            if not (target / ".installed").is_file():  # not a parallel start that got there first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _last_line(result: subprocess.CompletedProcess) -> str:
    """What a failed install said last (its error), for a one-line StackError."""
    said = (result.stderr.strip() or result.stdout.strip()).splitlines()
    return said[-1] if said else f"exit code {result.returncode}"


#: The Pythons dapr-agents 1.0.9 runs on (its Requires-Python: >=3.11,<3.14).
AGENTS_PYTHONS = ((3, 13), (3, 12), (3, 11))


def agents_python(environ: Mapping[str, str] | None = None) -> Path:
    """The interpreter of the dapr-agents app's own venv (stack/agents/requirements.txt), installed once
    into `<cache>/agents-venv-<hash of the requirements and the Python version>` (a minute, and
    ~550 MB, the first time; nothing after). Its own venv because dapr-agents 1.0.9 pins dapr < 1.19,
    which ours cannot hold."""
    requirements = agents_app_sources() / "requirements.txt"
    base, version = agents_base_python()
    digest = hashlib.sha256(requirements.read_bytes() + f"python {version}".encode()).hexdigest()[:12]
    target = cache_dir(environ) / f"agents-venv-{digest}"

    def install(work: Path) -> None:
        for argv in ([base, "-m", "venv", str(work)],
                     [str(work / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                      "--quiet", "-r", str(requirements)]):
            result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                raise StackError(f"installing the dapr-agents app's packages failed ({' '.join(argv[:3])} … into "
                                 f"{target}): {_last_line(result)}")

    return install_once(target, install) / "bin" / "python"


def agents_base_python() -> tuple[str, str]:
    """A Python dapr-agents runs on, and its version (major.minor): ours if it is one, else the newest
    python3.X on the PATH that is."""
    if sys.version_info[:2] in AGENTS_PYTHONS:
        return sys.executable, f"{sys.version_info[0]}.{sys.version_info[1]}"
    for major, minor in AGENTS_PYTHONS:
        found = shutil.which(f"python{major}.{minor}")
        if found:
            return found, f"{major}.{minor}"
    raise StackError("the dapr-agents app needs Python 3.11, 3.12 or 3.13 (dapr-agents 1.0.9 supports no other); "
                     f"this is Python {sys.version_info[0]}.{sys.version_info[1]} and none of python3.11–3.13 is on the PATH")


#: What the actor app hosts; its daprd's metadata lists them once it has asked the app.
ACTOR_TYPES = ("CartActor", "InventoryActor")
#: The module each of our apps runs as (`python -m`), by app id.
APP_MODULES = {WORKFLOW_APP_ID: "explorer.localstack.apps.workflow_app", ACTOR_APP_ID: "explorer.localstack.apps.actor_app"}


def agents_app_sources() -> Path:
    """stack/agents: the dapr-agents app (app.py) and its pinned requirements."""
    return stack_dir() / "agents"


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


class LocalStack:
    """The whole local stack; use as a context manager or call start()/stop()."""

    def __init__(
        self,
        resources_path: Path | None = None,
        app_ids: Sequence[str] = DEFAULT_APPS,
        run_dir: Path | None = None,
        daprd: str | os.PathLike[str] | None = None,
        startup_timeout: float = 60.0,
        api_tokens: Mapping[str, str] | None = None,
        api_logging: bool = False,
        actors: bool = False,
        apps: bool = False,
        entra: bool = False,
        token_lifetime: int = 3600,
    ):
        """`resources_path`: the component files (default: the package's, explorer.resources);
        `run_dir`: where logs and TLS files go (default: a temp folder made by start() and removed
        by stop()); `api_tokens`: app-id -> the DAPR_API_TOKEN that sidecar requires on every call (the
        others require none, whatever our environment holds; only sidecars without an app of the stack);
        `api_logging`: start every daprd with --enable-api-logging (a log line per call);
        `actors`: also run placement and scheduler and connect every daprd to them (actors, workflows);
        `apps`: also run the workflow app (needs `order-processor` in `app_ids`) and the actor app with
        its own `cart-service` daprd, so the seeder can drive them (implies `actors`), and the dapr-agents
        app beside `agent-registry` when that is in `app_ids` (`runs_agents`); `entra`: Entra ID mode (the
        module's docstring), its tokens valid `token_lifetime` seconds."""
        if entra and apps:
            raise StackError("the Entra ID mode runs no apps (their stores authenticate with keys): use entra=True without apps")
        if apps and WORKFLOW_APP_ID not in app_ids:
            raise StackError(f"apps=True runs the workflow app beside the {WORKFLOW_APP_ID} sidecar: "
                             f"add {WORKFLOW_APP_ID!r} to app_ids")
        self.entra = entra
        self.token_lifetime = token_lifetime
        if resources_path is not None:
            self.resources_path = Path(resources_path)
        else:
            self.resources_path = entra_components_dir() if entra else default_components_dir()
        self.app_ids = tuple(app_ids)
        self._own_run_dir = run_dir is None
        self._run_dir = Path(run_dir) if run_dir else None
        self.kept_logs: Path | None = None  # set by stop() when it kept a run folder of ours for its logs
        self._failed = False
        self._daprd_arg = daprd
        self.startup_timeout = startup_timeout
        self.api_logging = api_logging
        self.apps = apps
        self.actors = actors or apps
        self.api_tokens = dict(api_tokens or {})
        if apps and set(self.api_tokens) & {WORKFLOW_APP_ID, ACTOR_APP_ID, AGENTS_APP_ID}:
            raise StackError("api_tokens: a sidecar with an app of the stack beside it cannot require a token "
                             "(its app is not given one); secure a sidecar without an app, such as chat-api")
        self.placement: DaprService | None = None
        self.scheduler: DaprService | None = None
        self.components = load_components([self.resources_path])
        self.cosmos: CosmosEndpoint | None = None
        self.sidecars: dict[str, Sidecar] = {}
        self.app_processes: dict[str, AppProcess] = {}  # by app id, when apps=True
        self._app_ports: dict[str, int] = {}  # app id -> the port daprd calls its app on
        self._app_listener: socket.socket | None = None  # bound for the actor app until it has it
        self._agents_python: Path | None = None  # the agents app's venv interpreter, when it runs
        self._server: ManagedProcess | None = None
        self._daprd: Path | None = None
        self._server_starts = 0
        self._certs: LocalCertificates | None = None
        self._lock = threading.Lock()
        self._stopped = False
        self._tenant, self.identities = load_tenant()  # name -> Identity (used in Entra mode)
        self.token_endpoint: TokenEndpoint | None = None  # Entra mode, once started
        self._identity_env_saved: dict[str, str | None] | None = None  # os.environ before cosmos_client set it

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def run_dir(self) -> Path:
        """The folder of this stack's logs and TLS files (made by start() unless one was given)."""
        if self._run_dir is None:
            raise StackError("the local stack has no run folder before start()")
        return self._run_dir

    def start(self) -> LocalStack:
        atexit.register(self.stop)
        if self._run_dir is None:
            self._run_dir = Path(tempfile.mkdtemp(prefix="dapr-explorer-stack-"))
        try:
            self._daprd = find_daprd(self._daprd_arg)
            if self.runs_agents:  # before any process: the first install takes a minute
                self._agents_python = agents_python()
            if self.actors:  # started first: they come up while the server does
                placement, scheduler = find_dapr_services()
                self.placement = DaprService("placement", placement, self.run_dir, self.startup_timeout)
                self.scheduler = DaprService("scheduler", scheduler, self.run_dir, self.startup_timeout)
            self._certs = make_certificates(self.run_dir / "tls")
            if self.entra:
                self.token_endpoint = TokenEndpoint(self.run_dir, self.token_lifetime, self.startup_timeout)
            self._start_server()
            self.provision()
            for service in self.services():
                service.wait_healthy()
            for app_id in self.app_ids:
                self._start_sidecar(self._daprd, app_id)
            if self.runs_agents:  # its imports take seconds: they run while the rest comes up (it waits for its daprd)
                self._start_app(AGENTS_APP_ID)
            if self.apps:  # the actor app's daprd waits for the app's port before it loads actor types
                self._app_listener = bound_listener()
                self._app_ports[ACTOR_APP_ID] = self._app_listener.getsockname()[1]
                self._start_sidecar(self._daprd, ACTOR_APP_ID)
            for app_id in list(self.sidecars):
                self._wait_sidecar(app_id)
            if self.apps:
                self._start_apps()
        except Exception as exc:
            self._failed = True
            self.stop()
            if self.kept_logs is not None and str(self.kept_logs) not in str(exc):
                exc.add_note(f"The logs of this start are kept in {self.kept_logs}")
            raise
        except BaseException:  # Ctrl-C: nothing failed, nothing to keep
            self.stop()
            raise
        return self

    def stop(self, keep_logs: bool = False) -> None:
        """Stop every process; remove the run folder we made unless something failed (or `keep_logs`)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        died = any(p.exited_by_itself() for p in self.processes())
        for app in self.app_processes.values():  # first: a worker that loses its daprd only logs retries
            app.process.stop()
        if self._app_listener is not None:  # a start that failed before the app got it
            self._app_listener.close()
        for sidecar in self.sidecars.values():
            sidecar.process.stop()
        for service in self.services():
            service.process.stop()
        if self._server is not None:
            self._server.stop()
        if self.token_endpoint is not None:
            self.token_endpoint.process.stop()
        self._restore_identity_env()
        atexit.unregister(self.stop)
        self._tidy_run_dir(keep_logs=keep_logs or self._failed or died)

    def _tidy_run_dir(self, keep_logs: bool) -> None:
        """Remove the run folder if we made it; after a failure keep it if it holds a log."""
        if not self._own_run_dir or self._run_dir is None:
            return
        if keep_logs and any(log.stat().st_size for log in self._run_dir.glob("*.log")):
            self.kept_logs = self._run_dir
        else:
            shutil.rmtree(self._run_dir, ignore_errors=True)

    def processes(self) -> list[ManagedProcess]:
        procs = [a.process for a in self.app_processes.values()] + [s.process for s in self.sidecars.values()]
        procs += [s.process for s in self.services()]
        procs += [self.token_endpoint.process] if self.token_endpoint else []
        return procs + ([self._server] if self._server else [])

    def services(self) -> list[DaprService]:
        """placement and scheduler once started (actors=True), else none."""
        return [s for s in (self.placement, self.scheduler) if s is not None]

    def remove_run_dir(self) -> None:
        """Remove the run folder if we made it, logs and all (stop() keeps one only after a failure)."""
        if self._own_run_dir and self._run_dir is not None:
            shutil.rmtree(self._run_dir, ignore_errors=True)

    # -- environment handed to clients ---------------------------------------------------

    def client_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for anything that talks to this stack (daprd, the explorer, tests)."""
        if self.cosmos is None:
            raise StackError("the local stack is not started")
        env = dict(os.environ if base is None else base)
        env.update(
            COSMOS_URL=self.cosmos.url,
            SSL_CERT_FILE=str(self.cosmos.ca_file),
            REQUESTS_CA_BUNDLE=str(self.cosmos.ca_file),
        )
        if self.token_endpoint is None:
            env["COSMOS_MASTER_KEY"] = self.cosmos.master_key
            return env
        # Entra ID mode: no key at all; the App Service managed identity environment, and none of
        # another protocol's variables (azidentity and azure-identity would pick those first).
        for name in ("COSMOS_MASTER_KEY", *OTHER_IDENTITY_VARIABLES):
            env.pop(name, None)
        env.update(self.token_endpoint.env())
        return env

    def cosmos_client(self, identity: str = "contributor"):
        """A synchronous azure-cosmos client for this stack's server (trusting its CA): with the key, or
        in Entra ID mode as `identity` (azure-identity's ManagedIdentityCredential with its client id).
        That credential reads IDENTITY_ENDPOINT / IDENTITY_HEADER from os.environ at every token
        request, so in Entra mode this sets them in os.environ (one managed identity endpoint per
        process, as on Azure); stop() puts back what was there."""
        from explorer.backends.cosmos.connection import client_kwargs, sync_client

        assert self.cosmos is not None
        if self.token_endpoint is None:
            return sync_client(self.cosmos.url, self.cosmos.master_key, str(self.cosmos.ca_file))
        from azure.cosmos import CosmosClient
        from azure.identity import ManagedIdentityCredential

        if identity not in self.identities:
            raise StackError(f"the Entra stack has no identity {identity!r}; it has {', '.join(self.identities)}")
        self._apply_identity_env()
        credential = ManagedIdentityCredential(client_id=self.identities[identity].client_id)
        return CosmosClient(self.cosmos.url, credential=credential, **client_kwargs(str(self.cosmos.ca_file)))

    # -- Entra ID mode -----------------------------------------------------------------------

    def issued_tokens(self) -> dict[str, int]:
        """Entra mode: how many tokens the endpoint has issued per identity since it started."""
        return self._endpoint().issued()

    def mint_token(self, identity: str = "contributor", **claims: str | int) -> str:
        """Entra mode, negative tests: a token with chosen claims (TokenEndpoint.mint). Never print it."""
        return self._endpoint().mint(identity, **claims)

    def _endpoint(self) -> TokenEndpoint:
        if self.token_endpoint is None:
            raise StackError("this stack is not in Entra ID mode (start it with entra=True)")
        return self.token_endpoint

    def _apply_identity_env(self) -> None:
        assert self.token_endpoint is not None
        wanted = self.token_endpoint.env()
        if all(os.environ.get(k) == v for k, v in wanted.items()):
            return
        if self._identity_env_saved is None:
            self._identity_env_saved = {k: os.environ.get(k) for k in (*wanted, *OTHER_IDENTITY_VARIABLES)}
        for name in OTHER_IDENTITY_VARIABLES:
            os.environ.pop(name, None)
        os.environ.update(wanted)

    def _restore_identity_env(self) -> None:
        """Put back the variables cosmos_client() set, unless someone changed them since."""
        saved, self._identity_env_saved = self._identity_env_saved, None
        if saved is None or self.token_endpoint is None:
            return
        if any(os.environ.get(k) != v for k, v in self.token_endpoint.env().items()):
            return
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def _write_entra_config(self) -> Path:
        """The server's --entra config: the endpoint's key, the tenant, who holds which role, and the
        containers to create at boot (database and container writes are control plane in this mode)."""
        assert self.token_endpoint is not None
        containers: dict[tuple[str, str], dict] = {}  # two stores may share a container
        for spec in container_specs(self.components):
            containers.setdefault((spec.database, spec.container), {
                "database": spec.database, "container": spec.container, "partitionKeyPath": PARTITION_KEY_PATH,
                **({"defaultTtl": spec.default_ttl} if spec.default_ttl is not None else {})})
        path = self.run_dir / "entra-config.json"
        config = server_config(self.token_endpoint.public_key_file, self._tenant, self.identities.values(),
                               containers.values())
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

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
        self.sidecars[app_id].daprd.wait_healthy(self.startup_timeout, StackError)
        if app_id in self.app_processes:  # its app reconnects (worker stream) or is asked again (actor types)
            self.app_processes[app_id].sidecar = self.sidecars[app_id]
            self.app_processes[app_id].wait_ready(self.startup_timeout)
        return self.sidecars[app_id]

    def stop_placement(self) -> None:
        """Stop Dapr's placement service (actors=True); `restart_placement` brings it back on its ports."""
        self._service("placement").process.stop()

    def restart_placement(self) -> DaprService:
        """Start placement again on its old ports and wait for its /healthz; the sidecars reconnect
        by themselves (it keeps no state: they report their actor types again)."""
        return self._restart_service(self._service("placement"))

    def stop_scheduler(self) -> None:
        """Stop Dapr's scheduler (actors=True); `restart_scheduler` brings it back on its ports."""
        self._service("scheduler").process.stop()

    def restart_scheduler(self) -> DaprService:
        """Start the scheduler again on its old ports with its etcd data folder (what it stored stays)
        and wait for its /healthz; the sidecars reconnect by themselves (within seconds: their backoff)."""
        return self._restart_service(self._service("scheduler"))

    def _service(self, name: str) -> DaprService:
        self._check_running()
        service = self.placement if name == "placement" else self.scheduler
        if service is None:
            raise StackError(f"this stack runs no {name} (start it with actors=True)")
        return service

    def _restart_service(self, service: DaprService) -> DaprService:
        service.process.stop()
        service.start()
        service.wait_healthy()
        return service

    # -- the Cosmos-compatible server ------------------------------------------------------

    def _start_server(self, port: int = 0) -> None:
        node = shutil.which("node")
        if node is None:
            raise StackError("Node.js is not installed; the local Cosmos-compatible server needs it (Debian: apt-get install nodejs npm).")
        script, node_env = cosmos_server()
        assert self._certs is not None
        self._server_starts += 1  # a log per start: READY is read from the new one only
        suffix = "" if self._server_starts == 1 else f".{self._server_starts}"
        entra = ["--entra", str(self._write_entra_config())] if self.token_endpoint else []
        self._server = ManagedProcess(
            "cosmosdb-server",
            [node, str(script), "--port", str(port), "--host", "127.0.0.1",
             "--cert", str(self._certs.cert_file), "--key", str(self._certs.key_file), *entra],
            self.run_dir / f"cosmosdb-server{suffix}.log",
            env={**os.environ, **node_env},
        )
        url = wait_ready_line(self._server, self.startup_timeout)
        if not url:
            state = "exited" if not self._server.alive() else f"did not report READY within {self.startup_timeout:.0f}s"
            raise StackError(f"the Cosmos-compatible server {state}. Its log ({self._server.log_path}):\n{self._server.log_tail()}")
        # A restart keeps the key the sidecars were started with; Entra mode has none.
        if self.token_endpoint is not None:
            key = ""
        else:
            key = self.cosmos.master_key if self.cosmos else base64.b64encode(secrets.token_bytes(64)).decode()
        self.cosmos = CosmosEndpoint(url, key, self._certs.ca_file)

    def provision(self) -> list[ContainerSpec]:
        """Create every database and container the component files name (idempotent)."""
        from azure.cosmos import PartitionKey

        specs = container_specs(self.components)
        if self.token_endpoint is not None:  # the server made them at boot, from the config
            return specs
        client = self.cosmos_client()
        for spec in specs:
            database = client.create_database_if_not_exists(spec.database)
            kwargs = {"default_ttl": spec.default_ttl} if spec.default_ttl is not None else {}
            database.create_container_if_not_exists(
                id=spec.container, partition_key=PartitionKey(path=PARTITION_KEY_PATH), **kwargs
            )
        return specs

    # -- daprd ------------------------------------------------------------------------------

    def _wait_sidecar(self, app_id: str, attempts: int = 3) -> None:
        """Wait until `app_id`'s daprd (started on free ports) is healthy. A port is picked free a moment
        before daprd binds it, so another process can take it in between (seen once in CI: "failed to
        start HTTP server: could not listen on any endpoint"); such a daprd is started again on fresh
        ports (an app already started beside it is started again too), `attempts` times in all."""
        for attempt in range(1, attempts + 1):
            sidecar = self.sidecars[app_id]
            try:
                sidecar.daprd.wait_healthy(self.startup_timeout, StackError)
                return
            except StackError:
                said = sidecar.process.log_tail(20)
                if attempt == attempts or sidecar.process.alive() or not any(t in said for t in PORT_TAKEN):
                    raise
            assert self._daprd is not None
            self._start_sidecar(self._daprd, app_id)
            if app_id in self.app_processes:
                self.app_processes[app_id].process.stop()
                self._start_app(app_id)

    def _start_sidecar(self, daprd: Path, app_id: str, grpc_port: int = 0, http_port: int = 0) -> None:
        """Start daprd for `app_id` on the given gRPC/HTTP ports (0: free ones), requiring its token from
        `api_tokens` if it has one; wait_healthy() waits."""
        env = self.client_env()
        env.pop("DAPR_API_TOKEN", None)
        if self.api_tokens.get(app_id):
            env["DAPR_API_TOKEN"] = self.api_tokens[app_id]
        started = start_daprd(
            daprd, app_id, [self.resources_path], self.run_dir / f"daprd-{app_id}.log", env,
            ports=DaprdPorts.pick(grpc_port, http_port), api_logging=self.api_logging,
            placement_address=self.placement.address if self.placement else "",
            scheduler_address=self.scheduler.address if self.scheduler else "",
            app_port=self._app_ports.get(app_id, 0),
        )
        self.sidecars[app_id] = Sidecar(app_id, started)

    # -- the apps (apps=True) ------------------------------------------------------------------

    @property
    def runs_agents(self) -> bool:
        """Whether the stack runs the dapr-agents app: with the apps, when its sidecar is among ours."""
        return self.apps and AGENTS_APP_ID in self.app_ids

    def _start_apps(self) -> None:
        """Start the workflow and the actor app beside their (healthy) sidecars; wait until daprd reports
        every worker connected (the agents app's too, started with its sidecar) and the actor types hosted."""
        listener, self._app_listener = self._app_listener, None
        try:
            for app_id in APP_MODULES:
                self._start_app(app_id, listener if app_id == ACTOR_APP_ID else None)
        finally:
            if listener is not None:
                listener.close()  # the app has its own copy now
        for app in self.app_processes.values():
            app.wait_ready(self.startup_timeout)

    def _start_app(self, app_id: str, listener: socket.socket | None = None) -> None:
        self.app_processes[app_id] = AppProcess(app_id, app_argv(app_id, self._agents_python), self.sidecars[app_id],
                                                self.run_dir, listener)
