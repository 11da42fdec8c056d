"""How a failed sidecar call reads (explorer.dapr.sidecar._translate). Uses hand-made gRPC errors and a
protobuf DecodeError (FAKES of what grpc raises, no sidecar): the outages themselves are run for
real in tests/integration/test_guarantees.py, test_tui_outages.py and bench/reliability.py."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.message import DecodeError

from explorer.errors import (
    EtagConflict, InvalidKey, KeyGone, SidecarError, SidecarRefused, SidecarUnavailable, WriteOutcomeUnknown,
    is_retryable,
)
from explorer.dapr.sidecar import _translate


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
    (grpc.StatusCode.UNAUTHENTICATED, "authentication error: api token mismatch", SidecarRefused, "DAPR_API_TOKEN"),
    (grpc.StatusCode.PERMISSION_DENIED, "access to method GetMetadata is not allowed", SidecarRefused, "API allowlist"),
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


#: What daprd 1.18 answers when Cosmos refuses the component's identity a write: components-contrib
#: returns azcore's ResponseError text and daprd wraps it in messages.ErrStateSave (gRPC Internal).
DAPRD_403 = """failed saving state in state store statestore-entra-reader: POST https://127.0.0.1:8081/dbs/db/colls/c/docs
--------------------------------------------------------------------------------
RESPONSE 403: 403 Forbidden
ERROR CODE: Forbidden
--------------------------------------------------------------------------------
{
  "code": "Forbidden",
  "message": "Request blocked by Auth acct : Request is blocked because principal [5e1d…] does not have required RBAC permissions to perform action [Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/upsert] on resource [dbs/db/colls/c]."
}
--------------------------------------------------------------------------------
"""


def test_a_write_cosmos_refuses_for_a_missing_role_says_which_role_in_one_line():
    from explorer.errors import RoleMissing

    error = _translate(rpc_error(grpc.StatusCode.INTERNAL, DAPRD_403), "127.0.0.1:5001", "statestore-entra-reader",
                       "order-1", True, 20)
    assert type(error) is RoleMissing and error.exit_code == 6 and not is_retryable(error)
    line = str(error.with_identity("managed identity, client id 1f3c2a9b…"))
    assert "\n" not in line and "statestore-entra-reader/order-1" in line
    assert "Cosmos DB Built-in Data Contributor" in line and "nothing was written" in line
    assert "managed identity, client id 1f3c2a9b…" in line and "RESPONSE 403" not in line
    read = _translate(rpc_error(grpc.StatusCode.INTERNAL, DAPRD_403.replace("saving", "getting")), "a", "s", "k", False, 5)
    assert "nothing was read" in str(read) and "Cosmos DB Built-in Data Reader" in str(read)


def test_a_transaction_delete_of_a_key_gone_since_its_etag_was_read_is_never_a_success():
    """daprd's answer when the one-delete transaction (explorer.dapr.sidecar.SidecarClient.delete) finds the
    item gone (Cosmos' 404 inside the batch) or changed (412): as daprd v1.18.2 words it."""
    gone = _translate(rpc_error(grpc.StatusCode.INTERNAL, "error while executing state transaction: transaction "
                                "failed due to operation 0 which failed with status code 404"),
                      "127.0.0.1:5001", "store", "k", True, 20, etag='"e1"')
    assert type(gone) is KeyGone and isinstance(gone, EtagConflict) and gone.exit_code == 4
    assert "deleted by someone else" in str(gone) and "nothing was deleted" in str(gone)
    changed = _translate(rpc_error(grpc.StatusCode.INTERNAL, "error while executing state transaction: transaction "
                                   "failed due to operation 0 which failed with status code 412"),
                         "127.0.0.1:5001", "store", "k", True, 20, etag='"e1"')
    assert type(changed) is EtagConflict and "nothing was written" in str(changed)
