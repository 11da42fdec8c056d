"""The store list: what component files declare, matched with what running sidecars registered.

What it is for: the session's `stores()`, and the app's first paint (the component files alone,
before any SDK is loaded). Pure: takes parsed components and sidecar metadata, returns the core's
`Store` rows. What it must never do: I/O, import the Dapr client at run time, or show a resolved
secret (only plain database/container names).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from explorer.core.component_model import Component
from explorer.core.listing import Store

if TYPE_CHECKING:  # the store list is drawn before the Dapr client (gRPC) is imported
    from explorer.dapr.sidecar import SidecarMetadata


def match_stores(components: Iterable[Component], sidecars: Iterable[SidecarMetadata]) -> list[Store]:
    """One row per state store, from either side; sorted by name."""
    sidecars = list(sidecars)
    rows: dict[str, Store] = {}
    for comp in components:
        if not comp.is_state_store:
            continue
        rows[comp.name] = Store(
            name=comp.name,
            type=comp.type,
            database=comp.plain("database"),
            container=comp.plain("collection"),
            capabilities=(),
            sidecars=(),
            declared_in=str(comp.source),
        )
    for meta in sidecars:
        for registered in meta.stores:
            known = rows.get(registered.name)
            if known is None:
                rows[registered.name] = Store(
                    registered.name, registered.type, None, None, registered.capabilities, (meta.app_id,), None
                )
            else:
                rows[registered.name] = Store(
                    known.name, known.type, known.database, known.container,
                    known.capabilities or registered.capabilities,
                    known.sidecars + (meta.app_id,), known.declared_in,
                )
    return [rows[name] for name in sorted(rows)]
