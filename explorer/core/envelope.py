"""Dapr's Cosmos DB document envelope: what an item's id and value mean to Dapr.

Turns a Cosmos item id into the Dapr key an app uses (and back), recognises
actor and workflow state, and decodes the `value`/`isBinary` pair into what
the app reads. Pure logic: this module must never do I/O (no network, no
files, no clock) and never import azure, dapr or textual.

Facts it follows (dapr/dapr `pkg/components/state/state_config.go` and
`pkg/actors/state`):

- The state API writes `<prefix>||<key>` where the prefix follows the
  component's `keyPrefix`: appid (default), name, namespace, none, or any
  other string. Dapr lower-cases that other string before using it.
- Keys given to the state API may not contain `||`.
- The actor runtime does NOT apply `keyPrefix`: actor (and so workflow) state
  is always `<app-id>||<actorType>||<actorId>||<key>`. Because a plain key
  never contains `||`, an id of exactly that shape is actor state whatever
  the store's keyPrefix mode is.
"""

from __future__ import annotations

import base64
import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

SEPARATOR = "||"

#: Cosmos DB's longest item id, in UTF-8 bytes ("Maximum length of id: 1,023 bytes", service quotas).
#: Dapr sets no limit of its own: a longer key fails at Cosmos, after daprd has taken it.
MAX_ID_BYTES = 1023

#: Cosmos system properties: never part of what an app stored.
SYSTEM_FIELDS = frozenset({"_rid", "_self", "_etag", "_ts", "_attachments", "_lsn"})

_WORKFLOW_TYPE = re.compile(r"^dapr\.internal\.([^.]+)\.(.+)\.workflow$")
# Dapr numbers history/inbox entries with a uint64 (at most 20 digits); a longer run of digits
# is not one of its sequence numbers (and int() refuses more than 4300 digits).
_SEQUENCED_PART = re.compile(r"^(history|inbox)-([0-9]{1,20})$")


class KeyPrefixMode(enum.Enum):
    APPID = "appid"
    NAME = "name"
    NAMESPACE = "namespace"
    NONE = "none"
    CUSTOM = "custom"


_KEYWORDS = {
    "appid": KeyPrefixMode.APPID,
    "name": KeyPrefixMode.NAME,
    "namespace": KeyPrefixMode.NAMESPACE,
    "none": KeyPrefixMode.NONE,
}


@dataclass(frozen=True)
class KeyPrefix:
    """A state store's `keyPrefix` strategy (custom holds the prefix text for CUSTOM)."""

    mode: KeyPrefixMode
    custom: str | None = None

    @classmethod
    def from_metadata(cls, value: str | None) -> KeyPrefix:
        """From the component's `keyPrefix` metadata value.

        None or "" → appid (Dapr's default). Keywords are case-insensitive.
        Any other text is a custom prefix, lower-cased as daprd does
        (`keyPrefix: MyApp` makes ids `myapp||<key>`).
        """
        if not value:
            return cls(KeyPrefixMode.APPID)
        mode = _KEYWORDS.get(value.lower())
        if mode is not None:
            return cls(mode)
        return cls(KeyPrefixMode.CUSTOM, value.lower())


class KeyKind(enum.Enum):
    PLAIN = "plain"
    ACTOR = "actor"
    WORKFLOW = "workflow"


@dataclass(frozen=True)
class StateKey:
    """A Cosmos item id decoded into Dapr's terms.

    `key` is what the app passes to the state API; for actor and workflow
    state it is `type||id||key` (everything after the app-id prefix).
    `prefix` is the text before the first `||` (None when the id has no
    prefix, or did not match the store's prefix shape). `namespace` is the
    namespace the id itself names (namespace-mode prefix, or a workflow's
    actor type), else None.
    """

    doc_id: str
    key: str
    prefix: str | None
    app_id: str | None
    namespace: str | None
    kind: KeyKind
    actor_type: str | None = None
    actor_id: str | None = None
    actor_key: str | None = None
    workflow_part: str | None = None
    sequence: int | None = None

    @property
    def read_only_reason(self) -> str | None:
        """Why this key cannot be written through Dapr's state API, or None if it can."""
        if self.kind is KeyKind.ACTOR:
            return "actor state: written by Dapr's actor runtime; the state API refuses keys containing '||'"
        if self.kind is KeyKind.WORKFLOW:
            return "workflow state: written by Dapr's workflow engine; the state API refuses keys containing '||'"
        if SEPARATOR in self.key:
            return "key contains '||': the state API refuses such keys, so Dapr cannot write it"
        if _LONE_SURROGATE.search(self.doc_id):
            return ("id holds half of a surrogate pair: no text Dapr can be sent (another writer stored it), so Dapr "
                    "cannot write it")
        return None


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str, only half a pair is ever a surrogate


def _unmatched(doc_id: str) -> StateKey:
    """An id that does not have the store's prefix shape: the whole id as key."""
    return StateKey(doc_id=doc_id, key=doc_id, prefix=None, app_id=None, namespace=None, kind=KeyKind.PLAIN)


def _actor_key(doc_id: str, parts: list[str]) -> StateKey:
    app_id, actor_type, actor_id, actor_key = parts
    key = SEPARATOR.join(parts[1:])
    workflow = _WORKFLOW_TYPE.match(actor_type)
    if workflow is None:
        return StateKey(
            doc_id=doc_id, key=key, prefix=app_id, app_id=app_id, namespace=None, kind=KeyKind.ACTOR,
            actor_type=actor_type, actor_id=actor_id, actor_key=actor_key,
        )
    part: str = actor_key
    sequence: int | None = None
    sequenced = _SEQUENCED_PART.match(actor_key)
    if sequenced is not None:
        part, sequence = sequenced.group(1), int(sequenced.group(2))
    return StateKey(
        doc_id=doc_id, key=key, prefix=app_id, app_id=app_id, namespace=workflow.group(1), kind=KeyKind.WORKFLOW,
        actor_type=actor_type, actor_id=actor_id, actor_key=actor_key, workflow_part=part, sequence=sequence,
    )


def parse_document_id(
    doc_id: str, prefix: KeyPrefix, store_name: str = "", namespace: str | None = None
) -> StateKey:
    """Decode a Cosmos item id written by Dapr. Never raises.

    `store_name` is checked against the prefix in name mode (any prefix is
    accepted when it is ""). `namespace` helps split a namespace-mode prefix
    `<NAMESPACE>.<app-id>` when the app-id contains dots; otherwise the split
    is at the first '.', and a prefix without '.' is Dapr's appid fallback.
    An id that does not fit the expected shape comes back PLAIN with
    prefix/app_id None and key = the whole id; the caller says so to the user.
    """
    parts = doc_id.split(SEPARATOR)
    if len(parts) == 4 and all(parts[:3]):
        return _actor_key(doc_id, parts)

    mode = prefix.mode
    if mode is KeyPrefixMode.NONE:
        return StateKey(doc_id=doc_id, key=doc_id, prefix=None, app_id=None, namespace=None, kind=KeyKind.PLAIN)

    head, sep, rest = doc_id.partition(SEPARATOR)
    if not sep or not head:
        return _unmatched(doc_id)

    app_id: str | None = None
    ns: str | None = None
    if mode is KeyPrefixMode.APPID:
        app_id = head
    elif mode is KeyPrefixMode.NAMESPACE:
        if namespace and head.startswith(namespace + ".") and len(head) > len(namespace) + 1:
            ns, app_id = namespace, head[len(namespace) + 1:]
        else:
            first, dot, after = head.partition(".")
            if dot and first and after:
                ns, app_id = first, after
            else:
                app_id = head  # NAMESPACE was unset: Dapr fell back to the appid prefix
    elif mode is KeyPrefixMode.NAME:
        if store_name and head != store_name:
            return _unmatched(doc_id)
    elif mode is KeyPrefixMode.CUSTOM:
        if prefix.custom and head != prefix.custom:
            return _unmatched(doc_id)
    return StateKey(doc_id=doc_id, key=rest, prefix=head, app_id=app_id, namespace=ns, kind=KeyKind.PLAIN)


def document_id(
    key: str, prefix: KeyPrefix, app_id: str, store_name: str = "", namespace: str | None = None
) -> str:
    """The Cosmos item id Dapr's state API writes for a plain `key` (as daprd builds it).

    Like daprd, appid and namespace modes leave the key unprefixed when
    app_id is empty, and namespace mode falls back to appid when namespace
    is None/empty. Raises ValueError for what daprd refuses: a key containing
    '||', and name/custom modes without a store name / prefix.
    """
    if SEPARATOR in key:
        raise ValueError(f"key {key!r} contains '||'; Dapr's state API refuses it")
    mode = prefix.mode
    if mode is KeyPrefixMode.NONE:
        return key
    if mode is KeyPrefixMode.NAME:
        if not store_name:
            raise ValueError("keyPrefix 'name' needs the store name")
        return store_name + SEPARATOR + key
    if mode is KeyPrefixMode.CUSTOM:
        if not prefix.custom or SEPARATOR in prefix.custom:
            raise ValueError(f"custom keyPrefix {prefix.custom!r} is empty or contains '||'")
        return prefix.custom + SEPARATOR + key
    if not app_id:
        return key
    if mode is KeyPrefixMode.NAMESPACE and namespace:
        return f"{namespace}.{app_id}{SEPARATOR}{key}"
    return app_id + SEPARATOR + key


class ValueKind(enum.Enum):
    JSON = "json"
    BINARY = "binary"
    RAW_BYTES = "raw_bytes"
    NOT_DAPR = "not_dapr"


def compact_json(value: object) -> bytes:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class DecodedValue:
    """A document's value as the app sees it: JSON, bytes, or something Dapr did not write."""

    kind: ValueKind
    json: object | None
    data: bytes | None
    warnings: tuple[str, ...]

    @property
    def size(self) -> int:
        """Bytes of data, or of the compact UTF-8 JSON encoding."""
        if self.data is not None:
            return len(self.data)
        return len(compact_json(self.json))


NOT_BASE64 = "value is marked isBinary but is not valid base64; shown as raw bytes"
NOT_DAPR = "not a Dapr state document (no value/isBinary); shown raw"


def decode_value(document: Mapping[str, object]) -> DecodedValue:
    """Decode a Cosmos item's `value`/`isBinary` pair. Never raises.

    isBinary false → JSON; true → base64-decoded bytes (strict). A value
    marked binary that is not valid base64 comes back as raw bytes with a
    warning; an item without value/isBinary (or a non-boolean isBinary) is
    not Dapr's and comes back whole, minus Cosmos system fields.
    """
    is_binary = document.get("isBinary")
    if "value" not in document or not isinstance(is_binary, bool):
        rest = {k: v for k, v in document.items() if k not in SYSTEM_FIELDS}
        return DecodedValue(ValueKind.NOT_DAPR, rest, None, (NOT_DAPR,))
    value = document["value"]
    if not is_binary:
        return DecodedValue(ValueKind.JSON, value, None, ())
    if isinstance(value, str):
        try:
            return DecodedValue(ValueKind.BINARY, None, base64.b64decode(value, validate=True), ())
        except ValueError:  # binascii.Error, or non-ASCII text
            return DecodedValue(ValueKind.RAW_BYTES, None, value.encode("utf-8", "surrogatepass"), (NOT_BASE64,))
    return DecodedValue(ValueKind.RAW_BYTES, None, compact_json(value), (NOT_BASE64,))


def partition_label(partition: str) -> tuple[str, str, str] | None:
    """(label, app-id, kind) of an actor's or workflow's partition — `workflow order-1002`,
    `actor CartActor cart-42`, `activity …` — or None for any other partition (shown as it is)."""
    key = decode_partition(partition)
    if key is None:
        return None
    app, actor_type = key.app_id or "", key.actor_type or ""
    if key.kind is KeyKind.WORKFLOW:
        return f"workflow {key.actor_id}", app, "workflow"
    if actor_type.startswith("dapr.internal."):  # Dapr's own actors: activities, …
        kind = actor_type.rsplit(".", 1)[-1]
        return f"{kind} {key.actor_id}", app, kind
    return f"actor {actor_type} {key.actor_id}", app, "actor"


def decode_partition(partition: str) -> StateKey | None:
    """An actor's or workflow instance's partition (`app||type||id`, as Dapr's Cosmos store keys
    actor state) decoded as the state key of a document in it would be; None for any other."""
    if partition.count("||") != 2:
        return None
    key = parse_document_id(partition + "||_", _NO_PREFIX_FOR_PARTITIONS)
    return key if key.kind is not KeyKind.PLAIN else None


_NO_PREFIX_FOR_PARTITIONS = KeyPrefix.from_metadata(None)


def partition_name(partition: str) -> str:
    """A partition as the browser names it: `workflow order-1002`, `actor CartActor cart-42`, else as stored."""
    decoded = partition_label(partition)
    return decoded[0] if decoded is not None else (partition or "(empty partition key)")
