"""The Textual app: store list, partition browser and key editor over one explorer session, and
from the browser the workflows view (instances, timelines), the actors view and the dapr-agents
views (teams, runs, conversations) of a store.

The first paint needs only the component files (YAML): the Cosmos SDK, the
Dapr client and gRPC are imported in a thread after the store list is on
screen, then the session opens in a worker. Widgets only render and post
messages; every sidecar and Cosmos call runs in a worker, so the UI never
waits on the network. Never shows a resolved secret.

On a named context (explorer.session.contexts) the browser's first line is the context in its own colour; the
command palette switches contexts (the old session closes, the new one opens); in a production
context opened with --allow-writes every save and delete first asks for the context's name
(`guard_write`). Screens never reach up for these: each is handed a `ScreenContext` as it opens.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from explorer.components.files import load_resources
from explorer.core.component_model import Component
from explorer.resources import styles_dir
from explorer.tui.context import ContextBar, InContext, ScreenContext

if TYPE_CHECKING:
    from explorer.session.contexts import Prepared
    from explorer.core.contexts import Context, ContextTable

STYLES = styles_dir()


def not_typed(name: str) -> str:
    """Why a write was not sent: the production context's name was not typed."""
    return f"the context's name was not typed: nothing was sent to production context {name}"


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
        prepared: Prepared | None = None,
        contexts: ContextTable | None = None,
        flags: tuple[bool, bool] = (False, False),
    ):
        """`prepared`: the named context the session opens on (explorer.session.contexts.prepare; its resources,
        sidecars, tokens, CA and write policy win over the arguments above); `contexts`: every context the
        command palette may switch to; `flags`: (--read-only, --allow-writes), applied to each context
        switched to."""
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
        self.session = None  # explorer.session.explorer_session.ExplorerSession, once open
        self.component_problems = list(component_problems)  # one line each: files that could not be used
        self.api_tokens: dict[str, str] = {}  # sidecar address -> its own token (a context's)
        self.context: Context | None = None
        self.read_only_reason: str | None = "started with --read-only" if read_only else None
        self.confirm_name: str | None = None  # a production context's name, typed before every write
        self.prepared: Prepared | None = None
        self.contexts = contexts
        self._flags = flags
        if prepared is not None:
            self._use(prepared)
        if self.read_only:
            self.sub_title = "read-only"

    def _use(self, prepared: Prepared) -> None:
        """Take a context's settings: what the next session opens with, and whether it may write."""
        self.prepared = prepared
        self.context = prepared.context
        self.resources_paths = list(prepared.resources_paths)
        self.sidecar_addresses = list(prepared.addresses)
        self.api_token = prepared.api_token
        self.api_tokens = dict(prepared.api_tokens)
        self.ca_file = prepared.ca_file
        self.read_only = prepared.policy.read_only
        self.read_only_reason = prepared.policy.reason
        self.confirm_name = prepared.policy.confirm_name
        self.sub_title = " · ".join(p for p in (prepared.context_name, "read-only" if self.read_only else "") if p)

    def screen_context(self) -> ScreenContext:
        """What every screen is handed as it opens: whether and why the session is read-only, the header
        line of the context in use (in its own colour; None: no context), and this app's write guard."""
        from explorer.core.contexts import header_colours

        bar = None
        if self.context is not None:
            context = self.context
            parts = [f"context {context.name}"]
            if context.production:
                parts.append("PRODUCTION")
            if self.read_only:
                parts.append("read-only")
            elif self.confirm_name:
                parts.append("every write asks for the context's name")
            if context.description:
                parts.append(context.description)
            bar = ContextBar(" · ".join(parts), header_colours(context.color, context.production))
        return ScreenContext(self.read_only, self.read_only_reason, bar, self)

    def push_screen(self, screen, *args, **kwargs):
        """Every screen that draws or obeys the context is handed it as it opens, whoever opens it."""
        if isinstance(screen, InContext):
            screen.context = self.screen_context()
        return super().push_screen(screen, *args, **kwargs)

    def switch_screen(self, screen):
        if isinstance(screen, InContext):
            screen.context = self.screen_context()
        return super().switch_screen(screen)

    def initial_stores(self):
        """What the component files alone say: drawn before any SDK is loaded."""
        from explorer.session.stores import match_stores

        return match_stores(self.components, [])

    def on_mount(self) -> None:
        from explorer.tui.screens.browser import Browser

        self.push_screen(Browser())
        for problem in self.component_problems:
            self.notify(problem, title="Component file not used", severity="warning", timeout=30)
        self.call_after_refresh(self.connect)

    @property
    def audit_log(self):
        """The session's audit log (it owns the one its writes go to); before a session is open, the
        file it would write."""
        from explorer.session.audit_log import AuditLog

        return self.session.audit if self.session is not None else AuditLog()

    @property
    def browser(self):
        from explorer.tui.screens.browser import Browser

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
                await asyncio.to_thread(importlib.import_module, "explorer.session.explorer_session")
                from explorer.session.explorer_session import ExplorerSession

                self.session = await ExplorerSession.open(
                    self.resources_paths, self.sidecar_addresses, self.api_token, self.read_only, self.ca_file,
                    start_sidecars=self.start_sidecars, daprd=self.daprd, on_sidecar_started=self._sidecar_started,
                    api_tokens=self.api_tokens, context_name=self.context.name if self.context else None,
                    ru_per_second=self.prepared.ru_per_second if self.prepared else None,
                    token_variables=self.prepared.token_variables if self.prepared else None)
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
        from explorer.tui.dialogs import Help

        rows = []
        for key, active in screen.active_bindings.items():
            if active.enabled and active.binding.description:
                rows.append((active.binding.key_display or key, active.binding.tooltip or active.binding.description))
        reason = (f"read-only session ({self.read_only_reason}): edit and delete are not available"
                  if self.read_only else None)
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
        current = self.context.name if self.context else None
        for name in self.contexts.names() if self.contexts is not None else ():
            if name != current:
                yield SystemCommand(f"Context: {name}", f"close this session and open context {name}",
                                    partial(self.switch_context, name))

    # -- contexts: switching, and the typed name before a production write ------------------------------

    @work(exclusive=True, group="switch")
    async def switch_context(self, name: str) -> None:
        """Close this session and open context `name` (read afresh: a stack may have stopped meanwhile);
        on a failure, or while a key is being edited, the current session stays."""
        import asyncio

        from explorer.session.contexts import load_table, prepare
        from explorer.errors import describe
        from explorer.tui.screens.browser import Browser

        if any(getattr(screen, "editing", False) for screen in self.screen_stack):
            self.notify("finish or cancel the edit (esc) first: switching closes this session", severity="warning")
            return
        read_only, allow_writes = self._flags
        try:
            table = await asyncio.to_thread(load_table, None, False)
            context = table.pick(name)
            prepared = await asyncio.to_thread(prepare, context, read_only=read_only, allow_writes=allow_writes)
        except Exception as exc:  # noqa: BLE001 - one line; the session shown stays open
            self.notify(describe(exc), title=f"Context {name} not opened", severity="error", timeout=15)
            return
        self.workers.cancel_group(self, "session")
        old_session, self.session = self.session, None
        if old_session is not None:
            await old_session.close()
        if self.prepared is not None:
            self.prepared.close()
        prepared.apply()
        self.contexts = table
        self._use(prepared)
        loaded = await asyncio.to_thread(load_resources, prepared.resources_paths)
        self.components = list(loaded.components)
        self.component_problems = [str(p) for p in loaded.problems]
        while len(self.screen_stack) > 2:
            self.pop_screen()
        await self.switch_screen(Browser())
        for problem in self.component_problems:
            self.notify(problem, title="Component file not used", severity="warning", timeout=30)
        self.notify(f"context {name}" + (" (read-only)" if self.read_only else ""), title="Context switched")
        self.call_after_refresh(self.connect)

    def guard_write(self, what: str, then: Callable[[], None], refused: Callable[[str], None]) -> None:
        """Run `then` (which sends a write) at once, or — in a production context opened with
        --allow-writes — only once the context's name is typed in a dialog; else `refused(why)`."""
        name = self.confirm_name
        if not name:
            then()
            return
        from explorer.tui.dialogs import TypeContextName

        self.push_screen(TypeContextName(name, what), lambda ok: then() if ok else refused(not_typed(name)))

    def close_context(self) -> None:
        """Restore the environment and remove the temporary files of the context in use."""
        if self.prepared is not None:
            self.prepared.close()

    async def on_unmount(self) -> None:
        if self.session is not None:
            await self.session.close()
