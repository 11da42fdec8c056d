"""Export, import and diff against the real daprd and server, the way users type them: an import
after the keys were deleted reproduces the exported documents exactly (value, shape, partitionKey,
TTL), a key changed since the export is skipped unless --overwrite-changed, and diff finds what
differs between a store and an export file."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE
from explorer.sidecar import SidecarClient, StateWrite
from tests.support import REPO, no_traceback, run_cli

from .conftest import own_stack

pytestmark = pytest.mark.integration

PARTITION = "restore"
VALUES = {"obj": b'{"a":{"b":[1,2.5,"x"]}}', "arr": b"[1,null,true]", "str": b'"text"', "num": b"42",
          "bool": b"false", "null": b"null"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_stack(tmp_path_factory, "restore-stack", seeded=False) as local:
        yield local


@pytest.fixture(scope="module")
def container(stack):
    return stack.cosmos_client().get_database_client("dapr-agents").get_container_client("agent-registry")


def save(stack, writes):
    async def go():
        async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
            await sidecar.save(AGENTS_STORE, writes)
    asyncio.run(go())


def seed(stack):
    writes = [StateWrite(f"r:{name}", data, metadata={"partitionKey": PARTITION, "contentType": "application/json"})
              for name, data in VALUES.items()]
    writes.append(StateWrite("r:bytes", b"\x00\x01\xfe\xff", metadata={"partitionKey": PARTITION}))
    writes.append(StateWrite("r:ttl", b'{"t":1}', metadata={"partitionKey": PARTITION, "ttlInSeconds": "3600",
                                                            "contentType": "application/json"}))
    save(stack, writes)


def documents(container) -> dict[str, dict]:
    """The partition's documents without what Cosmos itself sets on every write."""
    return {d["id"]: {k: v for k, v in d.items() if not k.startswith("_")}
            for d in container.query_items("SELECT * FROM c", partition_key=PARTITION)}


def cli(stack, *args, expect: int = 0):
    result = run_cli([*args, "--resources-path", str(REPO / "components"), "--dapr-grpc-port",
                      str(stack.sidecars[AGENTS_APP].grpc_port)], stack.client_env())
    no_traceback(result)
    assert result.returncode == expect, (args, result.stderr)
    return result


def test_an_import_after_a_delete_reproduces_the_exported_documents(stack, container, tmp_path):
    seed(stack)
    exported = documents(container)
    assert len(exported) == 8
    dump = tmp_path / "restore.jsonl"
    dump.write_text(cli(stack, "export", AGENTS_STORE, "--partition", PARTITION).stdout)
    cli(stack, "bulk", AGENTS_STORE, "delete", "--partition", PARTITION, "--confirm", "8")
    assert documents(container) == {}
    dry = cli(stack, "import", AGENTS_STORE, str(dump), "--dry-run")
    assert "8 to write (8 to create, 0 to overwrite), 0 unchanged, 0 skipped" in dry.stderr
    assert documents(container) == {}
    cli(stack, "import", AGENTS_STORE, str(dump), "--ttl", "restart", "--confirm", "8")
    assert documents(container) == exported  # value, isBinary, partitionKey, ttl: as Dapr wrote them first
    same = cli(stack, "diff", str(dump), AGENTS_STORE, "--partition", PARTITION, "--exit-code")
    assert "0 only in" in same.stderr and "0 different, 8 the same" in same.stderr


def test_a_key_changed_since_the_export_is_skipped_unless_asked(stack, container, tmp_path):
    seed(stack)
    dump = tmp_path / "restore.jsonl"
    dump.write_text(cli(stack, "export", AGENTS_STORE, "--partition", PARTITION).stdout)
    save(stack, [StateWrite("r:obj", b'{"changed":true}', metadata={"partitionKey": PARTITION,
                                                                     "contentType": "application/json"})])
    changed = documents(container)[f"{AGENTS_APP}||r:obj"]
    dry = cli(stack, "import", AGENTS_STORE, str(dump), "--dry-run")
    assert "0 to write (0 to create, 0 to overwrite), 7 unchanged, 1 skipped" in dry.stderr
    assert "changed since the export" in dry.stdout
    differs = cli(stack, "--json", "diff", AGENTS_STORE, str(dump), "--partition", PARTITION, "--exit-code", expect=1)
    [row] = [orjson.loads(line) for line in differs.stdout.splitlines()]
    assert row["id"] == f"{AGENTS_APP}||r:obj" and row["what"] == ["value"] and '+  "a": {' in row["diff"]
    assert documents(container)[f"{AGENTS_APP}||r:obj"] == changed
    cli(stack, "import", AGENTS_STORE, str(dump), "--overwrite-changed", "--confirm", "1")
    assert documents(container)[f"{AGENTS_APP}||r:obj"]["value"] == {"a": {"b": [1, 2.5, "x"]}}


def test_bad_files_are_one_line_and_nothing_is_written(stack, container, tmp_path):
    seed(stack)
    before = documents(container)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "agent-registry||r:x", "partitionKey": "restore", "isBinary": false, "value": 1}\n{oops\n')
    result = cli(stack, "import", AGENTS_STORE, str(bad), "--confirm", "1", expect=2)
    assert "line 2, column 2: not JSON" in result.stderr and "nothing was written" in result.stderr
    assert "No such file" in cli(stack, "import", AGENTS_STORE, str(tmp_path / "none.jsonl"), expect=2).stderr
    assert cli(stack, "--read-only", "import", AGENTS_STORE, str(bad), expect=5)
    assert documents(container) == before
