"""Bulk actions against the real daprd and server, the way users type them: the dry run changes
nothing, only the exact count confirms, each key is written through Dapr with the etag the dry run
listed — a key changed between the dry run and the confirmation is skipped and left as it is in
Cosmos — and TTLs set and removed keep each value and its shape."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import time

import orjson
import pytest

from explorer.session.audit_log import AuditLog
from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE
from explorer.dapr.sidecar import SidecarClient, StateWrite
from tests.support import REPO, no_traceback, run_cli

from .conftest import own_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_stack(tmp_path_factory, "bulk-stack", seeded=False) as local:
        yield local


@pytest.fixture(scope="module")
def cosmos(stack):
    return stack.cosmos_client().get_database_client("dapr-agents").get_container_client("agent-registry")


def write_keys(stack, partition: str, count: int, binary_every: int = 0, ttl: int | None = None) -> None:
    async def go():
        async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
            writes = []
            for i in range(count):
                meta = {"partitionKey": partition}
                if ttl:
                    meta["ttlInSeconds"] = str(ttl)
                if binary_every and i % binary_every == 0:
                    writes.append(StateWrite(f"{partition}:{i}", bytes([i, 0, 255]), metadata=meta))
                else:
                    meta["contentType"] = "application/json"
                    writes.append(StateWrite(f"{partition}:{i}", orjson.dumps({"n": i, "tags": [partition]}), metadata=meta))
            await sidecar.save(AGENTS_STORE, writes)
    asyncio.run(go())


def docs(cosmos, partition: str) -> dict[str, dict]:
    return {d["id"]: d for d in cosmos.query_items("SELECT * FROM c", partition_key=partition)}


def argv(stack, *args) -> list[str]:
    return [*args, "--resources-path", str(REPO / "components"), "--dapr-grpc-port",
            str(stack.sidecars[AGENTS_APP].grpc_port)]


def cli(stack, *args, stdin: str | None = None, audit: AuditLog | None = None):
    env = stack.client_env()
    if audit is not None:
        env["DAPR_EXPLORER_AUDIT_LOG"] = str(audit.path)
    if stdin is None:
        result = run_cli(argv(stack, *args), env)
    else:
        done = subprocess.run([sys.executable, "-m", "explorer", *argv(stack, *args)], input=stdin, text=True,
                              capture_output=True, env=env, timeout=120)
        result = done
    no_traceback(result)
    return result


def test_the_dry_run_lists_and_counts_and_writes_nothing(stack, cosmos):
    write_keys(stack, "dry", 25)
    before = docs(cosmos, "dry")
    result = cli(stack, "bulk", AGENTS_STORE, "delete", "--partition", "dry", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "dry run: would delete 25 keys in statestore-agents-cosmos" in result.stderr
    assert result.stdout.count("dry:") == 20 and "… and 5 more" in result.stdout
    listed = cli(stack, "--json", "bulk", AGENTS_STORE, "delete", "--partition", "dry", "--dry-run")
    rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert {r["id"]: r["etag"] for r in rows} == {i: d["_etag"] for i, d in before.items()}
    assert docs(cosmos, "dry") == before


def test_only_the_exact_count_confirms(stack, cosmos):
    write_keys(stack, "count", 12)
    before = docs(cosmos, "count")
    for typed in ("11\n", "twelve\n", ""):
        result = cli(stack, "bulk", AGENTS_STORE, "delete", "--partition", "count", stdin=typed)
        assert result.returncode == 5 and "nothing was written" in result.stderr, (typed, result.stderr)
        assert "Type 12 to delete 12 keys" in result.stderr
    assert docs(cosmos, "count") == before
    assert cli(stack, "--read-only", "bulk", AGENTS_STORE, "delete", "--partition", "count").returncode == 5
    assert docs(cosmos, "count") == before


def confirm_after(stack, audit: AuditLog, args: list[str], count: int, meanwhile) -> tuple[int, str]:
    """`dapr-explorer ARGS` up to its count prompt, then `meanwhile()` (another writer, through daprd),
    then the count typed: its exit code and stderr."""
    env = dict(stack.client_env(), DAPR_EXPLORER_AUDIT_LOG=str(audit.path))
    proc = subprocess.Popen([sys.executable, "-m", "explorer", *argv(stack, *args)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        prompt = b""
        deadline = time.monotonic() + 60
        while f"Type {count} to ".encode() not in prompt and time.monotonic() < deadline:
            prompt += os.read(proc.stderr.fileno(), 4096)
        assert f"Type {count} to ".encode() in prompt, prompt
        meanwhile()
        out, err = proc.communicate(f"{count}\n".encode(), timeout=120)
    finally:
        proc.kill()
    err = (prompt + err).decode()
    assert "Traceback" not in err, err
    return proc.returncode, err


def theirs(stack, saves: dict[str, bytes] = {}, deletes: dict[str, str] = {}) -> None:  # noqa: B006 - read only
    """Another client's writes through daprd: `saves` key -> JSON value, `deletes` key -> partition."""
    async def go():
        async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
            for key, value in saves.items():
                await sidecar.save(AGENTS_STORE, [StateWrite(key, value, metadata={
                    "partitionKey": key.split(":")[0], "contentType": "application/json"})])
            for key, partition in deletes.items():
                await sidecar.delete(AGENTS_STORE, key, metadata={"partitionKey": partition})
    asyncio.run(go())


def test_a_key_changed_after_the_dry_run_is_skipped_and_left_as_it_is(stack, cosmos, tmp_path):
    write_keys(stack, "race", 30)
    audit = AuditLog(tmp_path / "audit.jsonl")
    # Someone writes race:7 while the user reads the dry run.
    code, err = confirm_after(stack, audit, ["bulk", AGENTS_STORE, "delete", "--partition", "race"], 30,
                              lambda: theirs(stack, saves={"race:7": b'{"theirs": true}'}))
    assert code == 4, err
    assert "29 done, 1 skipped, 0 failed" in err and "skipped: agent-registry||race:7 [race]" in err
    left = docs(cosmos, "race")
    assert list(left) == [f"{AGENTS_APP}||race:7"] and left[f"{AGENTS_APP}||race:7"]["value"] == {"theirs": True}
    outcomes = sorted(r.outcome for r in audit.read().records)
    assert outcomes == ["done"] * 29 + ["skipped"]


@pytest.mark.parametrize("action", ["delete", "set-ttl"])
def test_a_key_someone_else_deleted_after_the_dry_run_is_skipped_and_never_audited_as_ours(stack, cosmos, tmp_path,
                                                                                           action):
    """daprd answers an etag-checked DeleteState of a missing key with success (components-contrib's
    Cosmos store drops the 404): the explorer must not count it done, nor log that it deleted it."""
    partition = f"gone-{action}"
    write_keys(stack, partition, 12)
    audit = AuditLog(tmp_path / "audit.jsonl")
    ttl = ["--ttl", "600"] if action == "set-ttl" else []
    code, err = confirm_after(stack, audit, ["bulk", AGENTS_STORE, action, *ttl, "--partition", partition], 12,
                              lambda: theirs(stack, saves={f"{partition}:5": b'{"theirs": 5}'},
                                             deletes={f"{partition}:3": partition, f"{partition}:8": partition}))
    assert code == 4, err
    assert "9 done, 3 skipped, 0 failed" in err, err
    for n in (3, 8):
        assert f"skipped: {AGENTS_APP}||{partition}:{n} [{partition}]: deleted by someone else since the dry run" in err
    assert f"skipped: {AGENTS_APP}||{partition}:5 [{partition}]: changed by someone else since the dry run" in err
    left = docs(cosmos, partition)
    if action == "delete":
        assert list(left) == [f"{AGENTS_APP}||{partition}:5"] and left[f"{AGENTS_APP}||{partition}:5"]["value"] == \
            {"theirs": 5}
    else:  # nothing recreated, their value left as they wrote it
        assert f"{AGENTS_APP}||{partition}:3" not in left and len(left) == 10
        assert left[f"{AGENTS_APP}||{partition}:5"]["value"] == {"theirs": 5} and "ttl" not in left[
            f"{AGENTS_APP}||{partition}:5"]
    lines = {r.key: r for r in audit.read().records}
    assert len(lines) == 12 and sorted(r.outcome for r in lines.values()) == ["done"] * 9 + ["skipped"] * 3
    for n in (3, 8):
        line = lines[f"{partition}:{n}"]
        assert line.outcome == "skipped" and "deleted by someone else" in line.error and line.etag_after is None
    assert lines[f"{partition}:5"].outcome == "skipped" and "changed" in lines[f"{partition}:5"].error


#: Ids Dapr creates (an upsert carries the id in its body) that Cosmos DB's gateway refuses in a point
#: operation's URL (DeleteState): '/', '#', a trailing blank (stack/cosmos/server.js checkPointId); bulk
#: deletes them in a one-delete transaction (a batch: the id in its body). '"' cannot go in daprd's
#: batch (explorer.core.writes.fits_a_batch): its URL is served.
DELETABLE = ["a/b", "q?x=1", "h#tag", "trailing ", "%2Fpct", 'quo"te', 'x","id":"victim']
#: Ids Dapr cannot delete on Cosmos DB at all (see explorer.core.writes.undeletable_reason).
HOSTILE = [*DELETABLE, "back\\slash", "line\nbreak", "tab\tkey"]


def test_keys_whose_ids_cosmos_refuses_in_a_url_are_deleted_by_bulk(stack, cosmos):
    async def go():
        async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
            await sidecar.save(AGENTS_STORE, [StateWrite(key, b'{"hostile": true}', metadata={
                "partitionKey": "hostile", "contentType": "application/json"}) for key in HOSTILE])
    asyncio.run(go())
    assert sorted(docs(cosmos, "hostile")) == sorted(f"{AGENTS_APP}||{k}" for k in HOSTILE)
    result = cli(stack, "bulk", AGENTS_STORE, "delete", "--partition", "hostile", "--confirm", str(len(DELETABLE)))
    assert result.returncode == 0, result.stderr
    assert (f"would delete {len(DELETABLE)} keys in {AGENTS_STORE}; {len(HOSTILE) - len(DELETABLE)} left alone "
            "(3 id Dapr cannot delete on Cosmos DB ('\\', CR, LF or TAB in it))") in result.stderr
    assert f"{len(DELETABLE)} done, 0 skipped, 0 failed" in result.stderr
    assert sorted(docs(cosmos, "hostile")) == sorted(f"{AGENTS_APP}||{k}" for k in set(HOSTILE) - set(DELETABLE))


def test_set_ttl_then_remove_it_keeps_every_value_and_its_shape(stack, cosmos):
    write_keys(stack, "ttl", 10, binary_every=3)
    before = docs(cosmos, "ttl")
    result = cli(stack, "bulk", AGENTS_STORE, "set-ttl", "--ttl", "3600", "--partition", "ttl", "--confirm", "10")
    assert result.returncode == 0, result.stderr
    after = docs(cosmos, "ttl")
    for doc_id, doc in after.items():
        assert doc["ttl"] == 3600 and doc["value"] == before[doc_id]["value"]
        assert doc["isBinary"] == before[doc_id]["isBinary"] and doc["partitionKey"] == "ttl"
    assert base64.b64decode(after[f"{AGENTS_APP}||ttl:3"]["value"]) == bytes([3, 0, 255])
    removed = cli(stack, "bulk", AGENTS_STORE, "remove-ttl", "--partition", "ttl", "--confirm", "10")
    assert removed.returncode == 0, removed.stderr
    for doc_id, doc in docs(cosmos, "ttl").items():
        assert doc.get("ttl") in (None, -1) and doc["value"] == before[doc_id]["value"]
    again = cli(stack, "bulk", AGENTS_STORE, "remove-ttl", "--partition", "ttl", "--dry-run")
    assert "would remove the TTL of 0 keys" in again.stderr and "10 no TTL to remove" in again.stderr
