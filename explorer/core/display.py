"""How the explorer shows values, bytes, times and edits — pure text, no I/O.

What it is for: one place that turns a decoded value into what the key editor
draws (pretty JSON, a hex dump), parses what the user typed back into the
exact bytes Dapr will receive (with the line and column of a mistake), and
renders the old → new diff shown before a save; and the one function
(`terminal_safe`) every human output passes store text through, so that key
names and values, which anyone who can write the store controls, never drive
the reader's terminal (and `json_safe`, its counterpart for `--json` lines).

What it must never do: touch the network, the clock (callers pass `now`) or
a widget; accept an edit that is not valid JSON (or base64 for binary), or
JSON that Dapr and Cosmos DB would store as something else than was typed;
or raise anything but InvalidEdit on what the user typed; or let a control,
bidi or line-breaking character of store text through `terminal_safe`.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich.cells import cell_len, get_character_cell_size, set_cell_size
from rich.markup import escape as _escape_markup

from explorer.errors import describe, is_retryable


# What never reaches a terminal raw from store text (key names, partition keys, ids, values, app-ids,
# etags, file names, errors that quote them):
# - C0 controls, DEL and C1 controls (U+0080-U+009F; U+009B alone is a CSI to many terminals): ESC
#   sequences set the title, write the clipboard (OSC 52), clear the screen; TAB, CR and newline move
#   the cursor, so a key could draw over, or add, lines of a listing. TAB is included: it breaks table
#   columns and hides what follows it.
# - bidi controls (U+061C, U+200E/U+200F, U+202A-U+202E, U+2066-U+2069): text that reads backwards.
# - other invisible format characters (Unicode category Cf: soft hyphen, zero-width space, word
#   joiner, BOM, invisible operators, interlinear annotations, Egyptian/shorthand/musical format
#   marks, the language tag U+E0001) and line/paragraph separators (U+2028/U+2029): two keys that
#   look the same, or text that is not there. Kept: ZWNJ/ZWJ (U+200C/U+200D), which Persian, Indic
#   scripts and emoji sequences need and which move nothing; tag characters (U+E0020-U+E007F) right
#   after a black flag (U+1F3F4), the subdivision flags' sequences — anywhere else they are invisible
#   ASCII in disguise and are shown.
# - lone surrogates (half of a UTF-16 pair, which a writer may have stored): no character, and they
#   make every UTF-8 encoder raise.
# Shown as Python writes them (`\x1b`, `\u202e`, `\udc80`, `\U000e0001`), a newline as `⏎`; every other
# character, non-ASCII and emoji included, is kept as is. A backslash is kept too: `\x1b` typed as four
# characters looks like an escaped ESC (the JSON output, which is exact, tells them apart).
_UNSAFE = re.compile(
    "\U0001F3F4[\U000E0020-\U000E007F]+"  # a subdivision flag: kept whole
    "|[\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# In a JSON text a C0 control is never in a string (JSON escapes them): TAB, LF and CR are whitespace.
_JSON_UNSAFE = re.compile(_UNSAFE.pattern.replace("\x00-\x1f", "", 1))
_SHOWN = {"\n": "⏎", "\t": "\\t", "\r": "\\r"}


def _shown(match: re.Match[str]) -> str:
    character = match.group()
    if len(character) > 1:  # a flag sequence
        return character
    shown = _SHOWN.get(character)
    if shown is not None:
        return shown
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """`text` (from a store) as it can be shown on a terminal: every control, bidi, invisible format or
    line-breaking character and every lone surrogate written out visibly (see _UNSAFE above); everything
    else unchanged. One line always; never raises; linear in the length of `text`."""
    if text.isascii() and text.isprintable():
        return text
    return _UNSAFE.sub(_shown, text)


def markup_safe(text: object) -> str:
    """Store text inside a Rich markup string (a CLI line, a notification, a Label): terminal-safe, and its
    brackets shown, never read as markup."""
    return _escape_markup(terminal_safe(str(text)))


def terminal_safe_lines(text: str) -> str:
    """A message of several lines, each one `terminal_safe`: the message's own line breaks are kept, and
    so is one carriage return at its start (a progress line that rewrites itself). For messages the
    explorer writes around store text; a name inside one should already be `terminal_safe` (or its
    newline becomes a line of the message)."""
    if text.isascii() and text.isprintable():
        return text
    start = "\r" if text.startswith("\r") else ""
    return start + "\n".join(terminal_safe(line) for line in text[len(start):].split("\n"))


def json_safe(line: str) -> str:
    """A JSON text with every character `terminal_safe` would show written as a JSON escape instead
    (`\\u009b`, `\\ud83d`…): the same JSON value, byte for byte what a parser reads back, and nothing in
    it a terminal would act on. Only strings can hold such characters, and in a JSON string an escape
    means the character itself, so this never changes what the JSON says. A lone surrogate stays one
    (`"\\udc80"`): the JSON grammar allows the escape, and Python's json reads it back as it was."""
    if line.isascii() and "\x7f" not in line:  # json.dumps escapes C0 itself, never DEL
        return line
    return _JSON_UNSAFE.sub(_json_escape, line)


def _json_escape(match: re.Match[str]) -> str:
    out = []
    for character in match.group():
        code = ord(character)
        if code > 0xFFFF:  # as a UTF-16 pair, the only way JSON escapes one
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)


def kind_words(value: object, of_json: bool = False) -> str:
    """What a YAML value is, in the user's words, without showing it (it may be a secret): the one way
    component files and contexts files say what a wrong field holds. `of_json`: what a JSON value is,
    as a document that does not fit its model says it (null, an object, the type's own name)."""
    if value is None:
        return "null" if of_json else "empty"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "an object" if of_json else "a map"
    if isinstance(value, list) or (not of_json and isinstance(value, (tuple, set))):
        return "a list"
    return type(value).__name__ if of_json else f"a YAML {type(value).__name__}"


class InvalidEdit(ValueError):
    """What the user typed cannot be sent: says where and why. Nothing is sent."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, hint: str = ""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint  # what to type instead, when the message alone does not say

    def __str__(self) -> str:
        where = f" at line {self.line}, column {self.column}" if self.line is not None else ""
        return f"{self.message}{where}; nothing was sent" + (f" — {self.hint}" if self.hint else "")


def pretty_json(value: object) -> str:
    """JSON as people read it: 2-space indent, non-ASCII kept (keys not reordered). What a terminal
    would act on stays an escape (`json_safe`: C1, bidi and other format characters, separators); so
    does half a surrogate pair (stored by a writer that allowed one): it is no character to draw or send.
    The text still reads back to the same value, so it can be edited and saved as it is."""
    return json_safe(json.dumps(value, indent=2, ensure_ascii=False))


def pretty_json_bytes(data: bytes) -> str | None:
    """`data` pretty-printed if it is UTF-8 JSON, else None."""
    try:
        return pretty_json(json.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        return None


def failure_line(exc: BaseException, retry: str = "r retries") -> str:
    """An error as one line for a pane. `retry` (what pressing r does) is added only when asking
    again can help (`is_retryable`: something was down); otherwise the error's own words say
    what to do instead."""
    line = describe(exc)
    return f"{line} — {retry}" if is_retryable(exc) else line


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


# Cosmos DB keeps at most 128 levels of objects and arrays in an item; Dapr's document around the
# value is the first of them. (orjson, which the explorer compares values with, reads 1024.)
MAX_VALUE_DEPTH = 127

_TOKEN = re.compile(r"""
    [ \t\n\r]+
  | (?P<string>"[^"\\]*(?:\\.[^"\\]*)*")
  | (?P<word>NaN|-?Infinity|true|false|null)
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)
  | (?P<open>[\[{])
  | (?P<close>[\]}])
  | (?P<comma>,)
  | :
""", re.VERBOSE | re.DOTALL)
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
_RAW_SURROGATE = re.compile("[\ud800-\udfff]")


def parse_json_edit(text: str) -> bytes:
    """The bytes to save for an edited JSON value, or InvalidEdit naming line and column.

    Refused as well as what is not JSON: what Dapr (daprd reads a JSON value with Go's
    encoding/json, numbers as float64) and Cosmos DB would not keep as typed — half a UTF-16
    surrogate pair (Go stores U+FFFD instead; it is no UTF-8 either), NaN/Infinity and numbers
    beyond float64 (Go refuses them), integers float64 cannot hold exactly (Go keeps the nearest
    float), a key twice in one object (Go keeps the last), nesting deeper than Cosmos DB keeps.
    Never raises anything else, whatever the text.
    """
    if not text.strip():
        raise InvalidEdit("the value is empty; type a JSON value (e.g. {} or \"text\")")
    try:  # syntax only: no number is converted, nothing is built
        json.loads(text, parse_int=str, parse_float=str, parse_constant=str, object_pairs_hook=lambda pairs: None)
    except json.JSONDecodeError as exc:
        raise InvalidEdit(f"not valid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except RecursionError:
        pass  # nested deeper than Python's parser goes: check_json_text says where
    check_json_text(text)
    # Compact, as an app's JSON serialiser would send it; Dapr stores it as a JSON value.
    return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def check_json_text(text: str, levels_around: int = 0) -> None:
    """InvalidEdit at the first place (in text order) Dapr or Cosmos DB would not keep as typed: the
    rules of `parse_json_edit`, for JSON text that is syntactically valid. `levels_around`: objects
    the value sits in within `text` (an export line's record is one), not counted against the depth
    limit. Every writer checks a value it did not read from the store here (set, the editor, import)."""
    frames: list[dict[str, int] | None] = []  # per open object its keys so far (None: an array)
    max_depth = MAX_VALUE_DEPTH + levels_around
    expect_key = False
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise InvalidEdit("not valid JSON", *_line_column(text, pos))
        kind, token = match.lastgroup, match.group()
        if kind == "open":
            if len(frames) >= max_depth:
                raise InvalidEdit(
                    f"nested more than {MAX_VALUE_DEPTH} levels deep (Cosmos DB keeps 128 levels of objects and "
                    "arrays in an item, and Dapr's document around the value is one)",
                    *_line_column(text, pos), hint="store fewer levels")
            frames.append({} if token == "{" else None)
            expect_key = token == "{"
        elif kind == "close":
            if frames:
                frames.pop()
            expect_key = False
        elif kind == "comma":
            expect_key = bool(frames) and frames[-1] is not None
        elif kind == "string":
            _check_string(text, pos, token)
            if expect_key and frames and frames[-1] is not None:
                _check_key(text, pos, token, frames[-1])
            expect_key = False
        elif kind == "word" and token.lstrip("-") in {"NaN", "Infinity"}:
            raise InvalidEdit(f"{token} is not JSON (JSON has no NaN or Infinity; Dapr would refuse the value)",
                              *_line_column(text, pos), hint="use null or a string")
        elif kind == "number":
            _check_number(text, pos, token)
        pos = match.end()


def _check_string(text: str, pos: int, token: str) -> None:
    """A string with half a surrogate pair: no character, and no UTF-8 (Go would store U+FFFD)."""
    raw = _RAW_SURROGATE.search(token)
    lone = _lone_surrogate_escape(token) if "\\u" in token else None
    if raw is not None and (lone is None or raw.start() < lone[0]):
        raise InvalidEdit(f"U+{ord(raw.group()):04X} is half of a surrogate pair, with no other half (pasted?): "
                          "not a character, and not UTF-8", *_line_column(text, pos + raw.start()),
                          hint="type the character itself")
    if lone is not None:
        raise InvalidEdit(f"\\u{lone[1]:04x} is half of a surrogate pair, with no other half: not a character "
                          "(Dapr would store U+FFFD, the replacement character, in its place)",
                          *_line_column(text, pos + lone[0]), hint="type the character itself")


def _lone_surrogate_escape(token: str) -> tuple[int, int] | None:
    """(offset, code) of the first \\uXXXX in `token` that is half a surrogate pair on its own."""
    high = None  # a high half waiting for its low half, next to it
    for escape in _ESCAPE.finditer(token):
        code = int(escape.group(1), 16) if escape.group(1) else -1
        if high is not None:
            if 0xDC00 <= code <= 0xDFFF and escape.start() == high[0] + 6:
                high = None
                continue
            return high
        if 0xD800 <= code <= 0xDBFF:
            high = (escape.start(), code)
        elif 0xDC00 <= code <= 0xDFFF:
            return escape.start(), code
    return high


def _check_key(text: str, pos: int, token: str, keys: dict[str, int]) -> None:
    key = json.loads(token) if "\\" in token else token[1:-1]
    first = keys.setdefault(key, pos)
    if first != pos:
        line, column = _line_column(text, first)
        shown = key if len(key) <= 40 else key[:39] + "…"
        raise InvalidEdit(f'key "{shown}" appears twice in one object (first at line {line}, column {column}; '
                          "Dapr would keep only the last)", *_line_column(text, pos), hint="remove one")


def _check_number(text: str, pos: int, token: str) -> None:
    """Dapr (Go) reads JSON numbers as float64, and Cosmos DB stores float64."""
    number = float(token)  # never raises for a JSON number; too large is inf
    shown = token if len(token) <= 24 else token[:23] + "…"
    if math.isinf(number):
        raise InvalidEdit(f"{shown} is too large for a number as Dapr and Cosmos DB read them (64-bit floats, up "
                          "to about 1.8e308; Dapr would refuse the value)", *_line_column(text, pos),
                          hint="put it in quotes")
    if not any(c in token for c in ".eE") and int(token) != int(number):
        kept = str(int(Decimal(repr(number)))) if abs(number) < 1e21 else repr(number)  # as Go writes float64
        raise InvalidEdit(f"{shown} does not fit a 64-bit float: Dapr and Cosmos DB would keep {kept}",
                          *_line_column(text, pos), hint="put it in quotes to keep every digit")


def _line_column(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of `pos`, counted as Python's JSON parser counts them."""
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


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
    return moment_text(datetime.fromtimestamp(ts, UTC)) + "Z"


def moment_text(moment: datetime | None, date: bool = True, millis: bool = False, missing: str = "—") -> str:
    """A moment as the screens and the CLI write it: `2026-12-07 22:00:00` (`date=False`:
    `12-07 22:00:00`; `millis`: `.123` after the seconds), `missing` when there is none. The one
    time format of the faces: a table, a timeline and an export line never disagree on a time."""
    if moment is None:
        return missing
    text = moment.strftime("%Y-%m-%d %H:%M:%S.%f" if millis else "%Y-%m-%d %H:%M:%S")
    text = text[:-3] if millis else text
    return text if date else text[5:]


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


def short_value(value: Any, width: int = 60) -> str:
    """A value on one line for a table: compact JSON, or the size and base64 of bytes, cut at `width`."""
    if isinstance(value, bytes):
        text = f"{len(value)} bytes · {base64.b64encode(value).decode()}"
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= width else text[:width - 1] + "…"


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


def fit_cells(text: str, cells: int) -> str:
    """`text` cut to at most `cells` terminal cells, ending in … when it was longer."""
    if cell_len(text) <= cells:
        return text
    return set_cell_size(text, max(0, cells - 1)) + "…" if cells > 0 else ""


def short_etag(etag: str, width: int = 14) -> str:
    """An etag cut to `width` characters for a table column (the editor shows it whole)."""
    etag = terminal_safe(etag.strip('"'))
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
