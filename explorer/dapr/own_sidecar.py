"""The explorer's own daprd, for writes to a store whose owning app has no sidecar running.

What it is for: writes must go through daprd so the document envelope stays
Dapr's own (the `<app-id>||` prefix, partitionKey, isBinary, ttl). When no
sidecar of the app that owns a key is reachable (and none refused the explorer's
token: explorer.session.workspace refuses the write then), `SidecarLauncher` starts a
daprd of our own for that app-id on the same component files — free loopback
ports, no app port, no placement or scheduler — waits until it is healthy and
hands back a connected `SidecarClient` (the command line, the start and the
health wait are explorer.dapr.daprd's, shared with the local stack).
Every daprd it started is stopped by `close()`; `PR_SET_PDEATHSIG`
(explorer.dapr.processes) makes them die with us even after kill -9.
`choose_app_id` picks the app-id: the key's own, or for keys that carry none
(keyPrefix name/none/custom) a fixed one that the component's `scopes:` allow.

The daprd binary: `--daprd` (or DAPR_EXPLORER_DAPRD), else ~/.dapr/bin/daprd
(the Dapr CLI's), else the local stack's cached build. It is never built here:
a cold build takes minutes and needs Go and the module proxy, which a write in
the CLI or a key press in the TUI must not wait on; `make daprd` builds it.

What it must never do: print or log a resolved secret (daprd resolves the
component's url and masterKey itself from the environment it inherits; its
output goes to a log file in a temp folder), listen on anything but loopback,
serve its API without a token (each daprd gets a random DAPR_API_TOKEN, so no
other local process can write through it), or outlive the explorer.

Start it from a long-lived thread (the event loop's): Linux sends
PDEATHSIG when the *thread* that forked the child exits, not only the process.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from explorer.core.component_model import Component
from explorer.core.envelope import KeyPrefix, KeyPrefixMode, StateKey
from explorer.errors import OwnSidecarError, ScopedAway
from explorer.dapr.daprd import Daprd, start_daprd
from explorer.dapr.processes import ManagedProcess
from explorer.dapr.sidecar import SidecarClient, SidecarMetadata
from explorer.resources import cache_dir, daprd_sources

#: The app-id of the explorer's own daprd for keys that carry no app-id (keyPrefix name/none/custom).
DEFAULT_APP_ID = "dapr-explorer"

#: Our daprd must not announce the app-id over mDNS (Dapr's standalone default): calls other apps
#: make to that app-id could reach it, and it has no app. The kubernetes resolver registers nothing
#: (our stack's daprd has no resolver at all and logs that, harmlessly).
_CONFIGURATION = """apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: dapr-explorer-own-sidecar
spec:
  nameResolution:
    component: kubernetes
"""


@dataclass(frozen=True)
class OwnSidecar:
    """One daprd the explorer started, and the client connected to it."""

    app_id: str
    namespace: str | None  # NAMESPACE it runs with: None = the explorer's own, "" = unset
    grpc_port: int
    http_port: int
    process: ManagedProcess
    client: SidecarClient
    metadata: SidecarMetadata

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def loaded(self, store: str) -> bool:
        return any(s.name == store for s in self.metadata.stores)


def choose_app_id(store: Component, components: Iterable[Component], key_app_id: str | None) -> str:
    """The app-id for the explorer's own daprd writing a key of `store`.

    A key with an app-id (keyPrefix appid/namespace) is written under that app-id
    or not at all. A key without one (name/none/custom) comes out the same under
    any app-id, so DEFAULT_APP_ID, unless `scopes:` on the store (or on the secret
    store its values come from) leave it out: then the first app-id every scoped
    component allows. daprd loads a scoped component only for the app-ids listed.
    """
    needed = [store]
    if store.secret_store:
        needed += [c for c in components if c.name == store.secret_store and c.is_secret_store]
    scoped = [c for c in needed if c.scopes]
    if key_app_id is not None:
        for comp in scoped:
            if key_app_id not in comp.scopes:
                raise ScopedAway(
                    f"component {comp.name} is scoped to {', '.join(comp.scopes)} ({comp.source}); daprd does not load it "
                    f"for app-id {key_app_id!r}, so no sidecar of that app can write this key. Add {key_app_id} to its scopes."
                )
        return key_app_id
    if not scoped:
        return DEFAULT_APP_ID
    allowed = [a for a in scoped[0].scopes if all(a in c.scopes for c in scoped[1:])]
    if not allowed:
        scopes = "; ".join(f"{c.name}: {', '.join(c.scopes)}" for c in scoped)
        raise ScopedAway(f"no app-id is in the scopes of every component store {store.name} needs ({scopes}), so no daprd can load it.")
    return DEFAULT_APP_ID if DEFAULT_APP_ID in allowed else allowed[0]


def _executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def cached_stack_daprd(environ: Mapping[str, str] | None = None) -> Path | None:
    """The local stack's cached daprd (stack/build-daprd.sh's cache layout), never building one.

    The build for the current inputs first (`<cache>/daprd/<version>-<hash>/daprd`, the
    hash over main.go, go.mod, go.sum and the stub, as the script computes it), else the
    newest cached build.
    """
    builds = cache_dir(environ) / "daprd"
    try:
        src = daprd_sources()
        version = re.search(r"^\s*github\.com/dapr/dapr\s+v(\S+)", (src / "go.mod").read_text(), re.MULTILINE)
        inputs = b"".join((src / name).read_bytes() for name in ("main.go", "go.mod", "go.sum", "stub/components.go"))
        if version:
            exact = builds / f"{version.group(1)}-{hashlib.sha256(inputs).hexdigest()[:12]}" / "daprd"
            if _executable(exact):
                return exact
    except (OSError, RuntimeError):
        pass  # the stack's sources are not here: any cached build will do
    cached = [p for p in builds.glob("*/daprd") if _executable(p)]
    return max(cached, key=lambda p: p.stat().st_mtime) if cached else None


def daprd_binary(explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Path:
    """`--daprd`, else ~/.dapr/bin/daprd, else the local stack's cached build; never builds one."""
    if explicit:
        path = Path(explicit).expanduser()
        if not _executable(path):
            raise OwnSidecarError(f"--daprd {path}: no executable file there. Pass the path of a daprd binary.")
        return path
    dapr_cli = Path.home() / ".dapr" / "bin" / "daprd"
    if _executable(dapr_cli):
        return dapr_cli
    cached = cached_stack_daprd(environ)
    if cached is not None:
        return cached
    raise OwnSidecarError(
        "no daprd binary to start a sidecar with: pass --daprd PATH, install Dapr (`dapr init` puts it in "
        "~/.dapr/bin/daprd), or build the local stack's with `make daprd` (a few minutes; needs Go)."
    )


class SidecarLauncher:
    """Starts at most one daprd per (app-id, namespace) and stops all of them on close()."""

    def __init__(
        self,
        resources_paths: Sequence[Path],
        daprd: str | os.PathLike[str] | None = None,
        ca_file: str | None = None,
        startup_timeout: float = 60.0,
        on_start: Callable[[OwnSidecar], None] | None = None,
    ):
        self.resources_paths = [Path(p).resolve() for p in resources_paths]  # daprd runs in the log folder
        self._daprd = daprd
        self._ca_file = ca_file
        self.startup_timeout = startup_timeout
        self.on_start = on_start
        self._started: dict[tuple[str, str | None], OwnSidecar] = {}
        self._processes: list[ManagedProcess] = []
        self._lock = asyncio.Lock()
        self._log_dir: Path | None = None
        self._keep_logs = False

    @property
    def started(self) -> list[OwnSidecar]:
        return list(self._started.values())

    async def sidecar(self, app_id: str, namespace: str | None = None) -> OwnSidecar:
        """The running daprd for `app_id`, started on first use.

        `namespace`: the NAMESPACE daprd runs with: None inherits ours, "" unsets it.
        """
        async with self._lock:
            found = self._started.get((app_id, namespace))
            if found is None:
                found = self._started[(app_id, namespace)] = await self._start(app_id, namespace)
                if self.on_start is not None:
                    self.on_start(found)
            return found

    async def for_key(self, store: Component, components: Iterable[Component], state_key: StateKey) -> OwnSidecar:
        """The daprd that writes `state_key` of `store` (app-id by `choose_app_id`), checked to have loaded it."""
        app_id = choose_app_id(store, components, state_key.app_id)
        namespace = None  # the NAMESPACE we run with: it changes ids only in namespace mode
        if KeyPrefix.from_metadata(store.plain("keyPrefix")).mode is KeyPrefixMode.NAMESPACE:
            namespace = state_key.namespace or ""  # "": the id has none (Dapr's appid fallback)
        own = await self.sidecar(app_id, namespace)
        if not own.loaded(store.name):
            loaded = ", ".join(s.name for s in own.metadata.stores) or "no state store"
            raise OwnSidecarError(
                f"the explorer's own daprd for app-id {app_id!r} did not load store {store.name!r} (it loaded: {loaded}); "
                f"check the component's scopes and {store.source}."
            )
        return own

    def owns(self, client: SidecarClient) -> bool:
        return any(own.client is client for own in self._started.values())

    async def _start(self, app_id: str, namespace: str | None) -> OwnSidecar:
        binary = daprd_binary(self._daprd)
        if self._log_dir is None:
            self._log_dir = Path(tempfile.mkdtemp(prefix="dapr-explorer-sidecar-"))
            (self._log_dir / "config.yaml").write_text(_CONFIGURATION)
        token = secrets.token_urlsafe(32)
        env = dict(os.environ, DAPR_API_TOKEN=token)
        if namespace is not None:
            env.pop("NAMESPACE", None)
            if namespace:
                env["NAMESPACE"] = namespace
        if self._ca_file:
            env["SSL_CERT_FILE"] = self._ca_file  # the CA the explorer trusts for Cosmos, for daprd's Go TLS too
        # Started here, on the event loop's thread: PDEATHSIG follows the thread that forks.
        name = f"daprd-{app_id}" + (f"-{namespace}" if namespace else "")
        daprd = start_daprd(
            binary, app_id, self.resources_paths, self._log_dir / f"{name}.log", env,
            who=f"the explorer's own daprd for app-id {app_id!r}", config=self._log_dir / "config.yaml",
        )
        self._processes.append(daprd.process)
        try:
            await asyncio.to_thread(daprd.wait_healthy, self.startup_timeout, OwnSidecarError)
            return await self._connect(namespace, daprd, token)
        except BaseException:  # failed or cancelled (the TUI's worker): this daprd is of no use
            self._keep_logs = True
            daprd.process.stop()
            raise

    async def _connect(self, namespace: str | None, daprd: Daprd, token: str) -> OwnSidecar:
        """Connect to the healthy `daprd` and read its metadata."""
        client = SidecarClient(f"127.0.0.1:{daprd.ports.grpc}", api_token=token)
        try:
            metadata = await client.metadata()
        except BaseException:
            await client.close()
            raise
        return OwnSidecar(daprd.app_id, namespace, daprd.ports.grpc, daprd.ports.http, daprd.process, client, metadata)

    async def close(self) -> None:
        """Close every client and stop every daprd this launcher started (TERM, then KILL)."""
        for own in self._started.values():
            await own.client.close()
        await asyncio.gather(*(asyncio.to_thread(p.stop) for p in self._processes))
        self._started.clear()
        self._processes.clear()
        if self._log_dir is not None and not self._keep_logs:
            shutil.rmtree(self._log_dir, ignore_errors=True)
            self._log_dir = None
