"""When Cosmos expires an item, and how that is shown (pure-logic tests; no clock, no I/O)."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.expiry import (
    MAX_TTL,
    Expiry,
    ExpiryKind,
    countdown_text,
    effective_expiry,
    remaining,
    ttl_to_keep_instant,
)
from explorer.core.model import TtlChoice, TtlMode
from explorer.errors import UsageError

TS = 1_700_000_000
NEVER = ExpiryKind.NEVER
AT = ExpiryKind.AT


@pytest.mark.parametrize(
    ("item_ttl", "container_ttl", "kind", "at", "reason"),
    [
        # container TTL off: the item's ttl does nothing
        (None, None, NEVER, None, "container TTL is off"),
        (30, None, NEVER, None, "container TTL is off; the item's ttl is ignored"),
        (-1, None, NEVER, None, "container TTL is off; the item's ttl is ignored"),
        # on, no default
        (None, -1, NEVER, None, "no ttl"),
        (-1, -1, NEVER, None, "ttl -1"),
        (30, -1, AT, TS + 30, "item ttl"),
        # on, default 3600
        (None, 3600, AT, TS + 3600, "container default ttl"),
        (-1, 3600, NEVER, None, "ttl -1"),
        (30, 3600, AT, TS + 30, "item ttl"),
        (7200, 3600, AT, TS + 7200, "item ttl"),
        # values Cosmos rejects
        (0, -1, NEVER, None, "invalid ttl 0"),
        (0, 3600, NEVER, None, "invalid ttl 0"),
        (-5, 3600, NEVER, None, "invalid ttl -5"),
    ],
)
def test_effective_expiry_table(item_ttl, container_ttl, kind, at, reason):
    assert effective_expiry(item_ttl, container_ttl, TS) == Expiry(kind, at, reason)


@pytest.mark.parametrize("container_ttl", [0, -2])
def test_invalid_container_default_is_treated_as_off(container_ttl):
    e = effective_expiry(30, container_ttl, TS)
    assert e.kind is NEVER and "not valid" in e.reason and "ignored" in e.reason
    assert effective_expiry(None, container_ttl, TS).kind is NEVER


def test_remaining():
    e = effective_expiry(100, -1, TS)
    assert remaining(e, TS + 40) == 60
    assert remaining(e, TS + 150.5) == -50.5
    assert remaining(effective_expiry(None, -1, TS), TS) is None


@pytest.mark.parametrize(
    ("left", "text"),
    [
        (45, "expires in 45s"),
        (0.2, "expires in 1s"),
        (59, "expires in 59s"),
        (60, "expires in 1m 00s"),
        (133, "expires in 2m 13s"),
        (125, "expires in 2m 05s"),
        (3599, "expires in 59m 59s"),
        (3600, "expires in 1h 00m"),
        (3720, "expires in 1h 02m"),
        (86399, "expires in 23h 59m"),
        (86400, "expires in 1d 00h"),
        (3 * 86400 + 4 * 3600 + 59, "expires in 3d 04h"),
        (0, "expired — pending purge"),
        (-10, "expired — pending purge"),
    ],
)
def test_countdown_text(left, text):
    e = Expiry(AT, TS + 1000, "item ttl")
    assert countdown_text(e, TS + 1000 - left) == text


def test_countdown_never():
    assert countdown_text(effective_expiry(30, None, TS), TS) == "never"


def test_ttl_to_keep_instant():
    e = effective_expiry(600, -1, TS)
    assert ttl_to_keep_instant(e, TS + 100) == 500
    assert ttl_to_keep_instant(e, TS + 100.4) == 500  # rounded up: never expires earlier
    assert ttl_to_keep_instant(e, TS + 599.9) == 1
    assert ttl_to_keep_instant(e, TS + 10_000) == 1  # already past: as soon as Cosmos allows
    assert ttl_to_keep_instant(effective_expiry(-1, 3600, TS), TS) is None


def test_ttl_to_keep_instant_stays_within_cosmos_int32():
    assert ttl_to_keep_instant(Expiry(AT, 2**40, "item ttl"), 0) == 2_147_483_647


# --- properties ---------------------------------------------------------------------------------

ttls = st.none() | st.integers(min_value=-3, max_value=2**31 - 1)
timestamps = st.integers(min_value=0, max_value=4_000_000_000)
nows = st.floats(min_value=0, max_value=5e9, allow_nan=False, allow_infinity=False)


@given(ttls, ttls, timestamps)
def test_at_is_never_before_the_write(item_ttl, container_ttl, ts):
    e = effective_expiry(item_ttl, container_ttl, ts)
    assert e.reason
    if e.kind is AT:
        assert e.at is not None and e.at > ts
    else:
        assert e.at is None
    if container_ttl is None:
        assert e.kind is NEVER


@given(ttls, ttls, timestamps, st.floats(allow_nan=True, allow_infinity=True))
def test_countdown_never_raises(item_ttl, container_ttl, ts, now):
    text = countdown_text(effective_expiry(item_ttl, container_ttl, ts), now)
    assert text == "never" or text.startswith(("expires in ", "expired", "expiry unknown"))


@given(ttls, ttls, timestamps, nows)
def test_ttl_to_keep_instant_keeps_the_instant(item_ttl, container_ttl, ts, since_write):
    # a save comes after the item was written (the int32 cap for skewed clocks is tested above)
    now = ts + since_write
    e = effective_expiry(item_ttl, container_ttl, ts)
    ttl = ttl_to_keep_instant(e, now)
    if e.kind is NEVER:
        assert ttl is None
        return
    assert ttl is not None and 1 <= ttl <= 2**31 - 1
    left = e.at - now
    if left > 0:
        # a save at `now` with this ttl expires no earlier, and less than a second later
        assert now + ttl >= e.at and now + ttl - e.at < 1 + 1e-6 * max(1.0, abs(now))
        assert countdown_text(e, now).startswith("expires in ")
    else:
        assert ttl == 1 and countdown_text(e, now) == "expired — pending purge"


@given(st.integers(min_value=1, max_value=10**8))
def test_countdown_units_add_up(seconds):
    text = countdown_text(Expiry(AT, seconds, "item ttl"), 0)
    fields = text.removeprefix("expires in ").split()
    unit = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    shown = sum(int(f[:-1]) * unit[f[-1]] for f in fields)
    smallest = unit[fields[-1][-1]]
    assert 1 <= len(fields) <= 2
    assert shown <= seconds < shown + smallest
    assert not math.isnan(shown)


# --- inputs past what Cosmos allows (found by bench/fuzz_inputs.py) --------------------------------


def test_ttl_past_the_float_range_never_overflows():
    """An item ttl of 10**400 (JSON can carry it) made countdown_text raise OverflowError."""
    expiry = effective_expiry(10**400, -1, TS)
    assert (expiry.kind, expiry.reason) == (AT, "item ttl")
    assert countdown_text(expiry, TS + 0.5) == "expiry unknown"
    assert ttl_to_keep_instant(expiry, TS + 0.5) == MAX_TTL
    assert countdown_text(effective_expiry(None, 60, -(10**400)), TS) == "expired — pending purge"
    assert countdown_text(effective_expiry(None, 1e16, 10**400), TS) == "expiry unknown"  # huge int + float


@pytest.mark.parametrize("ttl", [math.nan, math.inf, -math.inf, 1.5, True, False])
def test_a_ttl_that_is_not_a_whole_number_is_invalid(ttl):
    assert effective_expiry(ttl, 60, TS) == Expiry(NEVER, None, f"invalid ttl {ttl}")
    assert effective_expiry(None, ttl, TS) == Expiry(NEVER, None, f"container default ttl {ttl} is not valid; treated as off")
    assert countdown_text(effective_expiry(ttl, -1, TS), TS) == "never"


def test_whole_float_ttl_counts_like_the_int():
    assert effective_expiry(60.0, -1, TS).at == TS + 60


def test_keep_instant_refuses_a_nan_clock_with_a_message_that_says_so():
    with pytest.raises(ValueError, match="not NaN"):
        ttl_to_keep_instant(effective_expiry(60, -1, TS), math.nan)


def test_ttl_option_with_thousands_of_digits_is_a_usage_error_not_a_crash():
    """Found by bench/fuzz_inputs.py: int() refuses over 4300 digits with a ValueError."""
    assert TtlChoice.parse("0" * 4400 + "60") == TtlChoice(TtlMode.SET, 60)
    with pytest.raises(UsageError) as info:
        TtlChoice.parse("9" * 5000)
    assert len(str(info.value)) < 150 and "whole number of seconds" in str(info.value)
