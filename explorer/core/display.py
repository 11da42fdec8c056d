"""How the explorer shows values, bytes, times and edits — pure text, no I/O.

What it is for: one place that turns a decoded value into what the key editor
draws (pretty JSON, a hex dump), parses what the user typed back into the
exact bytes Dapr will receive (with the line and column of a mistake), and
renders the old → new diff shown before a save.

What it must never do: touch the network, the clock (callers pass `now`) or
a widget; or accept an edit that is not valid JSON (or base64 for binary).
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.cells import get_character_cell_size


class InvalidEdit(ValueError):
    """What the user typed cannot be sent: says where and why. Nothing is sent."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = f" at line {self.line}, column {self.column}" if self.line is not None else ""
        return f"{self.message}{where}; nothing was sent"


def pretty_json(value: object) -> str:
    """JSON as people read it: 2-space indent, non-ASCII kept (keys not reordered)."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def pretty_json_bytes(data: bytes) -> str | None:
    """`data` pretty-printed if it is UTF-8 JSON, else None."""
    try:
        return pretty_json(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        return None


def hex_dump(data: bytes, limit: int = 4096, width: int = 16) -> str:
    """Offset, hex bytes and printable ASCII, `width` bytes a line; at most `limit` bytes shown."""
    lines = []
    for offset in range(0, min(len(data), limit), width):
        chunk = data[offset : min(offset + width, limit)]
        hex_part = " ".join(f"{b:02x}" for b in chunk).ljust(width * 3 - 1)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{offset:08x}  {hex_part}  {text}")
    if len(data) > limit:
        lines.append(f"… {len(data) - limit:,} more bytes")
    return "\n".join(lines)


def size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KiB"
    return f"{size / (1024 * 1024):.1f} MiB"


def parse_json_edit(text: str) -> bytes:
    """The bytes to save for an edited JSON value, or InvalidEdit naming line and column."""
    if not text.strip():
        raise InvalidEdit("the value is empty; type a JSON value (e.g. {} or \"text\")")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEdit(f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    # Compact, as an app's JSON serialiser would send it; Dapr stores it as a JSON value.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def parse_base64_edit(text: str) -> bytes:
    """The bytes to save for an edited binary value (typed as base64), or InvalidEdit."""
    compact = "".join(text.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidEdit(f"not valid base64: {exc}") from None


def edit_text_for(data: bytes, is_binary: bool) -> str:
    """What the edit box starts with: pretty JSON, or base64 for a binary value."""
    if is_binary:
        encoded = base64.b64encode(data).decode("ascii")
        return "\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    pretty = pretty_json_bytes(data)
    return pretty if pretty is not None else data.decode("utf-8", "replace")


def value_diff(old: str, new: str, context: int = 3) -> str:
    """A unified diff of the value before and after the edit ('' when they are the same)."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), fromfile="current", tofile="yours", lineterm="", n=context
    )
    return "\n".join(lines)


def timestamp_text(ts: int) -> str:
    """A `_ts` as UTC wall time, the way Cosmos reports it."""
    if ts <= 0:
        return "unknown"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def age_text(ts: int, now: float) -> str:
    """How long ago `_ts` was: "12s ago", "4m ago", "3h ago", "2d ago" ("in the future" on clock skew)."""
    if ts <= 0:
        return "unknown"
    seconds = int(now - ts)
    if seconds < 0:
        return "just now" if seconds > -5 else "in the future"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return f"{seconds}s ago"


def cut_cells(text: str, start: int, end: int) -> str:
    """The part of `text` between terminal cell positions `start` and `end`.

    A wide character cut in half becomes spaces, so the result is exactly `end - start` cells when
    `text` reaches `end`. (Rich's own splitter caches every segment it cuts; a table of unique rows
    scrolled sideways filled that cache with ~15 MB of rows long gone.)
    """
    if text.isascii():
        return text[start:end]
    out: list[str] = []
    position = 0
    for character in text:
        width = get_character_cell_size(character)
        if width == 0:  # combines with the character before it: kept with that character
            if start < position <= end:
                out.append(character)
            continue
        if position >= end:
            break
        if position >= start and position + width <= end:
            out.append(character)
        elif position + width > start:
            out.append(" " * (min(end, position + width) - max(start, position)))
        position += width
    return "".join(out)


def short_etag(etag: str, width: int = 14) -> str:
    """An etag cut to `width` characters for a table column (the editor shows it whole)."""
    etag = etag.strip('"')
    return etag if len(etag) <= width else etag[: width - 1] + "…"


@dataclass(frozen=True)
class CountSummary:
    """'1,234 partitions · 5,000 items scanned · 12.3 RU' and friends."""

    count: int
    noun: str
    scanned: int | None = None
    charge: float | None = None

    def __str__(self) -> str:
        parts = [f"{self.count:,} {self.noun}{'' if self.count == 1 else 's'}"]
        if self.scanned is not None:
            parts.append(f"{self.scanned:,} items")
        if self.charge is not None:
            parts.append(f"{self.charge:,.2f} RU")
        return " · ".join(parts)
