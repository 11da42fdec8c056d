"""Store text as widgets show it: terminal-safe (explorer.core.display.terminal_safe) and never read as markup.

What it is for: the one way a screen turns a key name, partition key, id, app-id, etag or value into
something to draw — a rich Text (which Textual never parses as markup), or markup-escaped text for the
places that take a markup string (notifications, Static/Label text).

What it must never do: I/O, or let a control, bidi or line-breaking character, or a `[tag]`, of store
text reach the screen as anything but visible characters.
"""

from __future__ import annotations

from rich.text import Text

from explorer.core.display import markup_safe, terminal_safe, terminal_safe_lines


def safe_text(text: object, style: str = "") -> Text:
    """Store text as a Text to draw: one line, every control shown (`\\x1b`, `⏎`), no markup."""
    return Text(terminal_safe(str(text)), style=style, end="")


def shown_lines(text: object, style: str = "") -> Text:
    """A message or status of the explorer's own, which may quote store text: its own line breaks kept,
    every line terminal-safe."""
    return Text(terminal_safe_lines(str(text)), style=style, end="")


#: Store text inside a markup string (a notification, a Label): terminal-safe, brackets escaped.
shown_markup = markup_safe
