"""The CLI's printing chokepoints, shared by every command: JSON lines, rich tables, the `print`
that passes every line through `terminal_safe`, and the shapes of a partition and a value in JSON.

What it is for: one place where what a store holds turns into terminal output. What it must never
do: write a store value, key or error to the terminal without `terminal_safe`, `json_safe` or
`markup_safe` (rich markup in a key is text, never style), or print a secret.
"""

from __future__ import annotations

import base64
import builtins
import json
import sys
from collections.abc import Mapping
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table

from explorer.core.display import json_safe, markup_safe, terminal_safe_lines
from explorer.core.envelope import ValueKind, decode_value
from explorer.core.model import MissingPartitionKey
from explorer.core.ru_budget import throttled_text
from explorer.errors import ExplorerError, describe
from explorer.session.explorer_session import ExplorerSession


def dumps(obj: Any) -> str:
    """One JSON line, exact, with nothing in it a terminal acts on (`json_safe`: C1, bidi and other
    invisible characters as \\u escapes; JSON escapes C0 itself). orjson first; values nested deeper
    than it allows, or strings holding half a surrogate pair (which orjson refuses), go through json,
    which writes the half as the escape `\\udc80` — Python's json reads it back as it was."""
    try:
        return json_safe(orjson.dumps(obj).decode())
    except orjson.JSONEncodeError:
        try:
            return json_safe(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))
        except (RecursionError, ValueError, TypeError) as exc:
            raise ExplorerError(f"a value is nested too deeply to print as JSON ({exc.__class__.__name__})") from None


def emit_json(obj: Any) -> None:
    """One JSON line on stdout (`dumps`)."""
    sys.stdout.write(dumps(obj) + "\n")


def print(*parts: object, **options: Any) -> None:  # noqa: A001 - every print of the commands is human output
    """`print`, with every line passed through `terminal_safe`: text from a store (keys, partitions, ids,
    values, errors that quote them) never reaches the terminal raw, whichever line holds it. The line
    breaks of the message itself are kept (a break inside a key name is not: callers pass names through
    `terminal_safe` first, which shows it as ⏎), and so is a leading carriage return (progress lines
    that rewrite themselves)."""
    builtins.print(*(terminal_safe_lines(str(part)) for part in parts), **options)


def table(title: str, columns: list[str], rows: list[list[str]]) -> None:
    """A rich table on stdout, every title and cell as text (`markup_safe`), long cells folded."""
    shown = Table(title=markup_safe(title), title_justify="left")
    for column in columns:
        shown.add_column(column, overflow="fold")
    for row in rows:
        shown.add_row(*(markup_safe(cell) for cell in row))
    Console().print(shown)


def partition_json(pk: str) -> dict[str, Any]:
    """A partition key's JSON fields: the value, or the 'undefined' partition said as such."""
    return {"partitionKey": None, "defined": False} if isinstance(pk, MissingPartitionKey) else {"partitionKey": pk}


def bytes_json(data: bytes) -> dict[str, Any]:
    """Bytes in JSON: base64 and their size."""
    return {"base64": base64.b64encode(data).decode(), "size": len(data)}


def value_fields(document: Mapping[str, object]) -> dict[str, Any]:
    """`value` as the app reads it (JSON, or base64 bytes), and a warning for what is not Dapr's."""
    decoded = decode_value(document)
    out: dict[str, Any] = {}
    if decoded.kind is ValueKind.JSON:
        out["value"] = decoded.json
    elif decoded.kind is ValueKind.NOT_DAPR:
        out["value"] = None
        out["document"] = decoded.json  # the item as stored (system fields left out)
    else:
        out["value"] = bytes_json(decoded.data or b"")
    if decoded.warnings:
        out["warnings"] = list(decoded.warnings)
    return out


def pretty(text: str) -> str:
    """JSON text on one line when short, else indented under its label; anything else as it is."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    compact = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    if len(compact) <= 100:
        return compact
    return json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n    ")


def plural(number: int, what: str) -> str:
    """`1 agent`, `2 agents`."""
    return f"{number} {what}{'' if number == 1 else 's'}"


def say_throttled(session: ExplorerSession, store: str) -> None:
    """'throttled, waiting N s' on stderr (never stdout, which is the listing) each time the store's
    account answers 429 and the lister waits out its retry-after (explorer.backends.cosmos.lister)."""
    session.workspace.lister(store).on_throttle = lambda seconds: print(throttled_text(seconds), file=sys.stderr, flush=True)


class OutputIncomplete(ExplorerError):
    """A listing or export that stopped part-way: what was printed is not all there is."""

    title = "Incomplete"

    @classmethod
    def after(cls, count: int, what: str, exc: ExplorerError) -> OutputIncomplete:
        sys.stdout.flush()
        error = cls(f"wrote {count} {what}, then: {describe(exc)}. The output is INCOMPLETE.")
        error.retryable = exc.retryable
        return error
