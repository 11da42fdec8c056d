"""How a workflow's runtime status reads in a table cell or a title, for every screen that shows
workflow instances (the instance list, the timeline, the agents' runs); their times are
explorer.core.display.moment_text.

What it is for: one colour per runtime status, so two screens never disagree.
What it must never do: I/O, or import a screen (the screens import it; it imports the core only).
"""

from __future__ import annotations

#: Rich styles of each runtime status, readable in light and dark themes.
STATUS_TONES = {
    "RUNNING": "bold cyan", "PENDING": "cyan", "COMPLETED": "green", "FAILED": "bold red",
    "TERMINATED": "magenta", "CANCELED": "magenta", "SUSPENDED": "bold yellow", "STALLED": "bold yellow",
    "CONTINUED_AS_NEW": "blue", "UNKNOWN": "dim",
}

