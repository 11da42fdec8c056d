"""Decoding Dapr's Cosmos document ids and values (pure-logic tests; no I/O)."""

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.envelope import (
    DecodedValue,
    KeyKind,
    KeyPrefix,
    KeyPrefixMode,
    StateKey,
    ValueKind,
    decode_value,
    document_id,
    parse_document_id,
)

APPID = KeyPrefix(KeyPrefixMode.APPID)
NAME = KeyPrefix(KeyPrefixMode.NAME)
NAMESPACE = KeyPrefix(KeyPrefixMode.NAMESPACE)
NONE = KeyPrefix(KeyPrefixMode.NONE)

WF_PREFIX = "order-processor||dapr.internal.default.order-processor.workflow||order-wf-1001||"

# --- KeyPrefix.from_metadata ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, KeyPrefix(KeyPrefixMode.APPID)),
        ("", KeyPrefix(KeyPrefixMode.APPID)),
        ("appid", KeyPrefix(KeyPrefixMode.APPID)),
        ("AppID", KeyPrefix(KeyPrefixMode.APPID)),
        ("name", KeyPrefix(KeyPrefixMode.NAME)),
        ("NAME", KeyPrefix(KeyPrefixMode.NAME)),
        ("namespace", KeyPrefix(KeyPrefixMode.NAMESPACE)),
        ("Namespace", KeyPrefix(KeyPrefixMode.NAMESPACE)),
        ("none", KeyPrefix(KeyPrefixMode.NONE)),
        ("None", KeyPrefix(KeyPrefixMode.NONE)),
        ("shared", KeyPrefix(KeyPrefixMode.CUSTOM, "shared")),
        # daprd lower-cases a custom prefix before writing it into ids
        ("SharedCart", KeyPrefix(KeyPrefixMode.CUSTOM, "sharedcart")),
    ],
)
def test_key_prefix_from_metadata(value, expected):
    assert KeyPrefix.from_metadata(value) == expected


# --- parse_document_id: plain keys in every mode -----------------------------------------------


def test_appid_mode_splits_app_id_from_key():
    k = parse_document_id("order-processor||order-1001", APPID)
    assert (k.kind, k.key, k.prefix, k.app_id, k.namespace) == (
        KeyKind.PLAIN, "order-1001", "order-processor", "order-processor", None)
    assert k.read_only_reason is None


def test_appid_mode_key_keeps_single_pipes_and_dots():
    k = parse_document_id("cart.app||a|b.c", APPID)
    assert (k.app_id, k.key) == ("cart.app", "a|b.c")


def test_name_mode_prefix_is_the_store_name_not_an_app():
    k = parse_document_id("statestore||session-7", NAME, store_name="statestore")
    assert (k.kind, k.key, k.prefix, k.app_id) == (KeyKind.PLAIN, "session-7", "statestore", None)


def test_name_mode_other_store_name_is_unmatched():
    k = parse_document_id("otherstore||session-7", NAME, store_name="statestore")
    assert (k.kind, k.key, k.prefix, k.app_id) == (KeyKind.PLAIN, "otherstore||session-7", None, None)


def test_name_mode_without_store_name_accepts_any_prefix():
    k = parse_document_id("otherstore||session-7", NAME)
    assert (k.key, k.prefix) == ("session-7", "otherstore")


def test_namespace_mode_splits_namespace_and_app_id():
    k = parse_document_id("production.order-processor||order-1", NAMESPACE)
    assert (k.kind, k.key, k.prefix, k.app_id, k.namespace) == (
        KeyKind.PLAIN, "order-1", "production.order-processor", "order-processor", "production")


def test_namespace_mode_app_id_with_dots_splits_at_first_dot():
    k = parse_document_id("prod.svc.orders||o-1", NAMESPACE)
    assert (k.namespace, k.app_id, k.key) == ("prod", "svc.orders", "o-1")


def test_namespace_mode_uses_known_namespace_to_split():
    k = parse_document_id("team.a.orders||o-1", NAMESPACE, namespace="team.a")
    assert (k.namespace, k.app_id, k.key) == ("team.a", "orders", "o-1")


def test_namespace_mode_without_dot_is_the_appid_fallback():
    k = parse_document_id("order-processor||order-1", NAMESPACE)
    assert (k.kind, k.key, k.app_id, k.namespace) == (KeyKind.PLAIN, "order-1", "order-processor", None)


def test_none_mode_whole_id_is_the_key():
    k = parse_document_id("order-processor||order-1", NONE)
    assert (k.kind, k.key, k.prefix, k.app_id) == (KeyKind.PLAIN, "order-processor||order-1", None, None)
    k = parse_document_id("plain-key", NONE)
    assert (k.kind, k.key, k.prefix) == (KeyKind.PLAIN, "plain-key", None)


def test_custom_mode_matching_prefix():
    k = parse_document_id("shared||cart-9", KeyPrefix.from_metadata("shared"))
    assert (k.kind, k.key, k.prefix, k.app_id) == (KeyKind.PLAIN, "cart-9", "shared", None)


def test_custom_mode_mixed_case_metadata_matches_daprs_lowercase_ids():
    k = parse_document_id("sharedcart||cart-9", KeyPrefix.from_metadata("SharedCart"))
    assert (k.key, k.prefix) == ("cart-9", "sharedcart")


def test_custom_mode_prefix_mismatch_is_unmatched():
    k = parse_document_id("other||cart-9", KeyPrefix.from_metadata("shared"))
    assert (k.kind, k.key, k.prefix, k.app_id) == (KeyKind.PLAIN, "other||cart-9", None, None)


@pytest.mark.parametrize("doc_id", ["no-separator", "||leading-empty-prefix", ""])
@pytest.mark.parametrize("mode", [KeyPrefixMode.APPID, KeyPrefixMode.NAMESPACE, KeyPrefixMode.NAME])
def test_unprefixed_ids_come_back_whole_without_prefix(doc_id, mode):
    k = parse_document_id(doc_id, KeyPrefix(mode), store_name="statestore")
    assert (k.kind, k.key, k.prefix, k.app_id, k.namespace) == (KeyKind.PLAIN, doc_id, None, None, None)


def test_plain_key_with_double_pipe_is_read_only():
    # three parts: not actor-shaped, but the state API would still refuse the key
    k = parse_document_id("app||a||b", APPID)
    assert k.kind is KeyKind.PLAIN and k.key == "a||b"
    assert k.read_only_reason is not None and "||" in k.read_only_reason


# --- actors and workflows -----------------------------------------------------------------------


def test_actor_state_is_recognised():
    k = parse_document_id("order-processor||CartActor||cart-42||items", APPID)
    assert k.kind is KeyKind.ACTOR
    assert (k.app_id, k.prefix, k.actor_type, k.actor_id, k.actor_key) == (
        "order-processor", "order-processor", "CartActor", "cart-42", "items")
    assert k.key == "CartActor||cart-42||items"
    assert k.workflow_part is None and k.sequence is None
    assert k.read_only_reason is not None and "actor" in k.read_only_reason


@pytest.mark.parametrize("mode", list(KeyPrefixMode))
def test_actor_state_is_recognised_in_every_mode(mode):
    # daprd's actor runtime writes <app-id>||type||id||key whatever keyPrefix says
    k = parse_document_id("order-processor||CartActor||cart-42||items", KeyPrefix(mode, "shared"), "statestore")
    assert k.kind is KeyKind.ACTOR and k.app_id == "order-processor" and k.actor_id == "cart-42"
    assert k.read_only_reason is not None


@pytest.mark.parametrize(
    ("suffix", "part", "sequence"),
    [
        ("history-000004", "history", 4),
        ("history-000012", "history", 12),
        ("inbox-000000", "inbox", 0),
        ("history-1234567", "history", 1234567),
        ("metadata", "metadata", None),
        ("customStatus", "customStatus", None),
        ("history-abc", "history-abc", None),
        ("something-else", "something-else", None),
    ],
)
def test_workflow_state_parts(suffix, part, sequence):
    k = parse_document_id(WF_PREFIX + suffix, APPID)
    assert k.kind is KeyKind.WORKFLOW
    assert (k.workflow_part, k.sequence) == (part, sequence)
    assert (k.app_id, k.namespace, k.actor_id, k.actor_key) == ("order-processor", "default", "order-wf-1001", suffix)
    assert k.actor_type == "dapr.internal.default.order-processor.workflow"
    assert k.key == "dapr.internal.default.order-processor.workflow||order-wf-1001||" + suffix
    assert k.read_only_reason is not None and "workflow" in k.read_only_reason


def test_workflow_recognised_in_namespace_mode():
    k = parse_document_id(WF_PREFIX + "history-000004", NAMESPACE)
    assert (k.kind, k.workflow_part, k.sequence, k.app_id) == (KeyKind.WORKFLOW, "history", 4, "order-processor")


@pytest.mark.parametrize(
    "actor_type",
    ["dapr.internal.default.workflow", "dapr.internal..app.workflow", "my.dapr.internal.default.app.workflow",
     "dapr.internal.default.app.activity", "dapr.internal.default.app.workflowx"],
)
def test_lookalike_actor_types_are_plain_actors(actor_type):
    k = parse_document_id(f"app||{actor_type}||id-1||history-000001", APPID)
    assert k.kind is KeyKind.ACTOR and k.workflow_part is None and k.sequence is None


def test_actor_shape_needs_type_and_id():
    k = parse_document_id("app||||id||key", APPID)
    assert k.kind is KeyKind.PLAIN and k.read_only_reason is not None


# --- document_id --------------------------------------------------------------------------------


def test_document_id_every_mode():
    assert document_id("k", APPID, "app") == "app||k"
    assert document_id("k", NAME, "app", store_name="statestore") == "statestore||k"
    assert document_id("k", NAMESPACE, "app", namespace="prod") == "prod.app||k"
    assert document_id("k", NAMESPACE, "app") == "app||k"
    assert document_id("k", NAMESPACE, "app", namespace="") == "app||k"
    assert document_id("k", NONE, "app") == "k"
    assert document_id("k", KeyPrefix.from_metadata("shared"), "app") == "shared||k"


def test_document_id_empty_app_id_is_unprefixed_like_daprd():
    assert document_id("k", APPID, "") == "k"
    assert document_id("k", NAMESPACE, "", namespace="prod") == "k"


def test_document_id_refuses_what_daprd_refuses():
    with pytest.raises(ValueError, match=r"\|\|"):
        document_id("a||b", APPID, "app")
    with pytest.raises(ValueError):
        document_id("k", NAME, "app")
    with pytest.raises(ValueError):
        document_id("k", KeyPrefix(KeyPrefixMode.CUSTOM, None), "app")


# --- properties ---------------------------------------------------------------------------------

plain_keys = st.text().filter(lambda s: "||" not in s)
app_ids = st.text(st.characters(blacklist_characters="|"), min_size=1)
namespaces = st.text(st.characters(blacklist_characters="|."), min_size=1)
store_names = st.text(st.characters(blacklist_characters="|"), min_size=1)
custom_prefixes = st.text(st.characters(blacklist_characters="|"), min_size=1)
any_prefix = st.builds(KeyPrefix, st.sampled_from(list(KeyPrefixMode)), st.none() | st.text())


@given(plain_keys, app_ids)
def test_round_trip_appid(key, app_id):
    k = parse_document_id(document_id(key, APPID, app_id), APPID)
    assert (k.kind, k.key, k.app_id) == (KeyKind.PLAIN, key, app_id)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in key + app_id):  # no text Dapr can be sent: read-only, said why
        assert "surrogate" in (k.read_only_reason or "")
    else:
        assert k.read_only_reason is None


@given(plain_keys, app_ids, store_names)
def test_round_trip_name(key, app_id, store):
    k = parse_document_id(document_id(key, NAME, app_id, store_name=store), NAME, store_name=store)
    assert (k.kind, k.key, k.prefix) == (KeyKind.PLAIN, key, store)


@given(plain_keys, app_ids, namespaces)
def test_round_trip_namespace(key, app_id, ns):
    doc = document_id(key, NAMESPACE, app_id, namespace=ns)
    for hint in (ns, None):
        k = parse_document_id(doc, NAMESPACE, namespace=hint)
        assert (k.kind, k.key, k.app_id, k.namespace) == (KeyKind.PLAIN, key, app_id, ns)


@given(plain_keys, namespaces)
def test_round_trip_namespace_fallback(key, app_id):
    # NAMESPACE unset: daprd writes <app-id>||<key>, and an app-id without '.' reads back whole
    k = parse_document_id(document_id(key, NAMESPACE, app_id), NAMESPACE)
    assert (k.kind, k.key, k.app_id, k.namespace) == (KeyKind.PLAIN, key, app_id, None)


@given(plain_keys, app_ids)
def test_round_trip_none(key, app_id):
    k = parse_document_id(document_id(key, NONE, app_id), NONE)
    assert (k.kind, k.key) == (KeyKind.PLAIN, key)


@given(plain_keys, app_ids, custom_prefixes)
def test_round_trip_custom(key, app_id, custom):
    prefix = KeyPrefix.from_metadata(custom)
    if prefix.mode is not KeyPrefixMode.CUSTOM:
        return  # the text was a keyword
    k = parse_document_id(document_id(key, prefix, app_id), prefix)
    assert (k.kind, k.key, k.prefix) == (KeyKind.PLAIN, key, custom.lower())


@given(st.text(), any_prefix, st.text(), st.none() | st.text())
def test_any_id_parses_without_raising(doc_id, prefix, store, ns):
    k = parse_document_id(doc_id, prefix, store, ns)
    assert isinstance(k, StateKey) and k.doc_id == doc_id
    assert k.kind in KeyKind
    # the decoded key is always a tail of the id
    assert doc_id.endswith(k.key)
    if k.kind is KeyKind.PLAIN:
        assert (k.read_only_reason is None) == ("||" not in k.key)
    else:
        assert k.read_only_reason is not None and k.app_id is not None


@given(st.lists(st.text(st.characters(blacklist_characters="|"), min_size=1), min_size=4, max_size=4))
def test_any_four_part_id_is_actor_state(parts):
    k = parse_document_id("||".join(parts), APPID)
    assert k.kind in (KeyKind.ACTOR, KeyKind.WORKFLOW)
    assert (k.app_id, k.actor_type, k.actor_id, k.actor_key) == tuple(parts)


# --- decode_value -------------------------------------------------------------------------------


def test_decode_json_value():
    d = decode_value({"id": "a||k", "value": {"qty": 2, "sku": "ä"}, "isBinary": False, "_ts": 1})
    assert d == DecodedValue(ValueKind.JSON, {"qty": 2, "sku": "ä"}, None, ())
    assert d.size == len('{"qty":2,"sku":"ä"}'.encode())


def test_decode_json_null_value():
    d = decode_value({"value": None, "isBinary": False})
    assert d.kind is ValueKind.JSON and d.json is None and d.size == 4


def test_decode_binary_value():
    raw = b"\x89PNG\r\n\x1a\n\xff\xfe"
    d = decode_value({"value": base64.b64encode(raw).decode(), "isBinary": True})
    assert (d.kind, d.data, d.json, d.warnings) == (ValueKind.BINARY, raw, None, ())
    assert d.size == len(raw)


def test_decode_empty_binary_value():
    d = decode_value({"value": "", "isBinary": True})
    assert (d.kind, d.data) == (ValueKind.BINARY, b"")


@pytest.mark.parametrize("value", ["not base64!", "YWJj\n", "YWJjZA", "ümlaut", "\ud800"])
def test_decode_invalid_base64_is_raw_bytes_with_warning(value):
    d = decode_value({"value": value, "isBinary": True})
    assert d.kind is ValueKind.RAW_BYTES
    assert d.data == value.encode("utf-8", "surrogatepass")
    assert d.warnings == ("value is marked isBinary but is not valid base64; shown as raw bytes",)


def test_decode_binary_non_string_is_raw_json_bytes():
    d = decode_value({"value": {"a": [1, 2]}, "isBinary": True})
    assert d.kind is ValueKind.RAW_BYTES and json.loads(d.data) == {"a": [1, 2]}
    assert d.warnings and "base64" in d.warnings[0]


@pytest.mark.parametrize(
    "document",
    [
        {"id": "x", "name": "hand-written", "_rid": "r", "_self": "s", "_etag": "e", "_ts": 1, "_attachments": "a"},
        {"id": "x", "value": 1, "_etag": "e"},
        {"id": "x", "isBinary": False, "_lsn": 3},
        {"id": "x", "value": 1, "isBinary": "true"},
    ],
)
def test_decode_not_dapr_shows_document_without_system_fields(document):
    d = decode_value(document)
    assert d.kind is ValueKind.NOT_DAPR and d.data is None
    assert d.json == {k: v for k, v in document.items() if not k.startswith("_")}
    assert d.warnings == ("not a Dapr state document (no value/isBinary); shown raw",)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(st.binary())
def test_any_bytes_round_trip_through_base64(raw):
    d = decode_value({"value": base64.b64encode(raw).decode(), "isBinary": True})
    assert d.kind is ValueKind.BINARY and d.data == raw and d.size == len(raw)


@given(json_values, st.booleans() | st.none() | st.text(max_size=3))
def test_decode_never_raises(value, is_binary):
    d = decode_value({"id": "x", "value": value, "isBinary": is_binary, "_etag": "e"})
    assert d.size >= 0
    assert (d.kind is ValueKind.NOT_DAPR) == (not isinstance(is_binary, bool))


def test_workflow_part_with_a_sequence_longer_than_dapr_writes_is_shown_whole():
    """Found by bench/fuzz_inputs.py: 'history-' + 5000 digits made int() raise inside a never-raises parser."""
    long_part = "history-" + "9" * 5000
    k = parse_document_id(WF_PREFIX + long_part, APPID)
    assert (k.kind, k.workflow_part, k.sequence) == (KeyKind.WORKFLOW, long_part, None)
    uint64_max = parse_document_id(WF_PREFIX + "history-18446744073709551615", APPID)
    assert (uint64_max.workflow_part, uint64_max.sequence) == ("history", 18446744073709551615)
