"""`dapr-explorer stats`: per-partition figures of a store — keys, size, oldest and newest `_ts`, keys
expiring soon — as a table, bars and a histogram, or JSON lines.

What it is for: seeing which partitions are hot or large. What it must never do: query across
partitions with GROUP BY (each partition's figures are read in that partition).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time

from explorer.cli.output import emit_json, partition_json, print, say_throttled, table
from explorer.core.display import age_text, terminal_safe, timestamp_text
from explorer.core.envelope import partition_name
from explorer.core.stats import Bucket, expiry_histogram, largest_chart, size_figure, sorted_stats, totals
from explorer.session.explorer_session import ExplorerSession


STATS_TOP = 20  # table rows and chart bars without --top (JSON lists every partition unless --top is given)


async def cmd_stats(session: ExplorerSession, args: argparse.Namespace) -> int:
    """Per-partition figures (explorer.core.stats): keys, size, oldest and newest `_ts`, keys expiring
    within the hour and the day; a table sorted by --sort, the largest partitions as bars, the
    expiry histogram and totals — or one JSON line per partition. Partitions are found by DISTINCT and
    each one's figures read by queries in that partition (never GROUP BY across partitions)."""
    say_throttled(session, args.store)
    location = await session.location(args.store)
    progress_shown = sys.stderr.isatty() and not args.json

    def progress(p) -> None:
        if progress_shown:
            print(f"\r{p.text()}", end="", file=sys.stderr, flush=True)

    found = [s async for s in session.stats(location, progress)]
    if progress_shown:
        sys.stderr.write("\r\033[K")  # clears the progress line
    ordered = sorted_stats(found, args.sort)
    top = args.top if args.top is not None else (None if args.json else STATS_TOP)
    shown = ordered if top is None else ordered[:top]
    total = totals(found)
    if args.json:
        for s in shown:
            emit_json({**partition_json(s.partition), "keys": s.keys, "bytes": s.bytes, "oldestTs": s.oldest,
                       "newestTs": s.newest, "expiringWithinHour": s.expiring_hour,
                       "expiringWithinDay": s.expiring_day,
                       "expiries": {b.name.lower(): s.buckets[b] for b in Bucket}, "requestCharge": s.request_charge})
    else:
        width = max(40, min(shutil.get_terminal_size((80, 24)).columns, 120))
        more = f" (top {len(shown)} of {len(ordered):,} by {args.sort})" if len(shown) < len(ordered) else f" (by {args.sort})"
        now = time.time()
        table(f"{args.store} · partitions{more}", ["Partition", "Keys", "Size", "Oldest", "Newest", "Expiring <1h", "<1d"],
              [[s.partition, f"{s.keys:,}", size_figure(s.bytes), age_text(s.oldest or 0, now),
                age_text(s.newest or 0, now), f"{s.expiring_hour:,}", f"{s.expiring_day:,}"] for s in shown])
        measure = "bytes" if args.sort == "bytes" else "keys"
        print(f"\nLargest partitions by {measure}:")
        bars = largest_chart(found, width, min(top or 10, 10), measure,
                            lambda pk: terminal_safe(partition_name(pk)))  # ten at most: the hot ones
        for line in bars or ["(no partitions)"]:
            print(line)
        print("\nExpiries (keys, by when they expire from now):")
        for line in expiry_histogram(total.buckets, width):
            print(line)
        print(f"\n{total.partitions:,} partitions · {total.keys:,} keys · {size_figure(total.bytes)} · "
              f"oldest {timestamp_text(total.oldest or 0)} · newest {timestamp_text(total.newest or 0)}")
    print(f"{total.partitions:,} partitions · {total.keys:,} keys · {total.request_charge:,.2f} RU", file=sys.stderr)
    return 0
