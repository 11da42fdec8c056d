"""The Textual app. For now one screen: the store list (component files + sidecars).

Widgets only render and post messages; every sidecar call runs in a worker so
the UI never waits on the network. Never shows a resolved secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from explorer.components import Component
from explorer.stores import Store, match_stores

STYLES = Path(__file__).resolve().parent.parent / "styles"


class ExplorerApp(App):
    """dapr-explorer's terminal UI."""

    CSS_PATH = [STYLES / "app.tcss"]
    TITLE = "dapr-explorer"
    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(self, components: Sequence[Component], sidecar_addresses: Sequence[str] = (), read_only: bool = False):
        super().__init__()
        self.components = list(components)
        self.sidecar_addresses = list(sidecar_addresses)
        self.read_only = read_only
        self.stores: list[Store] = match_stores(self.components, [])

    def compose(self) -> ComposeResult:
        mode = "  [read-only]" if self.read_only else ""
        yield Static(f"dapr-explorer — state stores{mode}", id="title")
        yield DataTable(id="stores", cursor_type="row", zebra_stripes=True)
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#stores", DataTable)
        table.add_columns("Store", "Type", "Database/container", "Sidecar", "Capabilities")
        self._render_stores()
        self.action_refresh()

    def _render_stores(self) -> None:
        table = self.query_one("#stores", DataTable)
        table.clear()
        for store in self.stores:
            table.add_row(store.name, store.type, store.location, store.owner, " ".join(store.capabilities), key=store.name)

    def action_refresh(self) -> None:
        self.query_one("#status", Static).update(f"asking {len(self.sidecar_addresses)} sidecar(s)…")
        self.load_sidecars()

    @work(exclusive=True, group="sidecars")
    async def load_sidecars(self) -> None:
        from explorer.sidecar import SidecarClient, SidecarError

        found, problems = [], []
        for address in self.sidecar_addresses:
            async with SidecarClient(address, timeout=3) as client:
                try:
                    found.append(await client.metadata())
                except SidecarError as exc:
                    problems.append(f"{address}: {exc}")
        self.stores = match_stores(self.components, found)
        self._render_stores()
        status = f"{len(self.stores)} stores · {len(found)} sidecar(s) reachable"
        if problems:
            status += " · " + "; ".join(problems)
        self.query_one("#status", Static).update(status)
