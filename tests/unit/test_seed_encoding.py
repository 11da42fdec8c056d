"""The seeder's hand-written protobuf encoding, checked with the protobuf runtime (pure logic)."""

from google.protobuf import timestamp_pb2, wrappers_pb2
from hypothesis import given
from hypothesis import strategies as st

from explorer.localstack import seed


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_varint_matches_protobuf(n):
    ts = timestamp_pb2.Timestamp(seconds=n)
    assert seed._timestamp(n) == (ts.SerializeToString() if n else b"\x08\x00")


@given(st.text())
def test_string_value_matches_protobuf(text):
    assert wrappers_pb2.StringValue.FromString(seed._string_value(text)).value == text


def test_workflow_documents_follow_daprs_key_shapes():
    docs = seed.workflow_documents(now=1_700_000_000)
    ids = {d["id"] for d in docs}
    prefix = "order-processor||dapr.internal.default.order-processor.workflow||order-wf-1001||"
    assert {prefix + k for k in ("metadata", "customStatus", "inbox-000000", "history-000000")} <= ids
    for d in docs:
        assert d["isBinary"] is True
        assert d["id"].startswith(d["partitionKey"] + "||")
        assert d["id"].count("||") == 3
    status = next(d for d in docs if d["id"] == prefix + "customStatus")
    import base64
    assert wrappers_pb2.StringValue.FromString(base64.b64decode(status["value"])).value == "waiting for payment approval"


def test_plain_seed_keys_never_contain_double_pipe():
    for write in seed.agent_writes() + seed.cache_writes() + seed.order_writes():
        assert "||" not in write.key
