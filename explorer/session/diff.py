"""Reading one side of a diff: an export file's records or a store's documents, as `SideKey`s.

What it is for: `dapr-explorer diff` (explorer.cli.commands) and the TUI's diff view (`D` in the
browser, explorer.tui.screens.diff) compare the same way; both read their sides here and hand them to
explorer.core.import_plan.diff_sides. A side is a store of the session (read through Cosmos, a page
at a time), a store of another named context (`CONTEXT:STORE`: a read-only session of that
context's own, explorer.session.contexts), or an export file (a path that exists or ends in
.jsonl/.json/.ndjson; `-` is stdin), read as recorded (explorer.session.import_run.export_records, not by
the import's rules: a value an import refuses is compared, never a crash). A folder that is no
store's name is refused, saying what a side can be.
Items Dapr did not write are counted in `skipped`, not compared.

What it must never do: write, or read a store other than through the session's lister.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from explorer.core.model import NO_PARTITION_KEY
from explorer.core.import_plan import SideKey, document_side_key, side_key
from explorer.errors import UnknownStore, UsageError
from explorer.session.import_run import export_records


def is_file_side(spec: str) -> bool:
    """Whether `spec` names an export file rather than a store."""
    return spec == "-" or spec.endswith((".jsonl", ".json", ".ndjson")) or os.path.isfile(spec)


async def read_side(session, spec: str, partition: str | None, skipped: list[str]) -> AsyncIterator[SideKey]:
    """The keys of one side (only `partition`'s when given); a file that cannot be read or holds a bad
    line raises UsageError naming it, and so does a folder that is no store's name."""
    if is_file_side(spec):
        for exported in export_records(spec, strict=False, partition=partition):  # compared as recorded
            yield side_key(exported)
        return
    context_name, colon, store = spec.partition(":")
    if colon and context_name and store:
        for key in await _context_side(type(session), context_name, store, partition, skipped):
            yield key
        return
    try:
        location = await session.location(spec)
    except UnknownStore:
        if os.path.isdir(spec):
            raise UsageError(f"{spec} is a folder, not an export file or a store: diff compares a store of the "
                             "session, CONTEXT:STORE, or an export file (a file, a path ending in .jsonl, "
                             "or - for stdin)") from None
        raise
    pks = [NO_PARTITION_KEY if partition == NO_PARTITION_KEY else partition] if partition is not None else [
        pk async for batch in session.partitions(location) for pk in batch.partitions]
    for pk in pks:
        async for document in session.documents(location, pk):
            key = document_side_key(document)
            if key is None:
                skipped.append(str(document.get("id")))
            else:
                yield key


async def _context_side(opener, context_name: str, store: str, partition: str | None,
                        skipped: list[str]) -> list[SideKey]:
    """`CONTEXT:STORE`: the store as a read-only session of that named context reads it (its component
    files, env file and CA), read whole while the context's environment is applied, then closed.
    `opener`: the session class (its `open`) of the session that asked."""
    from explorer.session.contexts import load_table, prepare

    context = load_table().pick(context_name)
    prepared = prepare(context, read_only=True)
    prepared.apply()
    try:
        session = await opener.open(prepared.resources_paths, [], prepared.api_token, read_only=True,
                                    ca_file=prepared.ca_file, start_sidecars=False,
                                    context_name=prepared.context_name, ru_per_second=prepared.ru_per_second)
        try:
            return [key async for key in read_side(session, store, partition, skipped)]
        finally:
            await session.close()
    finally:
        prepared.close()
