"""Everything one explorer session talks to: component files, Cosmos accounts, sidecars.

What it is for: turning command-line options into typed handles — a
`StoreLocation` and a `CosmosLister` per Cosmos store, a `SidecarClient` per
reachable sidecar keyed by its app-id, and the gateway type the mode allows
(read-only has no write methods). A writable workspace owns a
`SidecarLauncher`: when no reachable sidecar owns a key, its gateways start the
explorer's own daprd for that app-id (explorer.dapr.own_sidecar), registered in
`sidecars` (the one registry, explorer.session.sidecars) and stopped by `close()`. A read-only
workspace never starts one, and no workspace starts one while a sidecar it was given refuses it
(`sidecars.refusals`: a
wrong token hides that sidecar's app-id, so any write could be going around it).

A store whose component has a masterKey signs in with it; any other Cosmos
store signs in with Entra ID the way daprd does (explorer.core.azure_auth decides
the chain, explorer.backends.cosmos.entra_id builds it); `identity(store)` says which.

What it must never do: print or log a resolved url key or token; errors name
the component, field and variable, never the value.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from explorer.components.files import ComponentProblem, LoadedComponents, Resolver, load_resources
from explorer.core.component_model import Component
from explorer.core.azure_auth import AZURE_FIELDS, UNRESOLVED, AuthPlan, Kind, plan_auth
from explorer.core.envelope import KeyPrefix, StateKey
from explorer.core.doctor import CosmosFacts
from explorer.core.ru_budget import RuBudget
from explorer.backends.base import StoreBackend
from explorer.backends.cosmos.lister import CosmosLister
from explorer.errors import ComponentError, ExplorerError, NotFound, UnknownStore
from explorer.core.model import StoreLocation
from explorer.session.gateway import ReadOnlyGateway, WritableGateway
from explorer.session.sidecars import Sidecars
from explorer.backends.cosmos.entra_id import StoreCredential, credential_for
from explorer.dapr.own_sidecar import OwnSidecar, SidecarLauncher
from explorer.dapr.sidecar import SidecarClient
from explorer.core.listing import Store
from explorer.session.stores import match_stores


@dataclass
class Workspace:
    components: list[Component]
    read_only: bool = False
    ca_file: str | None = None
    sidecars: Sidecars = field(default_factory=Sidecars)  # the one registry of sidecars (explorer.session.sidecars)
    resources_paths: Sequence[Path] = ()  # default: the folders of the component files
    start_sidecars: bool = True  # start our own daprd for app-ids with no reachable sidecar
    daprd: str | None = None  # its binary (default: ~/.dapr/bin/daprd, else the local stack's cached build)
    on_sidecar_started: Callable[[OwnSidecar], None] | None = None  # read when the first one starts
    component_problems: Sequence[ComponentProblem] = ()  # files or components that could not be used
    ru_per_second: float | None = None  # every lister's RU budget for long operations (None: unpaced)
    _listers: dict[tuple, CosmosLister] = field(default_factory=dict)  # by account url and credential
    _credentials: dict[tuple, StoreCredential] = field(default_factory=dict)  # Entra ID ones, closed by close()
    # by store, once made: (lister, its Entra ID credential or None, the plan's description). A store's
    # url and sign-in are resolved once a session, as daprd resolves them once when it loads the
    # component; a bulk action's every write then costs no secret or environment look-up.
    _store_listers: dict[str, tuple[CosmosLister, StoreCredential | None, str]] = field(default_factory=dict)
    _gateways: dict[str, ReadOnlyGateway] = field(default_factory=dict)  # by store, once made
    _launcher: SidecarLauncher | None = None

    @property
    def resolver(self) -> Resolver:
        return Resolver(self.components)

    def stores(self) -> list[Store]:
        return match_stores(self.components, self.sidecars.metadata)

    def component(self, store: str) -> Component:
        for comp in self.components:
            if comp.name == store and comp.is_state_store:
                return comp
        problem = LoadedComponents(tuple(self.components), tuple(self.component_problems)).problem_for(store)
        if problem is not None:
            raise ComponentError(f"store {store!r} cannot be used: {problem}")
        names = ", ".join(c.name for c in self.components if c.is_state_store) or "none"
        unread = f"; {len(self.component_problems)} component file problem(s) reported above" if self.component_problems else ""
        raise UnknownStore(f"no state store named {store!r} in the component files (found: {names}{unread}).")

    def cosmos_component(self, store: str) -> Component:
        comp = self.component(store)
        if not comp.is_cosmos:
            raise ExplorerError(f"store {store!r} is {comp.type}; only state.azure.cosmosdb stores can be browsed.")
        return comp

    def auth_plan(self, store: str) -> AuthPlan:
        """How the store signs in, as daprd decides it: the masterKey when set (the Azure fields are then
        not resolved: Dapr never reads them), else Dapr's Entra ID chain from the resolved Azure fields and
        this process's environment."""
        comp = self.cosmos_component(store)
        key = self.resolver.resolve(comp, "masterKey", required=False)
        if key:
            names = {item.name: UNRESOLVED for item in comp.metadata if item.name.lower() in AZURE_FIELDS}
            return plan_auth(names, os.environ, master_key=key)
        values = {item.name: self.resolver.resolve(comp, item.name) or ""
                  for item in comp.metadata if item.name.lower() in AZURE_FIELDS}
        return plan_auth(values, os.environ)

    def lister(self, store: str) -> StoreBackend:
        """The store's backend (explorer.backends.base.StoreBackend): today a Cosmos DB lister, made once
        per account and credential."""
        known = self._store_listers.get(store)
        if known is not None:
            lister, entra, described = known
            # named in a refusal; an Entra ID one says who answered once a token was issued
            lister.identity = described if entra is None else entra.describe()
            return lister
        comp = self.cosmos_component(store)
        url = self.resolver.resolve(comp, "url")
        plan = self.auth_plan(store)
        if plan.kind is Kind.MASTER_KEY:
            assert plan.master_key is not None
            credential: str | StoreCredential = plan.master_key.reveal()
            try:
                base64.b64decode(credential)  # what the SDK does with it when it signs the first request
            except ValueError:
                raise ComponentError(f"component {comp.name}: masterKey is not a Cosmos DB account key (not base64). "
                                     f"Check the value it reads in {comp.source} (not shown).") from None
            slot: tuple = (url, plan.master_key)
        else:
            slot = (url, plan.steps)  # two stores on one account with two identities get two clients
            if slot not in self._credentials:
                self._credentials[slot] = credential_for(plan, comp.name)
            credential = self._credentials[slot]
        if slot not in self._listers:
            budget = RuBudget(self.ru_per_second) if self.ru_per_second else None
            self._listers[slot] = CosmosLister(url, credential, self.ca_file, budget=budget)
        lister = self._listers[slot]
        self._store_listers[store] = (lister, None if isinstance(credential, str) else credential, plan.describe())
        return self.lister(store)

    def identity(self, store: str) -> str:
        """Which identity the store signs in as, in one line (for the audit log and messages): "account
        key", or the Entra ID identity — the one that answered once a token was issued. Never a secret."""
        plan = self.auth_plan(store)
        if plan.kind is Kind.MASTER_KEY:
            return plan.describe()
        url = self.resolver.resolve(self.cosmos_component(store), "url")
        credential = self._credentials.get((url, plan.steps))
        return credential.describe() if credential is not None else plan.describe()

    async def cosmos_facts(self, component: Component) -> CosmosFacts | None:
        """What the account and container actually do for one store, for the doctor (None: not a
        Cosmos store with plain database/collection). Raises when the account cannot be asked."""
        database, container = component.plain("database"), component.plain("collection")
        if not component.is_cosmos or not database or not container:
            return None
        lister = self.lister(component.name)
        try:
            info = await lister.container_info(database, container)
        except NotFound:
            return CosmosFacts(container_found=False)
        return CosmosFacts(
            partition_key_paths=info.partition_key_paths,
            default_ttl=info.default_ttl,
            container_ttl_known=True,
            ttl_item_seen=await lister.item_with_ttl(database, container),
            account_consistency=await lister.account_consistency(),
            container_found=True,
            workflow_state_seen=await lister.workflow_state_sample(database, container),
            legacy_reminder_ids=await lister.legacy_reminder_ids(database, container),
        )

    async def location(self, store: str) -> StoreLocation:
        comp = self.cosmos_component(store)
        database, container = comp.plain("database"), comp.plain("collection")
        if not database or not container:
            raise ComponentError(f"component {comp.name}: 'database' and 'collection' must be plain values in {comp.source}.")
        info = await self.lister(store).container_info(database, container)
        return StoreLocation(store, database, container, KeyPrefix.from_metadata(comp.plain("keyPrefix")), info.default_ttl)

    def gateway(self, store: str) -> ReadOnlyGateway:
        """The store's gateway, made once (a bulk action asks for it every key); it sees this
        workspace's sidecars as they are now."""
        lister = self.lister(store)  # also brings the identity named in refusals up to date
        known = self._gateways.get(store)
        if known is None:
            if self.read_only:
                known = ReadOnlyGateway(lister, self.sidecars.clients)
            else:
                known = WritableGateway(lister, self.sidecars.clients, partial(self._own_sidecar, store) if self.start_sidecars
                                        else None, identity=partial(self.identity, store))
            self._gateways[store] = known
        return known

    async def _own_sidecar(self, store: str, state_key: StateKey) -> SidecarClient:
        """A sidecar for a key no reachable sidecar owns: a reachable one that writes the same id, else our own."""
        if state_key.app_id is None:  # no app-id in the id: any sidecar that loaded the store writes the same id
            loaded = self.sidecars.loaded(store)
            if loaded:
                return self.sidecars[loaded[0].app_id]
        for refusal in self.sidecars.refusals.values():  # a sidecar that answers is the only way to its app-id
            raise refusal.stopping_write(state_key.app_id)
        if self._launcher is None:
            paths = self.resources_paths or list(dict.fromkeys(c.source.parent for c in self.components))
            self._launcher = SidecarLauncher(paths, daprd=self.daprd, ca_file=self.ca_file, on_start=self.on_sidecar_started)
        own = await self._launcher.for_key(self.component(store), self.components, state_key)
        self.sidecars.clients.setdefault(own.app_id, own.client)
        return own.client

    def _is_own(self, client: SidecarClient) -> bool:
        return self._launcher is not None and self._launcher.owns(client)

    def default_app_id(self) -> str | None:
        reachable = [app_id for app_id, client in self.sidecars.items() if not self._is_own(client)]
        return reachable[0] if len(reachable) == 1 else None

    async def close(self) -> None:
        for lister in self._listers.values():
            await lister.close()
        for credential in self._credentials.values():
            await credential.close()
        for client in self.sidecars.values():
            if not self._is_own(client):
                await client.close()
        if self._launcher is not None:
            await self._launcher.close()


async def open_workspace(
    resources_paths: Sequence[Path],
    sidecar_addresses: Sequence[str] = (),
    api_token: str | None = None,
    read_only: bool = False,
    ca_file: str | None = None,
    start_sidecars: bool = True,
    daprd: str | None = None,
    on_sidecar_started: Callable[[OwnSidecar], None] | None = None,
    ru_per_second: float | None = None,
    api_tokens: Mapping[str, str] | None = None,
    token_variables: Mapping[str, str] | None = None,
) -> Workspace:
    """Load component files and connect to every sidecar that answers (others are noted, not fatal).
    A bad component file is noted in `component_problems`; the other components still load.

    `api_tokens`: address -> the token sent to that sidecar instead of `api_token`; `token_variables`:
    address -> the variable its token is read from, named when that sidecar refuses it;
    `start_sidecars`, `daprd`, `on_sidecar_started`: see `Workspace` (writable workspaces only);
    `ru_per_second`: the RU budget of every account's long operations (explorer.core.ru_budget).
    """
    loaded = load_resources(resources_paths)
    workspace = Workspace(list(loaded.components), read_only=read_only, ca_file=ca_file,
                          sidecars=Sidecars(addresses=list(sidecar_addresses), api_token=api_token,
                                            api_tokens=dict(api_tokens or {}),
                                            token_variables=dict(token_variables or {})),
                          resources_paths=tuple(resources_paths), start_sidecars=start_sidecars, daprd=daprd,
                          on_sidecar_started=on_sidecar_started, component_problems=loaded.problems,
                          ru_per_second=ru_per_second)
    await workspace.sidecars.reconnect()
    return workspace
