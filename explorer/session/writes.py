"""The session's one audited write: every save, create and delete, and the audit lines of the
writes that were refused or skipped before anything was sent.

What it is for: `ExplorerSession.write` and its records: the store's gateway is asked of the
workspace once per write, the write sent through it, the item read back, and its audit record
(done, conflict, refused, failed, unverified) appended before the outcome is reported.
What it must never do: write in a read-only session (refused before any I/O), retry a write after
an etag conflict, report an outcome before its audit line is on disk, or put a secret in a line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from functools import partial

from explorer.core.audit import Outcome, Who, record_for
from explorer.core.envelope import StateKey
from explorer.core.model import KeyValue, StoreLocation, TtlChoice
from explorer.core.writes import KeyChange, WriteKind
from explorer.errors import EtagConflict, ExplorerError, ReadOnlyRefusal, SavedUnverified, describe
from explorer.session.audit_log import AuditLog, who
from explorer.session.gateway import WritableGateway
from explorer.session.workspace import Workspace


class AuditedWrites:
    """Writes through a workspace's gateways, each with its line in `audit`."""

    def __init__(self, workspace: Workspace, audit: AuditLog, context_name: str | None = None):
        self.workspace = workspace
        self.audit = audit
        self.context_name = context_name
        self._whos: dict[str, Who] = {}  # store -> its audit records' Who, once its identity was asked (see _who)

    def _writable(self, store: str) -> WritableGateway:
        gateway = self.workspace.gateway(store)
        if self.workspace.read_only or not isinstance(gateway, WritableGateway):
            raise ReadOnlyRefusal("read-only session: nothing can be written (started with --read-only). Nothing was sent.")
        return gateway

    def record_refusals(self, location: StoreLocation,
                        writes: Iterable[tuple[StateKey, str, str, KeyValue | None, str | None]], reason: str) -> None:
        """The "refused" audit lines of writes not confirmed (a production context's name not typed),
        each (state_key, partition, operation, before, etag), on disk in one go before this returns."""
        if self.workspace.read_only:
            return  # nothing can be written, so nothing was refused: a read-only session never opens the log
        now, by = time.time(), self._who(location.store, self._writable(location.store))
        records = []
        for state_key, partition, operation, before, etag in writes:
            kind = WriteKind.DELETE if operation == "delete" else WriteKind.SAVE
            change = KeyChange(kind, state_key, partition, etag if before is None else before.etag,
                               create_only=operation == "create")
            records.append(record_for(change, location.store, by, now, Outcome.REFUSED,
                                      before=None if before is None else before.value_bytes,
                                      before_is_binary=before is not None and before.is_binary, error=reason))
        self.audit.append(*records)

    async def record_skip(self, location: StoreLocation, change: KeyChange, reason: str,
                          on_logged: Callable[[asyncio.Future], None] | None = None) -> None:
        """The "skipped" audit line of a key of a confirmed dry run (bulk, import) that is not written
        because it changed or was deleted since: nothing is sent. `on_logged` as for `write`."""
        if not self.audit.writable:
            await asyncio.to_thread(self.audit.ready)
        by = self._who(location.store, self._writable(location.store))
        await self._log(location, change, by, time.time(), Outcome.SKIPPED, None, None, on_logged, error=reason)

    async def write(self, location: StoreLocation, change: KeyChange, before: KeyValue | None = None,
                    ttl_choice: TtlChoice | None = None,
                    on_logged: Callable[[asyncio.Future], None] | None = None, planned: bool = False) -> KeyValue | None:
        """Carry out one write (the gateway's one write path), read the item back (None after a
        delete), and append its audit record — done, conflict, refused or failed — before the
        outcome is reported. `before`: the key as it was read (its value is hashed and diffed).
        A failed read-back after a save says the save happened. An audit log that cannot be
        written refuses the write before anything is sent.

        `on_logged`, if given, takes over the wait for the audit line: it is handed the line's future
        (done once the line is on disk, or failed with AuditUnavailable) as soon as the line is queued,
        and the write returns, or raises, without waiting for the disk. The caller must not report
        the outcome before that future is done: the bulk runner sends the next key meanwhile.

        `planned`: the write is one key of a confirmed dry run (bulk, import): refused by its etag
        (changed or deleted since the dry run), it is recorded `skipped`, not `conflict`."""
        gateway = self._writable(location.store)
        if not self.audit.writable:
            await asyncio.to_thread(self.audit.ready)  # file I/O off the event loop (the TUI's, or the bulk runner's)
        log = partial(self._log, location, change, None, time.time(), before=before, ttl_choice=ttl_choice,
                      on_logged=on_logged, gateway=gateway)
        try:
            await gateway.write(location, change)
        except EtagConflict as exc:
            await log(Outcome.SKIPPED if planned else Outcome.CONFLICT, error=exc)
            raise
        except BaseException as exc:  # cancelled too: whether it reached Cosmos is not known
            await log(Outcome.REFUSED if isinstance(exc, ExplorerError) and exc.refused else Outcome.FAILED, error=exc)
            raise
        if change.kind is WriteKind.DELETE:
            await log(Outcome.DONE)
            return None
        try:
            saved = await gateway.get(location, change.state_key.doc_id, change.partition, time.time())
        except Exception as exc:  # noqa: BLE001 - the write happened; say so, whatever the read-back did
            await log(Outcome.UNVERIFIED, error=exc)
            raise SavedUnverified(
                f"saved through Dapr, but reading it back from Cosmos failed ({describe(exc)}); read the key again "
                "to see what it holds"
            ) from exc
        await log(Outcome.DONE, etag_after=saved.etag)
        return saved

    async def _log(self, location: StoreLocation, change: KeyChange, by: Who | None, started: float,
                   outcome: Outcome, before: KeyValue | None, ttl_choice: TtlChoice | None,
                   on_logged: Callable[[asyncio.Future], None] | None, etag_after: str | None = None,
                   error: BaseException | str | None = None, gateway: WritableGateway | None = None) -> None:
        """Append one write's audit record: returns once it is on disk, or, with `on_logged`, hands it
        the line's future as soon as the line is queued. `by` None: asked of `gateway` (see _who)."""
        if by is None:
            assert gateway is not None
            by = self._who(location.store, gateway)
        line = self.audit.append_soon(partial(  # made in the audit log's thread, with the rest of its flush
            record_for, change, location.store, by, started, outcome,
            before=None if before is None else before.value_bytes,
            before_is_binary=before is not None and before.is_binary, etag_after=etag_after,
            ttl_choice=None if ttl_choice is None else ttl_choice.text,
            error=error if error is None or isinstance(error, str) else describe(error)))
        if on_logged is not None:
            on_logged(line)
        else:
            await line  # cancelled meanwhile: only this wait is; the line is still written

    def _who(self, store: str, gateway: WritableGateway) -> Who:
        """Who writes to `store`, for its audit records: the OS user and host, the context, and the
        identity to the store's Cosmos account (None: not known). Asked once per store, after its
        first write: by then its credential has answered (the key was read first), so the description
        no longer changes, and a bulk action does not re-plan its sign-in for every key."""
        known = self._whos.get(store)
        if known is not None:
            return known
        try:
            identity = gateway.identity()
        except Exception:  # noqa: BLE001 - the audit line says "unknown" rather than stop a write
            return who(self.context_name, None)  # not kept: asked again at the next write
        known = self._whos[store] = who(self.context_name, identity)
        return known
