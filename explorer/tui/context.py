"""What a screen is handed as it opens: the context's header line, whether (and why) the session is
read-only, and the write guard — so no screen reaches up into the app for them.

`ExplorerApp` hands every `InContext` screen it pushes its `ScreenContext`; a screen nobody handed one
(a bare test app) keeps `NO_CONTEXT`: no context, writable, every write sent at once.
What it must never do: read the app, do I/O, or decide a write itself (the guard's owner does).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from textual.widgets import Static


class WriteGuard(Protocol):
    """Who may stop a write before it is sent (in a production context: until its name is typed)."""

    def guard_write(self, what: str, then: Callable[[], None], refused: Callable[[str], None]) -> None:
        """Call `then` (which sends the write) once it may go; else `refused(why)`."""


class Unguarded:
    """No production context: every write goes ahead at once."""

    def guard_write(self, what: str, then: Callable[[], None], refused: Callable[[str], None]) -> None:
        then()


@dataclass(frozen=True)
class ContextBar:
    """The header line of a named context: its words and (text, background) colours."""

    text: str
    colours: tuple[str, str]

    def widget(self) -> Static:
        """A fresh line for a screen to compose (a widget lives on one screen only)."""
        bar = Static(self.text, id="context-bar", markup=False)
        bar.styles.color, bar.styles.background = self.colours
        return bar


@dataclass(frozen=True)
class ScreenContext:
    """What the app knows of the session in use that a screen draws or obeys."""

    read_only: bool = False
    read_only_reason: str | None = None
    bar: ContextBar | None = None
    guard: WriteGuard = Unguarded()


NO_CONTEXT = ScreenContext()


class InContext:
    """A screen that draws or obeys the session's context; `context` is handed to it as it opens."""

    context: ScreenContext = NO_CONTEXT
