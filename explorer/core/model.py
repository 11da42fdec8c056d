"""The value types the screens, the CLI and the store edge share: where a store lives, one key
as read, and how a save treats the key's time to live.

Pure: no I/O, no clock (callers pass `now`), no SDK imports. The store edge
(explorer.session.gateway) fills these in; screens and the CLI only read them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

import orjson

from explorer.core.envelope import KeyPrefix, StateKey, compact_json, decode_value
from explorer.core.expiry import MAX_TTL, Expiry, ttl_to_keep_instant
from explorer.errors import UsageError


class TtlMode(Enum):
    KEEP = "keep"  # keep the current expiry instant (default)
    RESTART = "restart"  # start the item's original ttl again from now
    NONE = "none"  # never expire (ttl -1)
    SET = "set"  # a new ttl in seconds


@dataclass(frozen=True)
class TtlChoice:
    mode: TtlMode = TtlMode.KEEP
    seconds: int | None = None

    @property
    def text(self) -> str:
        """The choice as it is typed: keep, restart, none or the seconds."""
        return str(self.seconds) if self.mode is TtlMode.SET else self.mode.value

    @classmethod
    def parse(cls, text: str) -> TtlChoice:
        """keep | restart | none | SECONDS (a whole number of ASCII digits, 1 to 2147483647)."""
        text = text.strip().lower()
        if text in {m.value for m in TtlMode if m is not TtlMode.SET}:
            return cls(TtlMode(text))
        # str.isdigit() also accepts '²' and other digits int() refuses: ASCII digits only.
        # More than 10 significant digits is past MAX_TTL; checking first also keeps int() from
        # refusing (ValueError) a string of over 4300 digits.
        if text.isascii() and text.isdigit() and len(text.lstrip("0")) <= 10:
            seconds = int(text.lstrip("0") or "0")
            if 0 < seconds <= MAX_TTL:
                return cls(TtlMode.SET, seconds)
        shown = text if len(text) <= 40 else text[:40] + "…"
        raise UsageError(f"--ttl {shown!r}: use keep, restart, none or a whole number of seconds from 1 to {MAX_TTL}")

    def ttl_in_seconds(self, item: Mapping[str, object], expiry: Expiry, now: float) -> str | None:
        """The ttlInSeconds metadata to send, or None to send none."""
        if self.mode is TtlMode.SET:
            return str(self.seconds)
        if self.mode is TtlMode.NONE:
            return "-1"
        if self.mode is TtlMode.RESTART:
            ttl = item.get("ttl")
            return str(ttl) if isinstance(ttl, int) and not isinstance(ttl, bool) else None
        keep = ttl_to_keep_instant(expiry, now)
        if keep is not None:
            return str(keep)
        return "-1" if item.get("ttl") == -1 else None


def whole_number(value: object) -> int | None:
    """A document's number field (`ttl`, `_ts`) as an int, or None when it is not a whole number
    (missing, text, a bool, NaN, infinity, 1.5): such a field is shown, never a reason to crash."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


class MissingPartitionKey(str):
    """The partition of items that have no `partitionKey` field at all: Cosmos DB keeps them in its
    'undefined' partition. Dapr never writes such items (it always sets partitionKey), but other
    tools can; they are listed and shown under this one value, and never written through Dapr."""

    __slots__ = ()


#: The one value that names the 'undefined' partition (a str, so screens show it like any other).
NO_PARTITION_KEY = MissingPartitionKey("(no partitionKey)")


def partition_of(document: Mapping[str, object]) -> str:
    """A document's partition as the explorer names it: its partitionKey as text, or NO_PARTITION_KEY."""
    if "partitionKey" not in document:
        return NO_PARTITION_KEY
    return str(document["partitionKey"])


@dataclass(frozen=True)
class StoreLocation:
    """Where a Dapr store lives: its name for Dapr, its container for Cosmos, its key prefix."""

    store: str
    database: str
    container: str
    key_prefix: KeyPrefix
    default_ttl: int | None = None


@dataclass(frozen=True)
class KeyValue:
    """One key as the editor shows it: decoded key, the whole document, and its expiry."""

    state_key: StateKey
    document: Mapping[str, object]
    value_bytes: bytes  # what the app reads through Dapr
    etag: str
    expiry: Expiry

    @property
    def partition_key(self) -> str:
        return partition_of(self.document)

    @property
    def is_binary(self) -> bool:
        return self.document.get("isBinary") is True


def value_bytes_of(document: Mapping[str, object]) -> bytes:
    """The bytes Dapr returns for a document: JSON for JSON values, base64-decoded for isBinary.

    orjson first (fast); integers beyond 64 bits, which Cosmos and Dapr keep, and values nested
    deeper than orjson writes go through the standard library's encoder."""
    decoded = decode_value(document)
    if decoded.data is not None:
        return decoded.data
    try:
        return orjson.dumps(decoded.json)
    except orjson.JSONEncodeError:
        try:
            return compact_json(decoded.json)
        except (RecursionError, ValueError) as exc:
            raise UsageError(f"the value is nested too deeply to show ({exc.__class__.__name__})") from None
