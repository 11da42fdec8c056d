"""Store text as widgets show it: terminal-safe (explorer.core.display.terminal_safe) and never read as markup.

What it is for: the one way a screen turns a key name, partition key, id, app-id, etag or value into
something to draw — a rich Text (which Textual never parses as markup), markup-escaped text for the
places that take a markup string (notifications, Static/Label text), or a value pretty-printed and
highlighted (`syntax`, `pretty_text`, `pretty_value`).

What it must never do: I/O, or let a control, bidi or line-breaking character, or a `[tag]`, of store
text reach the screen as anything but visible characters.
"""

from __future__ import annotations

import json

from rich.console import RenderableType
from rich.text import Text

from explorer.core.display import markup_safe, pretty_json_bytes, terminal_safe, terminal_safe_lines


def safe_text(text: object, style: str = "") -> Text:
    """Store text as a Text to draw: one line, every control shown (`\\x1b`, `⏎`), no markup."""
    return Text(terminal_safe(str(text)), style=style, end="")


def shown_lines(text: object, style: str = "") -> Text:
    """A message or status of the explorer's own, which may quote store text: its own line breaks kept,
    every line terminal-safe."""
    return Text(terminal_safe_lines(str(text)), style=style, end="")


#: Store text inside a markup string (a notification, a Label): terminal-safe, brackets escaped.
shown_markup = markup_safe


def syntax(text: str, lexer: str):
    """Highlighted JSON (theme-aware colours, so light and dark themes both read well) or a diff."""
    if lexer == "diff":
        out = Text()
        for line in text.splitlines():
            style = "red" if line.startswith("-") else "green" if line.startswith("+") else "cyan" \
                if line.startswith("@@") else ""
            out.append(terminal_safe(line) + "\n", style=style)
        return out
    from textual.highlight import highlight

    return highlight(terminal_safe_lines(text), language=lexer)  # store text: its own lines kept, each safe


def pretty_text(text: str) -> RenderableType:
    """Text that may be JSON: pretty-printed and highlighted if it is, else as it is (each line safe)."""
    pretty = pretty_json_bytes(text.encode("utf-8", "surrogatepass"))
    return syntax(pretty, "json") if pretty is not None else Text(terminal_safe_lines(text))


def pretty_value(value: object) -> RenderableType:
    """A decoded value as JSON, pretty-printed and highlighted (what JSON cannot hold as its str);
    its repr if it is no JSON at all."""
    try:
        return pretty_text(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError):
        return Text(repr(value))
