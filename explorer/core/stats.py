"""Partition insight: per-partition figures (keys, size, oldest and newest `_ts`, what expires
when), their sort orders and totals, and the two pictures drawn from them — a bar chart of the
largest partitions and a histogram of expiries — as plain text lines of a given width.

Pure: no I/O, no clock (callers pass `now`), no SDK. The store edge (explorer.backends.cosmos.lister
`partition_figures`) asks Cosmos DB for one partition's aggregates and the (`_ts`, `ttl`) of its
items that can expire; `partition_stats` turns those into a `PartitionStats`, deciding each
item's expiry with explorer.core.expiry `effective_expiry` (item ttl, else the container's
defaultTtl), so the figures say exactly what the key table's countdowns say.

Size: the characters of each document's JSON as Cosmos DB's `ToString(c)` writes it (envelope
and system properties included), summed over the partition — bytes for ASCII text; not Cosmos
DB's storage figure, which also counts the index.

What it must never do: read the clock, or draw a line wider than the width it is given.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from rich.cells import cell_len

from explorer.core.display import cut_cells
from explorer.core.expiry import ExpiryKind, effective_expiry, remaining
from explorer.core.model import whole_number

HOUR = 3600
DAY = 86400
WEEK = 7 * DAY


class Bucket(enum.IntEnum):
    """When a key expires, from now: the histogram's bars, in this order."""

    HOUR = 0  # within the hour (an expired key waiting for Cosmos DB's purge counts here)
    DAY = 1
    WEEK = 2
    LATER = 3
    NEVER = 4

    @property
    def label(self) -> str:
        return ("< 1 hour", "< 1 day", "< 7 days", "later", "never")[self]


def bucket_of(item_ttl: int | None, default_ttl: int | None, ts: int, now: float) -> Bucket:
    """The bucket of one item: its effective expiry (explorer.core.expiry) against `now`."""
    expiry = effective_expiry(item_ttl, default_ttl, ts)
    left = remaining(expiry, now)
    if expiry.kind is ExpiryKind.NEVER or left is None or math.isnan(left):
        return Bucket.NEVER
    if left < HOUR:
        return Bucket.HOUR
    if left < DAY:
        return Bucket.DAY
    if left < WEEK:
        return Bucket.WEEK
    return Bucket.LATER


def _no_buckets() -> tuple[int, ...]:
    return (0,) * len(Bucket)


@dataclass(frozen=True)
class PartitionStats:
    """One partition's figures. `buckets[b]` counts its keys in expiry bucket `b` (they add up to `keys`)."""

    partition: str
    keys: int
    bytes: int
    oldest: int | None  # the smallest _ts (None: no keys)
    newest: int | None
    buckets: tuple[int, ...] = field(default_factory=_no_buckets)
    request_charge: float = 0.0

    @property
    def expiring_hour(self) -> int:
        return self.buckets[Bucket.HOUR]

    @property
    def expiring_day(self) -> int:
        """Keys that expire within a day (those within the hour included)."""
        return self.buckets[Bucket.HOUR] + self.buckets[Bucket.DAY]


def partition_stats(partition: str, figures: Mapping[str, object], expiring: Iterable[Mapping[str, object]],
                    default_ttl: int | None, now: float, request_charge: float = 0.0) -> PartitionStats:
    """A partition's stats from its aggregate row (`keys`, `size`, `oldest`, `newest`, as
    `SELECT COUNT(1) AS keys, SUM(…) AS size, MIN(c._ts) AS oldest, MAX(c._ts) AS newest` answers)
    and the `{_ts, ttl}` of the items that may expire (the others never do). A figure Cosmos left
    out (an empty partition has no MIN) is 0 or None, never an error."""
    keys = max(0, whole_number(figures.get("keys")) or 0)
    counts = [0] * len(Bucket)
    for row in expiring:  # a ttl that is not a whole number is "invalid ttl": never (effective_expiry)
        counts[bucket_of(row.get("ttl"), default_ttl, whole_number(row.get("_ts")) or 0, now)] += 1  # type: ignore[arg-type]
    counted = sum(counts[:Bucket.NEVER])
    keys = max(keys, counted)  # a key written between the two queries still counts once
    counts[Bucket.NEVER] = keys - counted
    return PartitionStats(partition, keys, max(0, whole_number(figures.get("size")) or 0),
                          whole_number(figures.get("oldest")), whole_number(figures.get("newest")),
                          tuple(counts), request_charge)


# -- sorting ------------------------------------------------------------------------------------

#: The columns one may sort by, and what "first" means for each: the most keys, the most bytes,
#: the oldest data, the newest data, the most keys expiring within the hour (then the day).
SORTS = ("keys", "bytes", "oldest", "newest", "expiring")


def sort_key(column: str):
    """A key function that puts the partition that matters most for `column` first (ties: by partition name)."""
    if column == "keys":
        return lambda s: (-s.keys, s.partition)
    if column == "bytes":
        return lambda s: (-s.bytes, s.partition)
    if column == "oldest":
        return lambda s: (s.oldest is None, s.oldest or 0, s.partition)
    if column == "newest":
        return lambda s: (s.newest is None, -(s.newest or 0), s.partition)
    if column == "expiring":
        return lambda s: (-s.expiring_hour, -s.expiring_day, s.partition)
    raise ValueError(f"cannot sort by {column!r}: use one of {', '.join(SORTS)}")


def sorted_stats(stats: Iterable[PartitionStats], column: str = "keys") -> list[PartitionStats]:
    return sorted(stats, key=sort_key(column))


@dataclass(frozen=True)
class Totals:
    partitions: int
    keys: int
    bytes: int
    oldest: int | None
    newest: int | None
    buckets: tuple[int, ...]
    request_charge: float


def totals(stats: Iterable[PartitionStats]) -> Totals:
    partitions = keys = size = 0
    oldest: int | None = None
    newest: int | None = None
    buckets = [0] * len(Bucket)
    charge = 0.0
    for s in stats:
        partitions += 1
        keys += s.keys
        size += s.bytes
        charge += s.request_charge
        if s.oldest is not None:
            oldest = s.oldest if oldest is None else min(oldest, s.oldest)
        if s.newest is not None:
            newest = s.newest if newest is None else max(newest, s.newest)
        for b, n in enumerate(s.buckets):
            buckets[b] += n
    return Totals(partitions, keys, size, oldest, newest, tuple(buckets), charge)


# -- pictures -----------------------------------------------------------------------------------

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(value: float, largest: float, cells: int) -> str:
    """A bar of at most `cells` terminal cells, `value / largest` of them, in eighths of a cell
    (a value above 0 always shows at least an eighth)."""
    if cells <= 0 or largest <= 0 or value <= 0:
        return ""
    eighths = min(cells * 8, max(1, round(value / largest * cells * 8)))
    full, part = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[part] if part else "")


def _fit(text: str, cells: int) -> str:
    """`text` cut to `cells` terminal cells (an ellipsis marks the cut), padded to exactly `cells`."""
    if cells <= 0:
        return ""
    text = " ".join(text.split())  # a newline or tab in a partition key would break the line
    if cell_len(text) > cells:
        text = cut_cells(text, 0, cells - 1) + "…" if cells > 1 else cut_cells(text, 0, 1)
    return text + " " * (cells - cell_len(text))


def _bars(rows: Sequence[tuple[str, int, str]], width: int, label_cells: int) -> list[str]:
    """`label │bar figure` lines, none wider than `width` (labels cut, bars shortened to fit)."""
    if not rows or width <= 0:
        return []
    largest = max(value for _, value, _ in rows)
    figure_cells = max(len(figure) for _, _, figure in rows)
    label_cells = max(1, min(label_cells, max(cell_len(" ".join(label.split())) for label, _, _ in rows), width // 2))
    bar_cells = width - label_cells - figure_cells - 3  # " │" before the bar, " " before the figure
    lines = []
    for label, value, figure in rows:
        if bar_cells >= 1:
            drawn = bar(value, largest, bar_cells)
            line = f"{_fit(label, label_cells)} │{drawn.ljust(bar_cells)} {figure.rjust(figure_cells)}"
        else:  # too narrow for a bar: the label and the figure, cut to the width
            line = _fit(f"{' '.join(label.split())} {figure}", width)
        lines.append(line.rstrip())
    return lines


def size_figure(size: int) -> str:
    if size < 1000:
        return f"{size} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1000 or unit == "GB":
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"  # pragma: no cover - the loop always returns


def largest_chart(stats: Iterable[PartitionStats], width: int, top: int = 10, measure: str = "keys",
                  label=str) -> list[str]:
    """The `top` largest partitions by `measure` ("keys" or "bytes") as bars, largest first;
    `label(partition)` names each (the browser's decoded name, say)."""
    if measure not in ("keys", "bytes"):
        raise ValueError(f"the chart measures keys or bytes, not {measure!r}")
    chosen = sorted_stats(stats, measure)[:max(0, top)]
    rows = [(label(s.partition), getattr(s, measure),
             f"{s.keys:,}" if measure == "keys" else size_figure(s.bytes)) for s in chosen]
    return _bars(rows, width, label_cells=24)


def expiry_histogram(buckets: Sequence[int], width: int) -> list[str]:
    """One bar per expiry bucket (< 1 hour, < 1 day, < 7 days, later, never), with its count."""
    rows = [(b.label, buckets[b] if b < len(buckets) else 0, f"{buckets[b] if b < len(buckets) else 0:,}")
            for b in Bucket]
    return _bars(rows, width, label_cells=8)


@dataclass(frozen=True)
class StatsProgress:
    """How far a stats run is: partitions found so far (and whether discovery is over), partitions
    whose figures are in, and the request charge of both."""

    discovered: int
    done: int
    discovery_finished: bool
    request_charge: float

    @property
    def finished(self) -> bool:
        return self.discovery_finished and self.done >= self.discovered

    def text(self) -> str:
        found = f"{self.discovered:,} partition{'' if self.discovered == 1 else 's'}"
        if not self.discovery_finished:
            found += " found so far"
        return f"{self.done:,} of {found} · {self.request_charge:,.2f} RU"
