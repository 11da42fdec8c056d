"""The read-only banner every screen shows at its top while nothing can be written.

What it is for: one wording of why the session is read-only (`--read-only`, or the reason a
context or a key gives), drawn the same on every screen (the `.banner` style).
What it must never do: I/O, or decide whether the session is read-only (the screen composes it
only when it is).
"""

from __future__ import annotations

from textual.widgets import Static

#: Why a session started with --read-only is read-only: the reason that gets the banner's own words.
STARTED_READ_ONLY = "started with --read-only"
SESSION_TEXT = "READ-ONLY SESSION — browse everything; nothing can be written (--read-only)"


class ReadOnlyBanner(Static):
    """`session_text` for a session started with --read-only (no other reason), else `READ-ONLY — <reason>`."""

    def __init__(self, reason: str | None = None, session_text: str = SESSION_TEXT) -> None:
        started = not reason or reason == STARTED_READ_ONLY
        super().__init__(session_text if started else f"READ-ONLY — {reason}", classes="banner")
