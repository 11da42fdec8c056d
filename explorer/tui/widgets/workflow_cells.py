"""How a workflow's runtime status and a moment read in a table cell or a title, for every screen
that shows workflow instances (the instance list, the timeline, the agents' runs).

What it is for: one colour per runtime status and one time cell, so two screens never disagree.
What it must never do: I/O, or import a screen (the screens import it; it imports the core only).
"""

from __future__ import annotations

from datetime import datetime

from explorer.core.display import moment_text

#: Rich styles of each runtime status, readable in light and dark themes.
STATUS_TONES = {
    "RUNNING": "bold cyan", "PENDING": "cyan", "COMPLETED": "green", "FAILED": "bold red",
    "TERMINATED": "magenta", "CANCELED": "magenta", "SUSPENDED": "bold yellow", "STALLED": "bold yellow",
    "CONTINUED_AS_NEW": "blue", "UNKNOWN": "dim",
}


def when(moment: datetime | None) -> str:
    """A moment as a time cell: `2026-12-07 22:00:00`, `—` when there is none."""
    return moment_text(moment)
