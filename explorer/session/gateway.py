"""The store edge's data path for keys: reads one key, and carries out every write.

What it is for: keeping Dapr's document envelope intact. Every write of the
explorer — TUI save and delete, CLI set and delete, and any later bulk or import
— is one `KeyChange` (explorer.core.writes: partitionKey, etag, ttl and value
shape already decided) passed to `WritableGateway.write`, the one function that
writes. It goes through daprd, so the envelope is Dapr's own.

Two types: `ReadOnlyGateway` has no write methods at all, so in --read-only no
code path can write; `WritableGateway` adds `write`. Actor and workflow
state is read through Cosmos (the state API refuses their '||' keys) and is
never written. When no reachable sidecar owns a key, a writable gateway asks its
optional `launch` provider (the workspace's own daprd, explorer.dapr.own_sidecar).

What it must never do: write without the item's partitionKey, retry a write
after an etag conflict, or write actor/workflow state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from explorer.core.envelope import StateKey, parse_document_id
from explorer.core.expiry import effective_expiry
from explorer.core.model import KeyValue, StoreLocation, value_bytes_of, whole_number
from explorer.core.writes import KeyChange, WriteKind, fits_a_batch
from explorer.backends.base import PointReader
from explorer.errors import EtagConflict, KeyGone, NoSidecar, NotFound, NotWritable, RoleMissing
from explorer.dapr.sidecar import SidecarClient, StateWrite


#: Gives a sidecar that writes a key when no reachable sidecar owns it (may start one).
SidecarProvider = Callable[[StateKey], Awaitable[SidecarClient]]


class ReadOnlyGateway:
    """Reads keys. Has no method that writes."""

    def __init__(self, lister: PointReader, sidecars: Mapping[str, SidecarClient] | None = None):
        """`sidecars`: the workspace's own map by app-id, kept (not copied), so a sidecar connected
        or started after this gateway was made is the one it uses."""
        self._lister = lister
        self._sidecars: Mapping[str, SidecarClient] = sidecars if sidecars is not None else {}

    @property
    def read_only(self) -> bool:
        return True

    def sidecar_for(self, app_id: str | None) -> SidecarClient | None:
        """The sidecar of the app that owns a key. Ids under name/custom/none prefixes
        carry no app-id; then the only reachable sidecar is used, if there is just one."""
        if app_id is None and len(self._sidecars) == 1:
            return next(iter(self._sidecars.values()))
        return self._sidecars.get(app_id or "")

    async def get(self, location: StoreLocation, doc_id: str, partition: str, now: float) -> KeyValue:
        """The document by point read (Cosmos), with its decoded key and effective expiry.

        The value is the document's own value; the session also reads plain keys
        through Dapr where a sidecar is reachable (`ExplorerSession.check_through_dapr`).
        """
        document = await self._lister.read_item(location.database, location.container, doc_id, partition)
        state_key = parse_document_id(doc_id, location.key_prefix, location.store)
        expiry = effective_expiry(whole_number(document.get("ttl")), location.default_ttl,
                                  whole_number(document.get("_ts")) or 0)
        return KeyValue(state_key, document, value_bytes_of(document), str(document.get("_etag", "")), expiry)


class WritableGateway(ReadOnlyGateway):
    """Reads, and writes through Dapr with the item's partitionKey and an etag check.

    `launch`, if given, supplies a sidecar for keys no reachable sidecar owns; `identity`, if given,
    describes who the store signs in as, named when Cosmos refuses a write for a missing role.
    """

    def __init__(self, lister: PointReader, sidecars: Mapping[str, SidecarClient] | None = None,
                 launch: SidecarProvider | None = None, identity: Callable[[], str] | None = None):
        super().__init__(lister, sidecars)
        self._launch = launch
        self._identity = identity

    def identity(self) -> str | None:
        """Who the store signs in as, in one line (None: not known); never a secret."""
        return self._identity() if self._identity else None

    @property
    def read_only(self) -> bool:
        return False

    async def writer_for(self, state_key: StateKey) -> SidecarClient:
        """The sidecar that writes `state_key`: its app's reachable sidecar, else one from `launch`."""
        reason = state_key.read_only_reason
        if reason:
            raise NotWritable(reason)
        sidecar = self.sidecar_for(state_key.app_id)
        if sidecar is not None:
            return sidecar
        if self._launch is None:
            raise NoSidecar(
                f"no sidecar for app-id {state_key.app_id!r} is reachable; writes must go through the app's own "
                "sidecar so the id prefix stays the same. Pass its --dapr-grpc-port, or let the explorer start a "
                "daprd of its own for that app-id (without --no-start-sidecar)."
            )
        return await self._launch(state_key)

    async def write(self, location: StoreLocation, change: KeyChange) -> None:
        """Carry out one decided write through the sidecar that owns the key — the only place
        the explorer writes. Raises EtagConflict (nothing written) when the item changed, was
        deleted, or (create-only) appeared meanwhile."""
        sidecar = await self.writer_for(change.state_key)
        try:
            if change.kind is WriteKind.DELETE:
                await self._delete(sidecar, location, change)
                return
            assert change.value is not None
            await sidecar.save(location.store, [StateWrite(
                change.state_key.key, change.value.data, etag=change.etag, metadata=change.metadata,
                first_write=change.etag is not None or change.create_only)])
        except RoleMissing as refused:  # daprd signs in with the component's identity: name it
            raise refused.with_identity(self.identity()) from refused

    async def _delete(self, sidecar: SidecarClient, location: StoreLocation, change: KeyChange) -> None:
        """A delete the store checks against the etag read, so that a key someone else deleted meanwhile
        is KeyGone, never "deleted": a one-delete transaction where daprd can send the id in one (its
        plain DeleteState answers success for an etag-checked delete of a missing key), else a read
        just before DeleteState (the one window left: a delete by someone else between the two)."""
        key = change.state_key
        if fits_a_batch(key.doc_id):
            await sidecar.delete_in_transaction(location.store, key.key, etag=change.etag, metadata=change.metadata)
            return
        if change.etag:
            try:
                now = await self.get(location, key.doc_id, change.partition, 0)
            except NotFound:
                raise KeyGone.of(f"{location.store}/{key.key}", change.etag) from None
            if now.etag != change.etag:
                raise EtagConflict.of(f"{location.store}/{key.key}")
        await sidecar.delete(location.store, key.key, etag=change.etag, metadata=change.metadata)

