"""What one write to a Dapr key is, decided before any I/O: save or delete, which item, which
etag, which ttl, and which value shape.

What it is for: the rules every write follows, in one pure place that the store edge
(`WritableGateway.write`) carries out and the TUI, the CLI and later bulk actions all use:

- an existing key is written with its own partitionKey and checked against its etag, unless the
  user chose to overwrite;
- a key that does not exist yet is created only if it still does not exist (create-only), in the
  partition asked for; an etag given for it means the key was deleted meanwhile: a conflict;
- the value keeps the item's shape: a JSON value (object, array, string, number, boolean, null)
  is sent as JSON, so Dapr stores it as the JSON value with `isBinary: false` exactly as Dapr's
  HTTP state API does; bytes stay bytes (`isBinary: true`). Turning one into the other must be
  asked for (`change_shape`);
- a document Dapr did not write (no `value`/`isBinary`) and actor/workflow state are not written.

What it must never do: I/O, read the clock (callers pass `now`), or let a write go out without
its partitionKey.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import orjson

from explorer.core.display import InvalidEdit, parse_json_edit
from explorer.core.envelope import MAX_ID_BYTES, StateKey, ValueKind, decode_value
from explorer.core.model import KeyValue, MissingPartitionKey, TtlChoice
from explorer.errors import EtagConflict, NotADaprDocument, NotWritable, ShapeChange, UsageError

#: Request metadata that makes daprd parse a gRPC value as JSON, as its HTTP API does with a body.
JSON_CONTENT_TYPE = "application/json"


class ValueShape(enum.Enum):
    JSON = "json"  # UTF-8 JSON text of any JSON value; stored as that value, isBinary false
    BYTES = "bytes"  # raw bytes; stored base64 with isBinary true (unless they are a JSON object: Dapr's rule)


@dataclass(frozen=True)
class NewValue:
    data: bytes
    shape: ValueShape

    @classmethod
    def json_text(cls, text: str) -> NewValue:
        """A JSON value as a user typed it (CLI, editor): checked by the editor's own rules
        (`core.display.parse_json_edit`: what Dapr and Cosmos DB would not keep as typed is refused
        with its line and column), so nothing invalid or silently altered is ever sent."""
        encode_text(text, "the value")
        try:
            return cls(parse_json_edit(text), ValueShape.JSON)
        except InvalidEdit as exc:
            raise UsageError(str(exc)) from None

    @classmethod
    def json_bytes(cls, data: bytes) -> NewValue:
        """JSON text a caller has already checked (the editor's save): only parsed once more."""
        try:
            orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise UsageError(f"the value is not valid JSON: {exc.msg}; nothing was sent.") from None
        return cls(bytes(data), ValueShape.JSON)

    @classmethod
    def raw(cls, data: bytes) -> NewValue:
        return cls(bytes(data), ValueShape.BYTES)


def encode_text(text: str, what: str) -> bytes:
    """`text` as UTF-8, or a UsageError naming `what` (lone surrogates cannot be sent)."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{what} is not valid Unicode text (a lone surrogate at character {exc.start + 1}); "
                         "nothing was sent.") from None


def key_problem(key: str, doc_id: str) -> str | None:
    """Why Dapr cannot write `key` as the item `doc_id` at all (None: it can), worded after the key's
    name ("KEY is empty…"): what would fail only at write time otherwise. `set` and `import` refuse
    such a key before anything is sent."""
    if not key:
        return "is empty: Dapr state keys have at least one character"
    size = len(doc_id.encode("utf-8", "surrogatepass"))
    if size > MAX_ID_BYTES:
        return (f"is too long: its item id would be {size:,} bytes, and Cosmos DB ids are at most "
                f"{MAX_ID_BYTES:,} bytes (Cosmos DB would refuse the write)")
    return None


class WriteKind(enum.Enum):
    SAVE = "save"
    DELETE = "delete"


@dataclass(frozen=True)
class KeyChange:
    """One write, fully decided. Build it with `save`, `create` or `delete`."""

    kind: WriteKind
    state_key: StateKey
    partition: str
    etag: str | None  # checked by Cosmos through Dapr; None with create_only or overwrite
    value: NewValue | None = None
    ttl_seconds: str | None = None  # ttlInSeconds metadata, None: send none
    create_only: bool = False  # the key must not exist (Dapr's first-write concurrency, no etag)

    @property
    def metadata(self) -> dict[str, str]:
        """The request metadata daprd gets: always the partitionKey."""
        meta = {"partitionKey": self.partition}
        if self.ttl_seconds is not None:
            meta["ttlInSeconds"] = self.ttl_seconds
        if self.value is not None and self.value.shape is ValueShape.JSON:
            meta["contentType"] = JSON_CONTENT_TYPE
        return meta

    @classmethod
    def save(cls, key: KeyValue, value: NewValue, ttl: TtlChoice, now: float, overwrite: bool = False,
             change_shape: bool = False) -> KeyChange:
        """Save `value` over an existing key, etag-checked unless `overwrite`."""
        _writable(key)
        if not change_shape:
            was = "bytes (isBinary true)" if key.is_binary else "a JSON value (isBinary false)"
            if key.is_binary and value.shape is ValueShape.JSON:
                raise ShapeChange(f"{key.state_key.key!r} holds {was}; the new value is JSON. Give it as base64 "
                                  "bytes, or ask for the change on purpose (--change-shape). Nothing was sent.")
            if not key.is_binary and value.shape is ValueShape.BYTES:
                raise ShapeChange(f"{key.state_key.key!r} holds {was}; the new value is bytes. Give it as JSON, "
                                  "or ask for the change on purpose (--change-shape). Nothing was sent.")
        return cls(WriteKind.SAVE, key.state_key, key.partition_key, None if overwrite else key.etag, value,
                   ttl.ttl_in_seconds(key.document, key.expiry, now))

    @classmethod
    def create(cls, state_key: StateKey, partition: str, value: NewValue, ttl: TtlChoice,
               expected_etag: str | None = None) -> KeyChange:
        """A key that does not exist (yet): created only if it still does not exist.

        `expected_etag` is what the caller believed the key had: a key that had an etag and is now
        gone was deleted meanwhile, which is a conflict, never a reason to create it again."""
        if expected_etag:
            raise EtagConflict(f"{state_key.key!r} no longer exists (deleted since etag {expected_etag} was read); "
                               "nothing was written. Check who deleted it; to create it again, leave out --etag.")
        reason = state_key.read_only_reason
        if reason:
            raise NotWritable(reason)
        if ttl.mode.value in {"keep", "restart"}:
            ttl_seconds = None  # a new key has no expiry to keep or restart: none unless asked for
        else:
            ttl_seconds = "-1" if ttl.mode.value == "none" else str(ttl.seconds)
        return cls(WriteKind.SAVE, state_key, partition, None, value, ttl_seconds, create_only=True)

    @classmethod
    def delete(cls, key: KeyValue, overwrite: bool = False) -> KeyChange:
        """Delete an existing key, etag-checked unless `overwrite`."""
        _writable(key)
        return cls(WriteKind.DELETE, key.state_key, key.partition_key, None if overwrite else key.etag)


def not_a_dapr_document(key: KeyValue) -> str | None:
    """Why `key`'s document is not one Dapr wrote (so the explorer never writes it), or None."""
    if isinstance(key.partition_key, MissingPartitionKey):
        return ("it has no partitionKey field, so Dapr did not write it (Dapr always sets one); a write through "
                "Dapr would create a second item beside it")
    decoded = decode_value(key.document)
    if decoded.kind is ValueKind.NOT_DAPR:
        return f"it is not a Dapr state document ({decoded.warnings[0]}); the explorer writes only documents Dapr wrote"
    return None


def why_not_writable(key: KeyValue) -> str | None:
    """Why no write of the explorer may touch `key` (actor/workflow state, not Dapr's), or None."""
    return key.state_key.read_only_reason or not_a_dapr_document(key)


def _writable(key: KeyValue) -> None:
    reason = key.state_key.read_only_reason
    if reason:
        raise NotWritable(reason)
    foreign = not_a_dapr_document(key)
    if foreign:
        raise NotADaprDocument(f"{key.state_key.doc_id!r}: {foreign}. Nothing was sent.")


#: What daprd's Cosmos DB SDK (azcosmos v1.0.3, cosmos_transactional_batch.go) writes raw between
#: quotes for a batch operation's id (`"id":"%s"`): an id holding one breaks the batch's JSON, or
#: (a '"') could name another item of the partition. Such an id is never sent in a transaction.
def fits_a_batch(doc_id: str) -> bool:
    return not any(c in '"\\' or c < " " for c in doc_id)


def undeletable_reason(doc_id: str) -> str | None:
    """Why Dapr cannot delete this id on Cosmos DB at all, or None: Cosmos DB's gateway refuses '\\'
    (401) and CR, LF, TAB (400) in a point operation's URL (DeleteState), and daprd's SDK cannot put
    them in a batch (`fits_a_batch`). Dapr creates such ids (an upsert carries the id in its body)."""
    if "\\" in doc_id or any(c in doc_id for c in "\r\n\t"):
        return "id Dapr cannot delete on Cosmos DB ('\\', CR, LF or TAB in it)"
    return None

