"""explorer.core.stats: per-partition figures from Cosmos DB's aggregate row and the expiring
items, their sort orders and totals, and the bar chart and expiry histogram as text lines
(pure; partitions made up here, no Cosmos)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from explorer.core.expiry import effective_expiry, remaining
from explorer.core.model import NO_PARTITION_KEY
from explorer.core.stats import (
    DAY,
    HOUR,
    SORTS,
    Bucket,
    PartitionStats,
    bar,
    bucket_of,
    expiry_histogram,
    largest_chart,
    partition_stats,
    size_figure,
    sorted_stats,
    totals,
)

NOW = 1_800_000_000


def stats(name: str, keys: int = 1, size: int = 10, oldest: int | None = NOW - 100, newest: int | None = NOW,
          buckets=(0, 0, 0, 0, None)) -> PartitionStats:
    counts = list(buckets)
    counts[Bucket.NEVER] = keys - sum(counts[:Bucket.NEVER]) if counts[Bucket.NEVER] is None else counts[Bucket.NEVER]
    return PartitionStats(name, keys, size, oldest, newest, tuple(counts))


# -- buckets: the effective expiry (item ttl, else the container's default) ---------------------

@pytest.mark.parametrize(("ttl", "default", "ts", "expected"), [
    (60, -1, NOW, Bucket.HOUR),
    (3599, -1, NOW, Bucket.HOUR),
    (3600, -1, NOW, Bucket.DAY),
    (86399, -1, NOW, Bucket.DAY),
    (86400, -1, NOW, Bucket.WEEK),
    (7 * DAY, -1, NOW, Bucket.LATER),
    (10, -1, NOW - 1000, Bucket.HOUR),  # expired, waiting for the purge: still "within the hour"
    (None, -1, NOW, Bucket.NEVER),  # TTL on, no default, no item ttl
    (-1, 600, NOW, Bucket.NEVER),  # the item says never
    (None, 600, NOW, Bucket.HOUR),  # the container's default
    (None, 2 * DAY, NOW, Bucket.WEEK),
    (120, None, NOW, Bucket.NEVER),  # container TTL off: the item's ttl is ignored
    (0, -1, NOW, Bucket.NEVER),  # invalid ttl
    (True, -1, NOW, Bucket.NEVER),
    (1.5, -1, NOW, Bucket.NEVER),
    (10 ** 400, -1, NOW, Bucket.LATER),
])
def test_bucket_follows_the_effective_expiry(ttl, default, ts, expected):
    assert bucket_of(ttl, default, ts, NOW) is expected


@settings(deadline=None)
@given(ttl=st.one_of(st.none(), st.integers(-2, 10 ** 9), st.booleans(), st.floats(allow_nan=True)),
       default=st.one_of(st.none(), st.integers(-2, 10 ** 9)), ts=st.integers(0, 2 * NOW))
def test_bucket_agrees_with_the_key_tables_countdown(ttl, default, ts):
    left = remaining(effective_expiry(ttl, default, ts), NOW)
    bucket = bucket_of(ttl, default, ts, NOW)
    if left is None or left != left:
        assert bucket is Bucket.NEVER
    elif left < HOUR:
        assert bucket is Bucket.HOUR
    elif left < DAY:
        assert bucket is Bucket.DAY
    else:
        assert bucket in (Bucket.WEEK, Bucket.LATER)


# -- a partition's figures ----------------------------------------------------------------------

def test_partition_stats_from_cosmos_rows():
    figures = {"keys": 5, "size": 1234, "oldest": NOW - 7200, "newest": NOW - 5}
    expiring = [{"_ts": NOW, "ttl": 60}, {"_ts": NOW, "ttl": 7200}, {"_ts": NOW - 10, "ttl": 30}, {"_ts": NOW, "ttl": 10 * DAY}]
    s = partition_stats("tenant-1", figures, expiring, -1, NOW, request_charge=4.5)
    assert (s.keys, s.bytes, s.oldest, s.newest) == (5, 1234, NOW - 7200, NOW - 5)
    assert s.buckets == (2, 1, 0, 1, 1)
    assert (s.expiring_hour, s.expiring_day) == (2, 3)
    assert s.request_charge == 4.5


def test_an_empty_partition_and_missing_figures_are_zero_not_errors():
    s = partition_stats(NO_PARTITION_KEY, {"keys": 0}, [], 600, NOW)
    assert (s.keys, s.bytes, s.oldest, s.newest, s.buckets) == (0, 0, None, None, (0, 0, 0, 0, 0))
    s = partition_stats("p", {"keys": "many", "size": None, "oldest": "x"}, [], None, NOW)
    assert (s.keys, s.bytes, s.oldest) == (0, 0, None)


def test_a_key_written_between_the_two_queries_counts_once():
    s = partition_stats("p", {"keys": 1, "size": 3}, [{"_ts": NOW, "ttl": 5}, {"_ts": NOW, "ttl": 6}], -1, NOW)
    assert s.keys == 2 and s.buckets == (2, 0, 0, 0, 0)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # 2 shared cores: generation is slow, not the test
@given(keys=st.integers(0, 10 ** 6), rows=st.lists(st.fixed_dictionaries(
    {"_ts": st.integers(0, 2 * NOW), "ttl": st.one_of(st.none(), st.integers(-1, 10 ** 8), st.text(max_size=2))}),
    max_size=20),
    default=st.one_of(st.none(), st.integers(-1, 10 ** 8)))
def test_buckets_always_add_up_to_the_keys(keys, rows, default):
    s = partition_stats("p", {"keys": keys}, rows, default, NOW)
    assert sum(s.buckets) == s.keys >= keys
    assert all(n >= 0 for n in s.buckets)
    assert s.expiring_hour <= s.expiring_day <= s.keys


# -- sorting and totals -------------------------------------------------------------------------

PARTS = [
    stats("a", keys=5, size=100, oldest=NOW - 50, newest=NOW - 1, buckets=(0, 2, 0, 0, None)),
    stats("b", keys=9, size=20, oldest=NOW - 500, newest=NOW - 400, buckets=(1, 0, 0, 0, None)),
    stats("c", keys=1, size=900, oldest=NOW - 5, newest=NOW, buckets=(1, 0, 0, 0, None)),
    stats("d", keys=0, size=0, oldest=None, newest=None),
]


@pytest.mark.parametrize(("column", "order"), [
    ("keys", "bacd"), ("bytes", "cabd"), ("oldest", "bacd"), ("newest", "cabd"), ("expiring", "bcad"),
])
def test_each_sort_puts_what_matters_first(column, order):
    assert "".join(s.partition for s in sorted_stats(PARTS, column)) == order


def test_an_unknown_sort_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="keys, bytes, oldest, newest, expiring"):
        sorted_stats(PARTS, "size")


def test_totals_add_up():
    t = totals(PARTS)
    assert (t.partitions, t.keys, t.bytes, t.oldest, t.newest) == (4, 15, 1020, NOW - 500, NOW)
    assert t.buckets == (2, 2, 0, 0, 11)
    assert totals([]).oldest is None and totals([]).keys == 0


partition_stats_strategy = st.builds(
    lambda name, keys, size, ts, spread, hour, day: stats(
        name, keys, size, ts if keys else None, ts + spread if keys else None,
        (min(hour, keys), min(day, keys - min(hour, keys)), 0, 0, None)),
    st.text(min_size=0, max_size=60), st.integers(0, 10 ** 7), st.integers(0, 10 ** 12), st.integers(0, NOW),
    st.integers(0, 10 ** 6), st.integers(0, 10 ** 7), st.integers(0, 10 ** 7))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(partition_stats_strategy, max_size=30), st.sampled_from(SORTS))
def test_sorting_keeps_every_partition_and_totals_add_up(parts, column):
    ordered = sorted_stats(parts, column)
    assert sorted(map(id, ordered)) == sorted(map(id, parts))
    t = totals(parts)
    assert t.keys == sum(p.keys for p in parts) == sum(t.buckets)
    assert t.bytes == sum(p.bytes for p in parts)


# -- pictures -------------------------------------------------------------------------------------

def test_bar_is_proportional_in_eighths():
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 4) == "██"
    assert bar(1, 16, 2) == "▏"  # an eighth of two cells
    assert bar(1, 10 ** 9, 4) == "▏"  # above zero always shows
    assert bar(0, 10, 4) == "" and bar(3, 0, 4) == "" and bar(3, 3, 0) == ""


def test_the_chart_at_80_columns_reads_as_a_person_expects():
    lines = largest_chart(PARTS, 80, top=3)
    assert len(lines) == 3
    assert lines[0].startswith("b │") and lines[0].endswith(" 9")
    assert lines[0].count("█") > lines[1].count("█") > 0
    assert "d" not in [line.split(" ")[0] for line in lines]  # top 3 by keys
    by_bytes = largest_chart(PARTS, 80, top=2, measure="bytes")
    assert by_bytes[0].startswith("c │") and by_bytes[0].endswith("900 B")


def test_long_and_wide_labels_are_cut_to_fit():
    parts = [stats("x" * 100, keys=3), stats("日本語のパーティション名はとても長いです", keys=2), stats("tab\tand\nnewline", keys=1)]
    for width in (80, 40, 12, 5, 1):
        for line in largest_chart(parts, width):
            assert cell_len(line) <= width
            assert "\n" not in line and "\t" not in line
    assert "…" in largest_chart(parts, 80)[0]


def test_histogram_has_every_bucket_in_order():
    lines = expiry_histogram((3, 0, 7, 1, 20), 80)
    assert [line.split("│")[0].strip() for line in lines] == ["< 1 hour", "< 1 day", "< 7 days", "later", "never"]
    assert lines[1].split("│")[1].strip() == "0"  # an empty bucket has no bar, only its count
    assert lines[4].count("█") > lines[2].count("█") > lines[0].count("█")


def test_size_figures():
    assert [size_figure(n) for n in (0, 999, 1000, 1_234_567, 5 * 10 ** 12)] == ["0 B", "999 B", "1.0 kB", "1.2 MB", "5000.0 GB"]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(partition_stats_strategy, min_size=1, max_size=40), width=st.integers(1, 200),
       top=st.integers(0, 50), measure=st.sampled_from(["keys", "bytes"]))
def test_chart_lines_never_exceed_the_width(parts, width, top, measure):
    lines = largest_chart(parts, width, top, measure)
    assert len(lines) == min(top, len(parts))
    assert all(cell_len(line) <= width for line in lines)


@settings(deadline=None)
@given(buckets=st.lists(st.integers(0, 10 ** 12), min_size=5, max_size=5), width=st.integers(1, 200))
def test_histogram_bars_never_exceed_the_width_and_keep_their_order(buckets, width):
    lines = expiry_histogram(buckets, width)
    assert len(lines) == 5
    assert all(cell_len(line) <= width for line in lines)
    if width >= 40:  # room for bars: a bigger count never has a shorter bar
        drawn = [line.split("│")[1].rstrip(" 0123456789,") for line in lines]
        for i in range(5):
            for j in range(5):
                if buckets[i] > buckets[j]:
                    assert len(drawn[i]) >= len(drawn[j])


def test_the_chart_names_workflow_and_actor_partitions_as_the_browser_does():
    from explorer.core.envelope import partition_name

    parts = [stats("order-processor||dapr.internal.default.order-processor.workflow||order-1002", keys=9),
             stats("cart-service||CartActor||cart-42", keys=3), stats("", keys=1), stats("tenant-1", keys=2)]
    names = [line.split(" │")[0].strip() for line in largest_chart(parts, 80, label=partition_name)]
    assert names == ["workflow order-1002", "actor CartActor cart-42", "tenant-1", "(empty partition key)"]
