"""Reading one side of a diff: an export file's records or a store's documents, as `SideKey`s.

What it is for: `dapr-explorer diff` (explorer.commands) and the TUI's diff view (`D` in the
browser, explorer.widgets.diff) compare the same way; both read their sides here and hand them to
explorer.core.restore.diff_sides. A side is a store of the session (read through Cosmos, a page
at a time) or an export file (a path that exists or ends in .jsonl/.json/.ndjson; `-` is stdin).
Items Dapr did not write are counted in `skipped`, not compared.

What it must never do: write, or read a store other than through the session's lister.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator

from explorer.core.model import NO_PARTITION_KEY
from explorer.core.restore import BadLine, SideKey, document_side_key, read_export, side_key
from explorer.errors import UsageError


def is_file_side(spec: str) -> bool:
    """Whether `spec` names an export file rather than a store."""
    return spec == "-" or spec.endswith((".jsonl", ".json", ".ndjson")) or os.path.isfile(spec)


async def read_side(session, spec: str, partition: str | None, skipped: list[str]) -> AsyncIterator[SideKey]:
    """The keys of one side (only `partition`'s when given); a file that cannot be read or holds a bad
    line raises UsageError naming it."""
    if is_file_side(spec):
        try:
            handle = sys.stdin.buffer if spec == "-" else open(spec, "rb")  # noqa: SIM115
        except OSError as exc:
            raise UsageError(f"{spec}: {exc.strerror or exc}") from None
        try:
            with handle:
                for exported in read_export(handle):
                    if partition is None or exported.partition == partition:
                        yield side_key(exported)
        except BadLine as exc:
            raise UsageError(f"{spec}: {exc}") from None
        return
    location = await session.location(spec)
    pks = [NO_PARTITION_KEY if partition == NO_PARTITION_KEY else partition] if partition is not None else [
        pk async for batch in session.partitions(location) for pk in batch.partitions]
    for pk in pks:
        async for document in session.documents(location, pk):
            key = document_side_key(document)
            if key is None:
                skipped.append(str(document.get("id")))
            else:
                yield key
