"""A real Dapr workflow on the local stack (first slice of issue 10): placement and scheduler
running (`LocalStack(actors=True)`), a workflow app on Dapr's own Python SDK, daprd saving the
instance's state with Cosmos transactional batches on the local server, and the explorer reading
what daprd wrote — never documents our seeder made up."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from explorer.core.envelope import KeyKind, KeyPrefix, parse_document_id
from explorer.core.expiry import Expiry, ExpiryKind
from explorer.core.model import KeyValue, value_bytes_of
from explorer.core.writes import why_not_writable
from explorer.localstack.seed import WORKFLOWS_APP, WORKFLOW_ACTOR_TYPE
from tests.support import REPO

from .conftest import own_stack

pytestmark = pytest.mark.integration

INSTANCE = "order-1001"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_stack(tmp_path_factory, "workflow-stack", seeded=False, app_ids=(WORKFLOWS_APP,), actors=True) as local:
        yield local


def test_a_workflow_run_by_dapr_leaves_its_state_as_the_explorer_reads_it(stack):
    sidecar = stack.sidecars[WORKFLOWS_APP]
    env = dict(os.environ, DAPR_GRPC_PORT=str(sidecar.grpc_port), DAPR_HTTP_PORT=str(sidecar.http_port))
    run = subprocess.run([sys.executable, "-m", "tests.apps.order_workflow", INSTANCE], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "STATUS COMPLETED" in run.stdout, run.stdout + run.stderr[-3000:]

    partition = f"{WORKFLOWS_APP}||{WORKFLOW_ACTOR_TYPE}||{INSTANCE}"
    container = stack.cosmos_client().get_database_client("dapr-workflows").get_container_client("workflow-state")
    items = list(container.query_items("SELECT * FROM c WHERE c.partitionKey = @pk",
                                       parameters=[{"name": "@pk", "value": partition}], partition_key=partition))
    parts = {}
    for item in items:
        key = parse_document_id(item["id"], KeyPrefix.from_metadata(None))
        assert key.kind is KeyKind.WORKFLOW and key.actor_id == INSTANCE and key.app_id == WORKFLOWS_APP
        assert item["isBinary"] is True and item["partitionKey"] == partition
        parts.setdefault(key.workflow_part, []).append(key.sequence)
    assert {"metadata", "customStatus", "history"} <= set(parts), parts
    history = sorted(parts["history"])
    assert history == list(range(len(history))) and len(history) >= 4, history  # started … completed
    opened = next(i for i in items if i["id"].endswith("||metadata"))
    key = KeyValue(parse_document_id(opened["id"], KeyPrefix.from_metadata(None)), opened, value_bytes_of(opened),
                   opened["_etag"], Expiry(ExpiryKind.NEVER, None, "no ttl"))
    assert "workflow state" in (why_not_writable(key) or "")
