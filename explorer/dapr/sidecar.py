"""A small async client for a Dapr sidecar's state and metadata gRPC API.

What it is for: reading and writing state through daprd so that the Cosmos
document envelope is always Dapr's own, and reading the sidecar's metadata
(app-id, registered stores, capabilities). It uses the generated stubs shipped
in the `dapr` package directly: they return the response metadata
(ttlExpireTime) that the high-level SDK drops, and they neither block on an
HTTP health check nor print to stdout (which would corrupt the TUI).

What it must never do: talk to Cosmos, retry a write, or drop an etag. A
conflicting etag surfaces as `EtagConflict`, never as a silent overwrite.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import grpc
from dapr.proto.common.v1 import common_pb2
from dapr.proto.runtime.v1 import dapr_pb2_grpc, metadata_pb2, state_pb2

from explorer.core.query_answers import QueryAnswer
from explorer.errors import (
    EtagConflict, ExplorerError, InvalidKey, KeyGone, RoleMissing, SidecarError, SidecarRefused, SidecarUnavailable,
    WriteOutcomeUnknown, is_rbac_refusal,
)


@dataclass(frozen=True)
class StateWrite:
    """One key to save: value bytes as the app would send them, plus request metadata."""

    key: str
    value: bytes
    etag: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    first_write: bool | None = None  # Dapr's first-write concurrency; None: on exactly when an etag is given

    @property
    def concurrency_first_write(self) -> bool:
        return bool(self.etag) if self.first_write is None else self.first_write


@dataclass(frozen=True)
class StateRead:
    key: str
    data: bytes
    etag: str
    metadata: Mapping[str, str]

    @property
    def found(self) -> bool:
        return bool(self.etag) or bool(self.data)


@dataclass(frozen=True)
class RegisteredStore:
    name: str
    type: str
    version: str
    capabilities: tuple[str, ...]


@dataclass(frozen=True)
class SidecarMetadata:
    app_id: str
    runtime_version: str
    stores: tuple[RegisteredStore, ...]


def _throttled(details: str) -> bool:
    """Whether daprd's error carries Cosmos DB's 429 (its HTTP response, after "failed saving state")."""
    return "429" in details and any(t in details for t in ("Too Many Requests", "TooManyRequests", "Request rate is large"))


#: How Cosmos DB's state store says which operation of a transaction failed, and with what status
#: (components-contrib v1.18.3 state/azure/cosmosdb Multi; daprd wraps it as "error while executing
#: state transaction: …").
_TRANSACTION_STATUS = re.compile(r"transaction failed due to operation \d+ which failed with status code (\d{3})")


def _translate(exc: Exception, address: str, store: str, key: str, writing: bool, timeout: float,
               etag: str | None = None) -> ExplorerError:
    """One plain line for a failed call: what failed, and what to do. `etag`: the one a write was
    checked against."""
    what = f"{store}/{key}" if key else store
    if not isinstance(exc, grpc.aio.AioRpcError):
        # e.g. protobuf's DecodeError: something answered on that port, but not Dapr's API.
        return SidecarError(f"the service at {address} did not answer like a Dapr sidecar ({exc.__class__.__name__}); "
                            "check the port (daprd's gRPC port, not its HTTP port).")
    code, details = exc.code(), (exc.details() or "").strip()
    first = details.splitlines()[0][:300] if details else ""
    if code == grpc.StatusCode.UNAVAILABLE:
        never_connected = any(s in details.lower() for s in ("failed to connect", "connection refused", "dns resolution"))
        if writing and not never_connected:  # e.g. "Stream removed": the request may have reached daprd
            return WriteOutcomeUnknown(f"the sidecar at {address} went away during the write of {what} ({first}). "
                                       "The write may or may not have happened: read the key again before retrying.")
        return SidecarUnavailable(f"no Dapr sidecar answers at {address} ({first}). Start one, or pass --dapr-grpc-port.")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        if writing:
            return WriteOutcomeUnknown(f"the sidecar at {address} did not answer {what} within {timeout:g}s (frozen or "
                                "overloaded?). The write may or may not have happened: read the key again before "
                                "retrying.")
        return SidecarUnavailable(f"the sidecar at {address} did not answer within {timeout:g}s (frozen or overloaded?).")
    if is_rbac_refusal(details):  # Cosmos' 403 for a missing role, inside daprd's "failed saving state …"
        return RoleMissing(what, writing)
    if _throttled(details):  # Cosmos' 429 after daprd's own retries (azcore: 3, after each retry-after)
        verb = "write" if writing else "read"
        return SidecarError(f"Cosmos DB throttled the {verb} of {what} (429: request rate too large) and daprd gave up "
                            f"after its own retries; {'nothing was written' if writing else 'nothing was read'}. "
                            "Wait a moment and try again, or ask for more RU/s on the container.")
    status = _TRANSACTION_STATUS.search(details)
    if status and status.group(1) == "404" and etag:  # an etag-checked delete of a key that is gone
        return KeyGone.of(what, etag)
    if (status and status.group(1) == "412") or (code == grpc.StatusCode.ABORTED and "etag" in details.lower()):
        return EtagConflict.of(what)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidKey(f"{what}: {first}")
    if code == grpc.StatusCode.UNAUTHENTICATED or "api token" in details.lower():
        return SidecarRefused(address, first or code.name)
    if code == grpc.StatusCode.PERMISSION_DENIED:  # answered, and refused (e.g. Dapr's API allowlist)
        return SidecarRefused(address, first or code.name, token=False)
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return SidecarError(f"the service at {address} does not implement Dapr's API ({first}); is it a Dapr sidecar's "
                            "gRPC port?")
    return SidecarError(f"{what}: {code.name}: {first}")


class SidecarClient:
    """One gRPC channel to one daprd. Use `async with`, or call close()."""

    def __init__(self, address: str, api_token: str | None = None, timeout: float = 20.0):
        self.address = address
        self._metadata = (("dapr-api-token", api_token),) if api_token else ()
        self._timeout = timeout
        # A connection of its own: by default gRPC shares one connection between all channels to an
        # address, so a new client to a sidecar that just came back would inherit the old client's
        # failure and reconnect backoff (measured: "connection refused" with daprd listening).
        self._channel = grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
        self._stub = dapr_pb2_grpc.DaprStub(self._channel)

    async def __aenter__(self) -> SidecarClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._channel.close()

    async def metadata(self) -> SidecarMetadata:
        try:
            reply = await self._stub.GetMetadata(
                metadata_pb2.GetMetadataRequest(), metadata=self._metadata, timeout=self._timeout
            )
        except Exception as exc:  # noqa: BLE001 - translated to one line
            raise _translate(exc, self.address, "metadata", "", False, self._timeout) from exc
        stores = tuple(
            RegisteredStore(c.name, c.type, c.version, tuple(c.capabilities))
            for c in reply.registered_components
            if c.type.startswith("state.")
        )
        return SidecarMetadata(reply.id, reply.runtime_version, stores)

    async def get(self, store: str, key: str, metadata: Mapping[str, str] | None = None) -> StateRead:
        try:
            reply = await self._stub.GetState(
                state_pb2.GetStateRequest(store_name=store, key=key, metadata=dict(metadata or {})),
                metadata=self._metadata,
                timeout=self._timeout,
            )
        except Exception as exc:  # noqa: BLE001 - translated to one line
            raise _translate(exc, self.address, store, key, False, self._timeout) from exc
        return StateRead(key, reply.data, reply.etag, dict(reply.metadata))

    async def save(self, store: str, writes: Sequence[StateWrite]) -> None:
        """Save keys; each write with an etag is checked by the store (first-write-wins off)."""
        items = [
            common_pb2.StateItem(
                key=w.key,
                value=w.value,
                etag=common_pb2.Etag(value=w.etag) if w.etag else None,
                metadata=dict(w.metadata),
                options=common_pb2.StateOptions(concurrency=common_pb2.StateOptions.CONCURRENCY_FIRST_WRITE)
                if w.concurrency_first_write
                else None,
            )
            for w in writes
        ]
        try:
            await self._stub.SaveState(
                state_pb2.SaveStateRequest(store_name=store, states=items), metadata=self._metadata, timeout=self._timeout
            )
        except Exception as exc:  # noqa: BLE001 - translated to one line
            what = writes[0].key if len(writes) == 1 else f"{len(writes)} keys"
            raise _translate(exc, self.address, store, what, True, self._timeout) from exc

    async def delete(self, store: str, key: str, etag: str | None = None, metadata: Mapping[str, str] | None = None) -> None:
        """Delete one key (DeleteState), checked against `etag` if given. Beware: Cosmos DB's state store
        answers success for an etag-checked delete of a key that no longer exists (components-contrib
        v1.18.3 state/azure/cosmosdb Delete drops the 404); `delete_in_transaction` does not."""
        try:
            await self._stub.DeleteState(self._delete_request(store, key, etag, metadata),
                                         metadata=self._metadata, timeout=self._timeout)
        except Exception as exc:  # noqa: BLE001 - translated to one line
            raise _translate(exc, self.address, store, key, True, self._timeout) from exc

    async def delete_in_transaction(self, store: str, key: str, etag: str | None = None,
                                    metadata: Mapping[str, str] | None = None) -> None:
        """Delete one key as a state transaction of one delete (ExecuteStateTransaction): Cosmos DB's
        state store then sends a transactional batch, which carries the id in its body and answers 404
        for an etag-checked delete of a key that no longer exists (KeyGone here, never a success), and
        can address ids Cosmos DB's gateway refuses in a point operation's URL ('/', '#', a trailing
        blank). Only for ids `explorer.core.writes.fits_a_batch` passes. `metadata` (partitionKey)
        goes with the request too: the store takes a transaction's partition from it."""
        item = self._delete_request(store, key, etag, metadata)
        request = state_pb2.ExecuteStateTransactionRequest(
            storeName=store, metadata=dict(metadata or {}), operations=[state_pb2.TransactionalStateOperation(
                operationType="delete", request=common_pb2.StateItem(key=key, etag=item.etag if etag else None,
                                                                     metadata=item.metadata,
                                                                     options=item.options if etag else None))])
        try:
            await self._stub.ExecuteStateTransaction(request, metadata=self._metadata, timeout=self._timeout)
        except Exception as exc:  # noqa: BLE001 - translated to one line
            raise _translate(exc, self.address, store, key, True, self._timeout, etag) from exc

    @staticmethod
    def _delete_request(store: str, key: str, etag: str | None, metadata: Mapping[str, str] | None):
        return state_pb2.DeleteStateRequest(
            store_name=store,
            key=key,
            etag=common_pb2.Etag(value=etag) if etag else None,
            metadata=dict(metadata or {}),
            options=common_pb2.StateOptions(concurrency=common_pb2.StateOptions.CONCURRENCY_FIRST_WRITE) if etag else None,
        )

    async def query_state(self, store: str, query_json: str, metadata: Mapping[str, str] | None = None) -> QueryAnswer:
        """Dapr's state query API (QueryStateAlpha1): `query_json` as the app would send it; request
        metadata `partitionKey` keeps it to one partition on Cosmos DB."""
        request = state_pb2.QueryStateRequest(store_name=store, query=query_json, metadata=dict(metadata or {}))
        try:
            reply = await self._stub.QueryStateAlpha1(request, metadata=self._metadata, timeout=self._timeout)
        except Exception as exc:  # noqa: BLE001 - translated to one line
            raise _translate(exc, self.address, store, "", False, self._timeout) from exc
        return QueryAnswer(tuple((r.key, r.data, r.etag, r.error) for r in reply.results), reply.token,
                           dict(reply.metadata))
