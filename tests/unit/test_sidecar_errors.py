"""How a failed sidecar call reads (explorer.sidecar._translate). Uses hand-made gRPC errors and a
protobuf DecodeError (FAKES of what grpc raises, no sidecar): the outages themselves are run for
real in tests/integration/test_guarantees.py, test_tui_outages.py and bench/reliability.py."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import DecodeError

from explorer.errors import (
    EtagConflict, InvalidKey, SidecarError, SidecarUnavailable, WriteOutcomeUnknown, is_retryable,
)
from explorer.sidecar import _translate


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details)


def test_a_timed_out_save_says_the_write_may_have_happened():
    error = _translate(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), "127.0.0.1:5001",
                       "store", "k", True, 20)
    assert type(error) is WriteOutcomeUnknown and not is_retryable(error)
    assert "may or may not have happened" in str(error) and "DEADLINE_EXCEEDED" not in str(error)


def test_a_timed_out_read_is_a_sidecar_that_does_not_answer():
    error = _translate(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"), "127.0.0.1:5001",
                       "store", "k", False, 5)
    assert isinstance(error, SidecarUnavailable) and is_retryable(error) and "within 5s" in str(error)


def test_something_that_is_not_dapr_answering_is_said_as_such():
    error = _translate(DecodeError("Error parsing message"), "127.0.0.1:3500", "metadata", "", False, 5)
    assert isinstance(error, SidecarError) and "did not answer like a Dapr sidecar" in str(error)
    unimplemented = _translate(rpc_error(grpc.StatusCode.UNIMPLEMENTED, "unknown service"), "127.0.0.1:1", "s", "k",
                               False, 5)
    assert "is it a Dapr sidecar's gRPC port" in str(unimplemented)


@pytest.mark.parametrize("code, details, kind, says", [
    (grpc.StatusCode.ABORTED, "failed saving state: possible etag mismatch", EtagConflict, "nothing was written"),
    (grpc.StatusCode.INVALID_ARGUMENT, "input key/keyPrefix 'a||b' can't contain '||'", InvalidKey, "can't contain"),
    (grpc.StatusCode.UNAUTHENTICATED, "authentication error: api token mismatch", SidecarError, "DAPR_API_TOKEN"),
    (grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses", SidecarUnavailable, "Start one"),
])
def test_each_answer_reads_as_what_to_do(code, details, kind, says):
    error = _translate(rpc_error(code, details), "127.0.0.1:5001", "store", "k", True, 20)
    assert type(error) is kind and says in str(error)


def test_a_sidecar_that_dies_during_a_write_leaves_the_outcome_open():
    died = _translate(rpc_error(grpc.StatusCode.UNAVAILABLE, "Stream removed"), "127.0.0.1:5001", "s", "k", True, 5)
    assert type(died) is WriteOutcomeUnknown and "may or may not have happened" in str(died)
    refused = _translate(rpc_error(grpc.StatusCode.UNAVAILABLE, "failed to connect to all addresses"), "127.0.0.1:5001",
                         "s", "k", True, 5)
    assert type(refused) is SidecarUnavailable
