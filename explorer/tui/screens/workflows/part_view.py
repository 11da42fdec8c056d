"""One part of an instance's timeline (history, inbox or other documents) as the window of pages
the timeline holds: each row's text, what it opens, and the continuation token that reads any page
seen again.

What it is for: the bookkeeping of explorer.tui.screens.workflows.timeline's window — which page to
read next or before, and what the table must drop when one arrives — kept apart from the screen.
What it must never do: I/O, hold more than `window_pages` pages of rows, or know about widgets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

WINDOW_PAGES = 5  # pages of rows held: scrolling on drops the oldest, scrolling back reads it again


class EntryMeta(NamedTuple):
    """What a row needs beyond its text: its document, the page it came in, the instance it links to."""

    doc_id: str
    page: int
    link: str | None


@dataclass
class PartView:
    """One part's rows (history, inbox or other) — the window of pages held: text, what each row
    opens (`rows[i]`, `meta[i]` are the table's row i), and how to read any of its pages again.
    Pure bookkeeping: the screen reads pages and tells the table what changed."""

    window_pages: int = WINDOW_PAGES
    rows: list[tuple[str, ...]] = field(default_factory=list)
    meta: list[EntryMeta] = field(default_factory=list)
    tokens: list[str | None] = field(default_factory=lambda: [None])  # the token that starts each page seen
    counts: list[int] = field(default_factory=list)  # rows in each page seen (where a page starts)
    held: list[tuple[int, int]] = field(default_factory=list)  # (page, its rows held), in order
    pending: tuple[int, str] | None = None  # (page, "next" | "earlier" | "first") being read
    failed: str | None = None
    cursor: int = 0

    @property
    def loading(self) -> bool:
        return self.pending is not None

    @property
    def more(self) -> bool:
        """Pages after the window: not read yet, or dropped from it."""
        last = self.held[-1][0] if self.held else -1
        return last + 1 < len(self.tokens)

    @property
    def before(self) -> bool:
        """Pages before the window (dropped from it)."""
        return bool(self.held) and self.held[0][0] > 0

    @property
    def start(self) -> int:
        """The position in the part of the first row held (0: its first event)."""
        return sum(self.counts[:self.held[0][0]]) if self.held else 0

    @property
    def end(self) -> int:
        """The position after the last row held: how far into the part the window reaches."""
        return self.start + len(self.rows)

    def request(self, how: str) -> int | None:
        """The page to read for `how` ("next": after the window, "earlier": before it, "first"),
        now pending; None if there is none or a page is being read."""
        if self.pending is not None:
            return None
        if how == "next":
            page = self.held[-1][0] + 1 if self.held else 0
            if page >= len(self.tokens):
                return None
        elif how == "earlier":
            if not self.before:
                return None
            page = self.held[0][0] - 1
        else:
            if not self.before:
                return None
            page = 0
        self.pending = page, how
        return page

    def arrived(self, page: int, rows: list[tuple[str, ...]], meta: list[EntryMeta],
                token: str | None) -> tuple[str, int]:
        """Page `page` read: into the window. What the table must do: ("next", rows to drop in
        front), ("earlier", rows to drop at the back), ("first", 0: show the rows afresh) or
        ("stale", 0: not the page pending; nothing changed)."""
        if self.pending is None or self.pending[0] != page:
            return "stale", 0
        how = self.pending[1]
        self.pending, self.failed = None, None
        if page + 1 == len(self.tokens) and token:
            self.tokens.append(token)
        if page < len(self.counts):
            self.counts[page] = len(rows)
        else:
            self.counts.append(len(rows))
        dropped = 0
        if how == "first":
            self.rows, self.meta, self.held, self.cursor = list(rows), list(meta), [(page, len(rows))], 0
        elif how == "next":
            self.rows.extend(rows)
            self.meta.extend(meta)
            self.held.append((page, len(rows)))
            while len(self.held) > self.window_pages:
                dropped += self.held.pop(0)[1]
            del self.rows[:dropped], self.meta[:dropped]
            self.cursor = max(0, self.cursor - dropped)
        else:
            self.rows[:0], self.meta[:0] = rows, meta
            self.held.insert(0, (page, len(rows)))
            while len(self.held) > self.window_pages:
                dropped += self.held.pop()[1]
            if dropped:
                del self.rows[len(self.rows) - dropped:], self.meta[len(self.meta) - dropped:]
            self.cursor = min(self.cursor + len(rows), max(0, len(self.rows) - 1))
        return how, dropped

    def read_failed(self, message: str) -> None:
        self.pending, self.failed = None, message
