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
  default is treated as TTL off.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

#: Cosmos ttl is a 32-bit signed integer.
MAX_TTL = 2_147_483_647


class ExpiryKind(enum.Enum):
    NEVER = "never"
    AT = "at"


@dataclass(frozen=True)
class Expiry:
    """NEVER, or AT `at` (epoch seconds); `reason` says which rule decided."""

    kind: ExpiryKind
    at: int | None
    reason: str


def effective_expiry(item_ttl: int | None, container_default_ttl: int | None, ts: int) -> Expiry:
    """The instant Cosmos expires an item with `ttl` = item_ttl and `_ts` = ts."""
    if container_default_ttl is None or container_default_ttl == 0 or container_default_ttl < -1:
        if container_default_ttl is None:
            off = "container TTL is off"
        else:
            off = f"container default ttl {container_default_ttl} is not valid; treated as off"
        if item_ttl is not None:
            return Expiry(ExpiryKind.NEVER, None, f"{off}; the item's ttl is ignored")
        return Expiry(ExpiryKind.NEVER, None, off)
    if item_ttl is None:
        if container_default_ttl == -1:
            return Expiry(ExpiryKind.NEVER, None, "no ttl")
        return Expiry(ExpiryKind.AT, ts + container_default_ttl, "container default ttl")
    if item_ttl == -1:
        return Expiry(ExpiryKind.NEVER, None, "ttl -1")
    if item_ttl <= 0:
        return Expiry(ExpiryKind.NEVER, None, f"invalid ttl {item_ttl}")
    return Expiry(ExpiryKind.AT, ts + item_ttl, "item ttl")


def remaining(expiry: Expiry, now: float) -> float | None:
    """Seconds until expiry (negative once past), None when it never expires."""
    if expiry.kind is ExpiryKind.NEVER or expiry.at is None:
        return None
    return expiry.at - now


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
    if math.isnan(left):
        raise ValueError("now must be a finite number of seconds")
    if left <= 0:
        return 1
    if math.isinf(left):
        return MAX_TTL
    return min(MAX_TTL, max(1, math.ceil(left)))
