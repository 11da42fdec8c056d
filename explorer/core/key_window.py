"""Which pages of a partition's keys the key table holds — pure bookkeeping, no I/O.

What it is for: scrolling through a partition of any size while holding at
most `max_pages` pages of rows. Cosmos continuation tokens only go forward, so
the window remembers the token that starts each page it has seen (a few bytes
a page) and can fetch an earlier page again when the user scrolls back up.

What it must never do: hold rows outside the window, or ask for a page twice
while a request for it is still pending.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Row = TypeVar("Row")


@dataclass(frozen=True)
class PageRequest:
    """Fetch page `index`, starting at continuation `token` (None: the first page)."""

    index: int
    token: str | None


@dataclass(frozen=True)
class WindowChange(Generic[Row]):
    """What the table must do after a page arrived."""

    appended: tuple[Row, ...] = ()
    prepended: tuple[Row, ...] = ()
    dropped_front: int = 0  # rows to remove from the top
    dropped_back: int = 0  # rows to remove from the bottom


@dataclass
class KeyWindow(Generic[Row]):
    max_pages: int = 10
    _tokens: list[str | None] = field(default_factory=lambda: [None])  # _tokens[i] starts page i
    _pages: list[tuple[int, tuple[Row, ...]]] = field(default_factory=list)  # (index, rows), ascending
    _exhausted_after: int | None = None  # index of the last page, once a page came back without continuation
    _pending: int | None = None

    @property
    def rows(self) -> list[Row]:
        return [row for _, rows in self._pages for row in rows]

    @property
    def first_page(self) -> int:
        return self._pages[0][0] if self._pages else 0

    @property
    def last_page(self) -> int:
        return self._pages[-1][0] if self._pages else -1

    @property
    def at_start(self) -> bool:
        return self.first_page == 0

    @property
    def at_end(self) -> bool:
        return self._exhausted_after is not None and self.last_page == self._exhausted_after

    @property
    def pending(self) -> bool:
        return self._pending is not None

    def next_request(self) -> PageRequest | None:
        """The page after the window, unless the partition has no more or a request is pending."""
        if self._pending is not None or self.at_end:
            return None
        index = self.last_page + 1
        if index >= len(self._tokens):
            return None
        self._pending = index
        return PageRequest(index, self._tokens[index])

    def previous_request(self) -> PageRequest | None:
        """The page before the window (scrolling back up), if the window does not start at page 0."""
        if self._pending is not None or self.at_start or not self._pages:
            return None
        index = self.first_page - 1
        self._pending = index
        return PageRequest(index, self._tokens[index])

    def cancel(self) -> None:
        """The pending request was cancelled or failed; it may be asked for again."""
        self._pending = None

    def add_page(self, request: PageRequest, rows: Sequence[Row], continuation: str | None) -> WindowChange[Row]:
        """Put an arrived page in the window; drop pages at the other end beyond `max_pages`."""
        if self._pending != request.index:
            return WindowChange()  # a stale answer (the window moved on); ignore it
        self._pending = None
        rows = tuple(rows)
        index = request.index
        if index + 1 == len(self._tokens):
            if continuation:
                self._tokens.append(continuation)
            else:
                self._exhausted_after = index
        if index == self.last_page + 1:
            self._pages.append((index, rows))
            dropped = 0
            while len(self._pages) > self.max_pages:
                dropped += len(self._pages.pop(0)[1])
            return WindowChange(appended=rows, dropped_front=dropped)
        if index == self.first_page - 1:
            self._pages.insert(0, (index, rows))
            dropped = 0
            while len(self._pages) > self.max_pages:
                dropped += len(self._pages.pop()[1])
            return WindowChange(prepended=rows, dropped_back=dropped)
        return WindowChange()
