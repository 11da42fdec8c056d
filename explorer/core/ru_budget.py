"""An RU-per-second budget for the explorer's long operations (partition scans, key listings, export).

What it is for: pacing the requests of a scan so that what it spends on a production container
stays under `ru_per_second`, whatever each request turns out to cost. A request's charge is known
only when its answer comes (x-ms-request-charge), so the budget paces the *next* request: after a
charge of c RU the next paced request waits until c / ru_per_second seconds after the previous
one became ready (or after the charge, if the operation was idle longer). This is a token bucket
of capacity zero that may go into debt by one request: over any stretch of time T the requests
started within it cost at most `ru_per_second * T` plus the charge of the last of them — and never
more, even right after an idle spell (no burst is saved up).

`DEFAULT_PRODUCTION_RU_PER_SECOND` = 100: the smallest provisioned container is 400 RU/s (manual
throughput's minimum; autoscale starts at 1,000 RU/s scaling down to 100), so the explorer takes at
most a quarter of the smallest container there is and leaves the app the other three quarters,
before priority-based execution (every request of ours is Low) even comes into it. At this rate a
1 KB point read (1 RU) is never noticeably delayed; a scan page of 1,000 small items (~30 RU here)
waits ~0.3 s.

What it must never do: I/O or sleep (the caller waits; the clock is injected), or let a charge
lower the total spent (negative or non-finite charges count as zero).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import NamedTuple

#: A quarter of the smallest provisioned container (400 RU/s): see the module's docstring.
DEFAULT_PRODUCTION_RU_PER_SECOND = 100.0


class RuBudget:
    """RU per second for one account's long operations; `spent` is the total charged so far."""

    def __init__(self, ru_per_second: float, clock: Callable[[], float] = time.monotonic):
        if not math.isfinite(ru_per_second) or ru_per_second <= 0:
            raise ValueError(f"an RU budget must be a positive number of RU per second, not {ru_per_second!r}")
        self.ru_per_second = float(ru_per_second)
        self._clock = clock
        self.spent = 0.0
        self._ready_at: float | None = None  # when the next paced request may start

    def charge(self, ru: float) -> None:
        """Count one answer's request charge, at the clock's now."""
        ru = float(ru) if isinstance(ru, (int, float)) and math.isfinite(ru) and ru > 0 else 0.0
        self.spent += ru
        now = self._clock()
        start = now if self._ready_at is None else max(self._ready_at, now)
        self._ready_at = start + ru / self.ru_per_second

    def wait(self) -> float:
        """Seconds to wait before the next paced request may start (0: now)."""
        if self._ready_at is None:
            return 0.0
        return max(0.0, self._ready_at - self._clock())


class CosmosLoad(NamedTuple):
    """What the explorer has put on one account so far: RU spent, the budget (None: unpaced), and the
    seconds left of a 429 wait under way (0: none)."""

    spent: float
    ru_per_second: float | None = None
    waiting: float = 0.0


def seconds_text(seconds: float) -> str:
    """'0.3', '2', '12': a wait as the status line and stderr say it (tenths below 10 s)."""
    seconds = max(0.0, seconds)
    return f"{round(seconds, 1):g}" if seconds < 10 else f"{round(seconds):d}"


def throttled_text(seconds: float) -> str:
    """What the explorer says while it waits out a 429: 'throttled, waiting 1.5 s'."""
    return f"throttled, waiting {seconds_text(seconds)} s"


def load_text(spent: float, ru_per_second: float | None = None, waiting: float = 0.0) -> str:
    """The status line's account of load: '1,234.5 RU this session · budget 100 RU/s', and while a
    429 is waited out, '· throttled, waiting 2 s'."""
    parts = [f"{spent:,.1f} RU this session"]
    if ru_per_second is not None:
        parts.append(f"budget {ru_per_second:g} RU/s")
    if waiting > 0:
        parts.append(throttled_text(waiting))
    return " · ".join(parts)
