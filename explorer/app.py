"""The Textual app: store list, partition browser and key editor over one explorer session, and
from the browser the workflows view (instances, timelines), the actors view and the dapr-agents
views (teams, runs, conversations) of a store.

The first paint needs only the component files (YAML): the Cosmos SDK, the
Dapr client and gRPC are imported in a thread after the store list is on
screen, then the session opens in a worker. Widgets only render and post
messages; every sidecar and Cosmos call runs in a worker, so the UI never
waits on the network. Never shows a resolved secret.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from pathlib import Path

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from explorer.components import Component
from explorer.resources import styles_dir

STYLES = styles_dir()


class ExplorerApp(App):
    """dapr-explorer's terminal UI."""

    CSS_PATH = [STYLES / "app.tcss", STYLES / "browser.tcss", STYLES / "editor.tcss", STYLES / "dialogs.tcss",
                STYLES / "workflows.tcss", STYLES / "agents.tcss"]
    TITLE = "dapr-explorer"
    BINDINGS = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
    ]

    def __init__(
        self,
        components: Sequence[Component],
        resources_paths: Sequence[Path],
        sidecar_addresses: Sequence[str] = (),
        read_only: bool = False,
        ca_file: str | None = None,
        api_token: str | None = None,
        daprd: str | None = None,
        start_sidecars: bool = True,
        clock: Callable[[], float] = time.time,
        session_factory: Callable[[ExplorerApp], Awaitable[object]] | None = None,
        component_problems: Sequence[str] = (),
    ):
        super().__init__()
        self.now = clock  # every countdown reads this one clock
        self._session_factory = session_factory
        self.components = list(components)
        self.resources_paths = list(resources_paths)
        self.sidecar_addresses = list(sidecar_addresses)
        self.read_only = read_only
        self.ca_file = ca_file
        self.api_token = api_token
        self.daprd = daprd
        self.start_sidecars = start_sidecars
        self.session = None  # explorer.session.ExplorerSession, once open
        self.component_problems = list(component_problems)  # one line each: files that could not be used
        if read_only:
            self.sub_title = "read-only"

    def initial_stores(self):
        """What the component files alone say: drawn before any SDK is loaded."""
        from explorer.stores import match_stores

        return match_stores(self.components, [])

    def on_mount(self) -> None:
        from explorer.widgets.browser import Browser

        self.push_screen(Browser())
        for problem in self.component_problems:
            self.notify(problem, title="Component file not used", severity="warning", timeout=30)
        self.call_after_refresh(self.connect)

    @property
    def browser(self):
        from explorer.widgets.browser import Browser

        for screen in self.screen_stack:
            if isinstance(screen, Browser):
                return screen
        return None

    @work(exclusive=True, group="session")
    async def connect(self) -> None:
        """Load the SDKs off the event loop, then open the session (sidecars + component resolution)."""
        import asyncio
        import importlib

        try:
            if self.session is None and self._session_factory is not None:
                self.session = await self._session_factory(self)
            elif self.session is None:
                await asyncio.to_thread(importlib.import_module, "explorer.session")
                from explorer.session import ExplorerSession

                self.session = await ExplorerSession.open(
                    self.resources_paths, self.sidecar_addresses, self.api_token, self.read_only, self.ca_file,
                    start_sidecars=self.start_sidecars, daprd=self.daprd, on_sidecar_started=self._sidecar_started)
            else:
                await self.session.reconnect_sidecars()
        except Exception as exc:  # noqa: BLE001 - shown on screen (r offered when retrying can help)
            if self.browser:
                self.browser.session_failed(exc)
            return
        if self.browser:
            self.browser.refresh_panes()

    def _sidecar_started(self, sidecar) -> None:
        """The session started a daprd of its own for an app-id with no reachable sidecar."""
        self.notify(f"started daprd for app-id {sidecar.app_id} on {sidecar.address} (stops on exit)",
                    title="Own sidecar")

    def reconnect(self) -> None:
        self.connect()

    def action_help_for(self, screen: Screen) -> None:
        from explorer.widgets.dialogs import Help

        rows = []
        for key, active in screen.active_bindings.items():
            if active.enabled and active.binding.description:
                rows.append((active.binding.key_display or key, active.binding.tooltip or active.binding.description))
        reason = "read-only session (--read-only): edit and delete are not available" if self.read_only else None
        self.push_screen(Help(screen.__class__.__name__, rows, reason))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Every action the screen offers, by name, in the command palette (ctrl+p)."""
        yield from super().get_system_commands(screen)
        seen = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            if not active.enabled or not binding.description or binding.action in seen:
                continue
            seen.add(binding.action)
            yield SystemCommand(binding.description, binding.tooltip or f"key: {binding.key}",
                                partial(active.node.run_action, binding.action))

    async def on_unmount(self) -> None:
        if self.session is not None:
            await self.session.close()
