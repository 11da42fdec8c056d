"""The rules every write follows, decided before any I/O (explorer.core.writes; pure).

Uses hand-made documents (no Cosmos, no Dapr): the same rules are proven end to end against the
real daprd in tests/integration/test_fidelity.py and test_guarantees.py."""

from __future__ import annotations

import base64

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.core.envelope import KeyPrefix, parse_document_id
from explorer.core.expiry import effective_expiry
from explorer.core.model import KeyValue, TtlChoice, TtlMode, value_bytes_of
from explorer.core.writes import JSON_CONTENT_TYPE, KeyChange, NewValue, ValueShape, WriteKind
from explorer.errors import EtagConflict, NotADaprDocument, NotWritable, ShapeChange, UsageError

NOW = 1_800_000_000.0


def _key(doc_id="app||k", value=None, binary=False, partition="pk", ttl=None, raw_value=None, **extra) -> KeyValue:
    """A document as Dapr writes it; `value=...` leaves value/isBinary to `extra` (malformed ones)."""
    document = {"id": doc_id, "partitionKey": partition, "_etag": "e1", "_ts": int(NOW) - 10, **extra}
    if value is not ...:
        document["value"] = base64.b64encode(value).decode() if binary else value
        document["isBinary"] = binary
    if raw_value is not None:
        document["value"] = raw_value
    if ttl is not None:
        document["ttl"] = ttl
    state_key = parse_document_id(doc_id, KeyPrefix.from_metadata(None))
    return KeyValue(state_key, document, value_bytes_of(document), "e1", effective_expiry(ttl, -1, document["_ts"]))


@pytest.mark.parametrize("text", ['{"a":1}', "[1,2]", '"s"', "1", "1.5", "true", "null", '""', "{}"])
def test_every_json_value_is_sent_as_json_with_its_partition_and_etag(text):
    change = KeyChange.save(_key(value={"a": 0}), NewValue.json_text(text), TtlChoice(), NOW)
    assert change.kind is WriteKind.SAVE and change.etag == "e1"
    assert change.metadata == {"partitionKey": "pk", "contentType": JSON_CONTENT_TYPE}
    assert change.value.data == text.encode()


def test_bytes_are_sent_as_bytes():
    change = KeyChange.save(_key(value=b"\x00\x01", binary=True), NewValue.raw(b"\xff"), TtlChoice(), NOW)
    assert change.metadata == {"partitionKey": "pk"} and change.value.shape is ValueShape.BYTES


def test_turning_json_into_bytes_or_back_must_be_asked_for():
    with pytest.raises(ShapeChange, match="holds a JSON value"):
        KeyChange.save(_key(value=[1]), NewValue.raw(b"x"), TtlChoice(), NOW)
    with pytest.raises(ShapeChange, match="holds bytes"):
        KeyChange.save(_key(value=b"x", binary=True), NewValue.json_text("[1]"), TtlChoice(), NOW)
    asked = KeyChange.save(_key(value=[1]), NewValue.raw(b"x"), TtlChoice(), NOW, change_shape=True)
    assert asked.value.shape is ValueShape.BYTES


def test_overwrite_drops_the_etag_only_when_asked():
    assert KeyChange.save(_key(value={}), NewValue.json_text("{}"), TtlChoice(), NOW, overwrite=True).etag is None
    assert KeyChange.delete(_key(value={})).etag == "e1"
    assert KeyChange.delete(_key(value={}), overwrite=True).etag is None


def test_a_key_deleted_since_its_etag_was_read_is_a_conflict_not_a_new_key():
    state_key = parse_document_id("app||gone", KeyPrefix.from_metadata(None))
    with pytest.raises(EtagConflict, match="no longer exists"):
        KeyChange.create(state_key, "its-partition", NewValue.json_text("{}"), TtlChoice(), expected_etag="e1")
    created = KeyChange.create(state_key, "its-partition", NewValue.json_text("{}"), TtlChoice())
    assert created.create_only and created.etag is None and created.metadata["partitionKey"] == "its-partition"


@pytest.mark.parametrize("choice, sent", [(TtlChoice(), None), (TtlChoice(TtlMode.RESTART), None),
                                          (TtlChoice(TtlMode.NONE), "-1"), (TtlChoice(TtlMode.SET, 30), "30")])
def test_a_new_key_has_no_expiry_to_keep(choice, sent):
    state_key = parse_document_id("app||new", KeyPrefix.from_metadata(None))
    assert KeyChange.create(state_key, "p", NewValue.json_text("1"), choice).ttl_seconds == sent


def test_ttl_choices_on_an_existing_key():
    key = _key(value={}, ttl=100)
    assert KeyChange.save(key, NewValue.json_text("{}"), TtlChoice(), NOW).ttl_seconds == "90"  # same instant
    assert KeyChange.save(key, NewValue.json_text("{}"), TtlChoice(TtlMode.RESTART), NOW).ttl_seconds == "100"


def test_documents_dapr_did_not_write_are_never_written():
    with pytest.raises(NotADaprDocument):
        KeyChange.save(_key(value=..., other="x"), NewValue.json_text("{}"), TtlChoice(), NOW)
    with pytest.raises(NotADaprDocument):
        KeyChange.delete(_key(value=..., raw_value="eyJhIjoxfQ==", isBinary="yes"))


def test_actor_and_workflow_state_is_never_written():
    actor = _key("app||CartActor||cart-1||items", value={})
    with pytest.raises(NotWritable, match="actor state"):
        KeyChange.save(actor, NewValue.json_text("{}"), TtlChoice(), NOW)
    with pytest.raises(NotWritable):
        KeyChange.delete(actor)


@given(st.text())
def test_typed_text_is_valid_json_or_a_usage_error(text):
    try:
        value = NewValue.json_text(text)
    except UsageError as exc:
        assert "nothing was sent" in str(exc)
    else:
        assert value.shape is ValueShape.JSON and orjson.loads(value.data) is not None or value.data == b"null"


@pytest.mark.parametrize("text, says", [("\"\ud800\"", "lone surrogate"), ('{"s": "\\ud800"}', "surrogate pair"),
                                         ("12345678901234567890", "64-bit float"), ('{"a":1,"a":2}', "twice"),
                                         ("NaN", "NaN"), ("[1,", "not valid JSON"), ("", "empty")])
def test_what_dapr_would_not_keep_as_typed_is_refused_plainly(text, says):
    """A lone surrogate typed as a character, or as a JSON escape; numbers and keys Go would change."""
    with pytest.raises(UsageError, match=says):
        NewValue.json_text(text)


def test_checked_json_bytes_are_only_parsed_again():
    assert NewValue.json_bytes(b"[1]").data == b"[1]"
    with pytest.raises(UsageError, match="not valid JSON"):
        NewValue.json_bytes(b"[1")
