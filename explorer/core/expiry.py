"""When a Cosmos item expires, computed from its ttl, the container's default ttl and `_ts`.

Local Cosmos-compatible servers never purge items, so expiry is computed and
shown, not waited for. Pure logic: this module must never do I/O and never
read the clock itself — callers pass `now` (epoch seconds).

Cosmos semantics followed here:

- Container defaultTtl unset: TTL is off; item ttls are ignored.
- defaultTtl -1: on, no default. Item ttl unset or -1 → never; N > 0 → `_ts + N`.
- defaultTtl N > 0: item ttl unset → `_ts + N`; -1 → never; M > 0 → `_ts + M`.
- Cosmos rejects item ttl 0 (or below -1) and container defaultTtl 0 (or below
  -1). Should one turn up anyway (e.g. from an emulator), an item's invalid
  ttl is shown as never expiring ("invalid ttl 0"), and an invalid container
  default is treated as TTL off. So is a ttl that is not a whole number
  (true/false, 1.5, NaN, infinity).
- Integers past the float range (ttl 10**400) never raise OverflowError: the
  time left is then ±infinity ("expiry unknown" / "expired").
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

#: Cosmos ttl is a 32-bit signed integer.
MAX_TTL = 2_147_483_647

#: The ttl values Cosmos DB accepts on an item (anything else is refused with 400, so Dapr's write fails).
ITEM_TTL_RULE = f"a whole number of seconds from 1 to {MAX_TTL}, or -1 (never expires)"


def item_ttl_problem(ttl: object) -> str | None:
    """Why Cosmos DB would refuse `ttl` on an item (None: absent, -1 or 1..MAX_TTL, which it keeps)."""
    if ttl is None or (_whole(ttl) and (ttl == -1 or 0 < ttl <= MAX_TTL)):
        return None
    shown = repr(ttl) if len(repr(ttl)) <= 24 else repr(ttl)[:23] + "…"
    return f"ttl {shown} is not one Cosmos DB keeps on an item ({ITEM_TTL_RULE})"


class ExpiryKind(enum.Enum):
    NEVER = "never"
    AT = "at"


@dataclass(frozen=True)
class Expiry:
    """NEVER, or AT `at` (epoch seconds); `reason` says which rule decided."""

    kind: ExpiryKind
    at: int | None
    reason: str


def _whole(ttl: object) -> bool:
    """A ttl Cosmos could hold: an int (not a bool) or a float with a whole value."""
    if isinstance(ttl, bool):
        return False
    if isinstance(ttl, float):
        return math.isfinite(ttl) and ttl.is_integer()
    return isinstance(ttl, int)


def _plus(a: float, b: float) -> float:
    """a + b, where an int too large for a float plus a float is ±infinity, not OverflowError."""
    try:
        return a + b
    except OverflowError:  # exactly one is an int past the float range; the other a float
        big = a if abs(a) > abs(b) else b  # an infinite float wins over any int, as in the sum
        return math.inf if big > 0 else -math.inf


def effective_expiry(item_ttl: int | None, container_default_ttl: int | None, ts: int) -> Expiry:
    """The instant Cosmos expires an item with `ttl` = item_ttl and `_ts` = ts. Never raises."""
    default = container_default_ttl
    if default is None or not _whole(default) or default == 0 or default < -1:
        if default is None:
            off = "container TTL is off"
        else:
            off = f"container default ttl {default} is not valid; treated as off"
        if item_ttl is not None:
            return Expiry(ExpiryKind.NEVER, None, f"{off}; the item's ttl is ignored")
        return Expiry(ExpiryKind.NEVER, None, off)
    if item_ttl is None:
        if default == -1:
            return Expiry(ExpiryKind.NEVER, None, "no ttl")
        return Expiry(ExpiryKind.AT, _plus(ts, default), "container default ttl")
    if item_ttl == -1 and _whole(item_ttl):
        return Expiry(ExpiryKind.NEVER, None, "ttl -1")
    if not _whole(item_ttl) or item_ttl <= 0:
        return Expiry(ExpiryKind.NEVER, None, f"invalid ttl {item_ttl}")
    return Expiry(ExpiryKind.AT, _plus(ts, item_ttl), "item ttl")


def remaining(expiry: Expiry, now: float) -> float | None:
    """Seconds until expiry (negative once past; ±infinity past the float range), None when it never expires."""
    if expiry.kind is ExpiryKind.NEVER or expiry.at is None:
        return None
    try:
        return float(expiry.at - now)
    except OverflowError:  # an int too large for a float on either side
        if isinstance(now, float) and math.isnan(now):
            return math.nan
        return math.inf if expiry.at > now else -math.inf


def _duration(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600:02d}h"


def countdown_text(expiry: Expiry, now: float) -> str:
    """"never", "expires in 2m 13s" (45s / 2m 13s / 1h 02m / 3d 04h), or "expired — pending purge"."""
    left = remaining(expiry, now)
    if left is None:
        return "never"
    if math.isnan(left):
        return "expiry unknown"
    if left <= 0:
        return "expired — pending purge"
    if math.isinf(left):
        return "expiry unknown"
    return "expires in " + _duration(math.ceil(left))


def ttl_to_keep_instant(expiry: Expiry, now: float) -> int | None:
    """ttlInSeconds to send on a save so the item still expires at the same instant.

    A save resets `_ts` to the save time, so this is the remaining time
    rounded up (at least 1 — an expired item then goes within a second;
    at most Cosmos' 32-bit limit). None when the item never expires.
    """
    left = remaining(expiry, now)
    if left is None:
        return None
    if math.isnan(left):  # a NaN now (or _ts): a caller's bug, not something a document can cause
        raise ValueError("now and the item's _ts must be numbers, not NaN")
    if left <= 0:
        return 1
    if math.isinf(left):
        return MAX_TTL
    return min(MAX_TTL, max(1, math.ceil(left)))
