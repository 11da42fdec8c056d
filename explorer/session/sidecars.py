"""The session's sidecars, kept in one place: the client of each reachable sidecar by its app-id,
what each registered, why the others are not reachable, and which answered but refused.

What it is for: the workspace's gateways read the clients (kept, not copied: a sidecar connected or
started later is the one they use); the session asks every address again (`reconnect`), reads
through a sidecar once more on a new channel when it stopped answering (`read`), and picks one that
answers Dapr's query API (`query_sidecar`). What it must never do: send a write, go to another
address than it was given, or show a token (a refusal names the variable it is read from).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from explorer.dapr.sidecar import SidecarClient, SidecarMetadata
from explorer.errors import SidecarError, SidecarRefused, SidecarUnavailable


@dataclass(eq=False)
class Sidecars(Mapping[str, SidecarClient]):
    """The reachable sidecars by app-id (a read-only mapping of `clients`), and what is known of the rest."""

    clients: dict[str, SidecarClient] = field(default_factory=dict)
    metadata: list[SidecarMetadata] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # address -> the refusal of a sidecar that answered but refused (a wrong token): its app-id is unknown,
    # so while one refuses no write goes to a daprd of our own (it may be that app-id's sidecar)
    refusals: dict[str, SidecarRefused] = field(default_factory=dict)
    addresses: list[str] = field(default_factory=list)
    api_token: str | None = None
    api_tokens: dict[str, str] = field(default_factory=dict)  # address -> its own token (a context's)
    token_variables: dict[str, str] = field(default_factory=dict)  # address -> the variable its token is read from
    _connected: dict[str, str] = field(default_factory=dict)  # address -> app-id

    def __getitem__(self, app_id: str) -> SidecarClient:
        return self.clients[app_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.clients)

    def __len__(self) -> int:
        return len(self.clients)

    def __repr__(self) -> str:  # tokens stay out of tracebacks
        return f"Sidecars(addresses={self.addresses!r}, app_ids={sorted(self.clients)!r})"

    def loaded(self, store: str) -> list[SidecarMetadata]:
        """What each reachable sidecar that loaded `store` registered."""
        return [meta for meta in self.metadata
                if meta.app_id in self.clients and any(s.name == store for s in meta.stores)]

    async def reconnect(self) -> None:
        """Ask every sidecar address again; a sidecar that comes back is used without a restart."""
        self.problems.clear()
        self.refusals.clear()
        for address in self.addresses:
            app_id = self._connected.get(address)
            client = self.clients.get(app_id) if app_id else None
            if client is not None:
                try:
                    self._remember(await client.metadata())
                    continue
                except SidecarError:
                    pass  # down, or back but its channel still waits out gRPC's reconnect backoff
            try:
                await self._connect(address, replacing=client)
            except SidecarError as exc:
                if isinstance(exc, SidecarRefused):  # it answers: its app-id's writes wait for its token
                    exc = self.refusals[address] = exc.naming(self.token_variables.get(address))
                self.problems.append(f"{address}: {exc}")
                self.metadata = [m for m in self.metadata if m.app_id != app_id]

    def _remember(self, meta: SidecarMetadata) -> None:
        self.metadata = [m for m in self.metadata if m.app_id != meta.app_id] + [meta]

    async def _connect(self, address: str, replacing: SidecarClient | None = None) -> SidecarClient:
        """A new channel to `address`, used from now on under the app-id it reports (raises
        SidecarError if nothing answers). A client that stopped answering stays registered until
        a new one answers: writes then fail plainly instead of going elsewhere."""
        client = SidecarClient(address, api_token=self.api_tokens.get(address, self.api_token), timeout=5)
        try:
            meta = await client.metadata()
        except SidecarError:
            await client.close()
            raise
        self._remember(meta)
        self.clients[meta.app_id] = client
        self._connected[address] = meta.app_id
        self.problems[:] = [p for p in self.problems if not p.startswith(f"{address}: ")]
        self.refusals.pop(address, None)
        if replacing is not None and replacing is not client:
            await replacing.close()
        return client

    async def read(self, sidecar: SidecarClient, store: str, key: str, partition: str):
        """A read through `sidecar`; if it does not answer, once more on a new channel to its
        address (only reads are asked twice), so a sidecar that came back answers at once."""
        try:
            return await sidecar.get(store, key, {"partitionKey": partition})
        except SidecarUnavailable as exc:
            down = exc
        if sidecar.address not in self.addresses:  # not one we were given (the explorer's own daprd)
            raise down
        try:
            fresh = await self._connect(sidecar.address, replacing=sidecar)
        except SidecarError:
            raise down from None
        return await fresh.get(store, key, {"partitionKey": partition})

    def query_sidecar(self, store: str) -> SidecarClient:
        """A reachable sidecar that loaded `store` and says it supports Dapr's query API."""
        loaded = self.loaded(store)
        if not loaded:
            down = f" (not reachable: {self.problems[0]})" if self.problems else ""
            raise SidecarError(f"no reachable sidecar has loaded {store!r}{down}: start the app's sidecar, or pass "
                               "--dapr-grpc-port for one whose component files include the store.")
        for meta in loaded:
            capabilities = next(s.capabilities for s in meta.stores if s.name == store)
            if "QUERY_API" in capabilities:
                return self.clients[meta.app_id]
        raise SidecarError(f"the sidecar of {loaded[0].app_id} says {store!r} does not support Dapr's query API "
                           f"(its capabilities: {', '.join(next(s.capabilities for s in loaded[0].stores if s.name == store)) or 'none'}).")
