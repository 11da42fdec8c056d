"""The doctor's findings about item contents against the real local Cosmos server: they come from a
query over the whole container, never from the first page of items.

The container is made here, on the session's stack's account (a database of this module's own, so
no other test's data changes): 150 items without a ttl, then one with a ttl, in a container whose
TTL is off. Cosmos ignores that ttl, so the item never expires: what `container-ttl-off` is for.
"""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
from azure.cosmos import PartitionKey

pytestmark = pytest.mark.integration
DATABASE = "doctor-whole-container"
COMPONENT = """apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {{name: {name}}}
spec:
  type: state.azure.cosmosdb
  version: v1
  metadata:
    - {{name: url, value: "{{env:COSMOS_URL}}"}}
    - {{name: masterKey, value: "{{env:COSMOS_MASTER_KEY}}"}}
    - {{name: database, value: {database}}}
    - {{name: collection, value: {collection}}}
"""


@pytest.fixture(scope="module")
def containers(stack, cosmos):
    """Two TTL-off containers of 151 items: in `late-ttl` only the 151st (written last) carries a ttl;
    in `no-ttl` none does."""
    database = cosmos.create_database_if_not_exists(DATABASE)
    for name, late_ttl in (("late-ttl", True), ("no-ttl", False)):
        container = database.create_container_if_not_exists(name, PartitionKey("/partitionKey"))
        for n in range(150):
            container.upsert_item({"id": f"app||k{n:03d}", "partitionKey": f"p{n % 7}", "value": n, "isBinary": False})
        last = {"id": "app||late", "partitionKey": "p3", "value": "late", "isBinary": False}
        container.upsert_item({**last, "ttl": 3600} if late_ttl else last)
    yield
    cosmos.delete_database(DATABASE)


def doctor(stack, tmp_path, collection: str) -> list[dict]:
    (tmp_path / "store.yaml").write_text(COMPONENT.format(name=collection, database=DATABASE, collection=collection))
    result = subprocess.run([sys.executable, "-m", "explorer", "doctor", collection, "--json", "--resources-path",
                             str(tmp_path)], capture_output=True, text=True, env=stack.client_env(), timeout=120)
    assert "Traceback" not in result.stderr, result.stderr
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_a_ttl_past_the_first_hundred_items_in_a_ttl_off_container_is_found(stack, containers, tmp_path):
    found = [f for f in doctor(stack, tmp_path, "late-ttl") if f["code"] == "container-ttl-off"]
    assert len(found) == 1, found
    assert "'app||late'" in found[0]["message"] and "never expire" in found[0]["message"]


def test_a_ttl_off_container_whose_items_carry_none_gets_no_such_finding(stack, containers, tmp_path):
    assert not [f for f in doctor(stack, tmp_path, "no-ttl") if f["code"] == "container-ttl-off"]
