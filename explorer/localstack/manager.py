"""Start, provision and stop the local stack: a Cosmos-compatible server and real daprd sidecars.

Every process listens on loopback on a port chosen at start (parallel stacks do
not collide), keeps its log in the run folder, and is stopped on exit, Ctrl-C
or a failing test. A run folder the stack made itself is removed by `stop()`,
unless a start failed or a process died on its own: then it is kept if it holds
a log (`kept_logs`), and never left empty. The containers are created from the
component files in the resources path: partitioned on /partitionKey, as Dapr
requires. Every daprd is started by explorer.dapr.daprd (with
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

Works from an installed package too: what it runs is found in the user cache or made there once
(explorer.localstack.installs); its value types are explorer.localstack.specs', placement and the
scheduler explorer.localstack.services', the apps' processes explorer.localstack.app_processes'.

Never prints the account key, a token or the identity header; `LocalStack.client_env()` hands
them to children through the environment only.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import secrets
import shutil
import socket
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit

from explorer.components.files import load_components
from explorer.dapr.daprd import DaprdPorts, start_daprd
from explorer.dapr.processes import ManagedProcess
from explorer.errors import StackError
from explorer.localstack.app_processes import APP_MODULES, AppProcess, app_argv, bound_listener
from explorer.localstack.apps import ACTOR_APP_ID, AGENTS_APP_ID, WORKFLOW_APP_ID
from explorer.localstack.entra import OTHER_IDENTITY_VARIABLES, TokenEndpoint, load_tenant, server_config
from explorer.localstack.installs import agents_python, cosmos_server, find_dapr_services, find_daprd
from explorer.localstack.services import DaprService, wait_ready_line
from explorer.localstack.specs import PARTITION_KEY_PATH, ContainerSpec, CosmosEndpoint, Sidecar, container_specs
from explorer.localstack.tls import LocalCertificates, make_certificates
from explorer.resources import default_components_dir, entra_components_dir

#: The apps whose sidecars the demo and the tests run, and the store each owns.
DEFAULT_APPS = ("order-processor", "agent-registry", "chat-api")


#: What daprd logs when a port it was given is taken (it then exits at start).
PORT_TAKEN = ("could not listen on any endpoint", "address already in use")


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
