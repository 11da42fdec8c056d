"""Everything one explorer session talks to: component files, Cosmos accounts, sidecars.

What it is for: turning command-line options into typed handles — a
`StoreLocation` and a `CosmosLister` per Cosmos store, a `SidecarClient` per
reachable sidecar keyed by its app-id, and the gateway type the mode allows
(read-only has no write methods).

What it must never do: print or log a resolved url key or token; errors name
the component, field and variable, never the value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from explorer.components import Component, Resolver, load_components
from explorer.core.envelope import KeyPrefix
from explorer.cosmos_lister import CosmosLister
from explorer.errors import ComponentError, ExplorerError
from explorer.gateway import ReadOnlyGateway, StoreLocation, WritableGateway
from explorer.sidecar import SidecarClient, SidecarError, SidecarMetadata
from explorer.stores import Store, match_stores


class UnknownStore(ExplorerError):
    exit_code = 3


@dataclass
class Workspace:
    components: list[Component]
    read_only: bool = False
    ca_file: str | None = None
    sidecars: dict[str, SidecarClient] = field(default_factory=dict)
    sidecar_metadata: list[SidecarMetadata] = field(default_factory=list)
    sidecar_problems: list[str] = field(default_factory=list)
    _listers: dict[str, CosmosLister] = field(default_factory=dict)

    @property
    def resolver(self) -> Resolver:
        return Resolver(self.components)

    def stores(self) -> list[Store]:
        return match_stores(self.components, self.sidecar_metadata)

    def component(self, store: str) -> Component:
        for comp in self.components:
            if comp.name == store and comp.is_state_store:
                return comp
        names = ", ".join(c.name for c in self.components if c.is_state_store) or "none"
        raise UnknownStore(f"no state store named {store!r} in the component files (found: {names}).")

    def cosmos_component(self, store: str) -> Component:
        comp = self.component(store)
        if not comp.is_cosmos:
            raise ExplorerError(f"store {store!r} is {comp.type}; only state.azure.cosmosdb stores can be browsed.")
        return comp

    def lister(self, store: str) -> CosmosLister:
        comp = self.cosmos_component(store)
        url = self.resolver.resolve(comp, "url")
        key = self.resolver.resolve(comp, "masterKey", required=False)
        if not key:
            raise ComponentError(
                f"component {comp.name}: no masterKey; Azure AD sign-in is not supported yet. Give masterKey via secretKeyRef or envRef."
            )
        if url not in self._listers:
            self._listers[url] = CosmosLister(url, key, self.ca_file)
        return self._listers[url]

    async def location(self, store: str) -> StoreLocation:
        comp = self.cosmos_component(store)
        database, container = comp.plain("database"), comp.plain("collection")
        if not database or not container:
            raise ComponentError(f"component {comp.name}: 'database' and 'collection' must be plain values in {comp.source}.")
        info = await self.lister(store).container_info(database, container)
        return StoreLocation(store, database, container, KeyPrefix.from_metadata(comp.plain("keyPrefix")), info.default_ttl)

    def gateway(self, store: str) -> ReadOnlyGateway:
        kind = ReadOnlyGateway if self.read_only else WritableGateway
        return kind(self.lister(store), self.sidecars)

    def default_app_id(self) -> str | None:
        return next(iter(self.sidecars), None) if len(self.sidecars) == 1 else None

    async def close(self) -> None:
        for lister in self._listers.values():
            await lister.close()
        for client in self.sidecars.values():
            await client.close()


async def open_workspace(
    resources_paths: Sequence[Path],
    sidecar_addresses: Sequence[str] = (),
    api_token: str | None = None,
    read_only: bool = False,
    ca_file: str | None = None,
) -> Workspace:
    """Load component files and connect to every sidecar that answers (others are noted, not fatal)."""
    workspace = Workspace(load_components(resources_paths), read_only=read_only, ca_file=ca_file)
    for address in sidecar_addresses:
        client = SidecarClient(address, api_token=api_token, timeout=5)
        try:
            meta = await client.metadata()
        except SidecarError as exc:
            workspace.sidecar_problems.append(f"{address}: {exc}")
            await client.close()
            continue
        workspace.sidecar_metadata.append(meta)
        workspace.sidecars[meta.app_id] = client
    return workspace
