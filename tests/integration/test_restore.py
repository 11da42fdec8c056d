"""Export, import and diff against the real daprd and server, the way users type them: an import
after the keys were deleted reproduces the exported documents exactly (value, shape, partitionKey,
TTL), a key changed since the export is skipped unless --overwrite-changed, and diff finds what
differs between a store and an export file."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import orjson
import pytest

from explorer.session.audit_log import AuditLog
from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE, CACHE_APP, CACHE_STORE
from explorer.dapr.sidecar import SidecarClient, StateWrite
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


def cli(stack, *args, expect: int = 0, audit: Path | None = None, app: str = AGENTS_APP):
    env = stack.client_env()
    if audit is not None:
        env = dict(env, DAPR_EXPLORER_AUDIT_LOG=str(audit))
    result = run_cli([*args, "--resources-path", str(REPO / "components"), "--dapr-grpc-port",
                      str(stack.sidecars[app].grpc_port)], env)
    no_traceback(result)
    assert "unexpected error" not in result.stderr, result.stderr
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


# -- issue 19: import holds the rules of `set`; its report and exit codes say what happened ------------


def record(key: str, value: object = None, partition: str = "rules", raw_value: str | None = None, **fields) -> str:
    """An export line as `dapr-explorer export` writes one (`raw_value`: the value's JSON text as is)."""
    line = {"id": f"{AGENTS_APP}||{key}", "key": key, "partitionKey": partition, "etag": None, "ts": None,
            "ttl": None, "isBinary": False, "value": "RAW" if raw_value is not None else value}
    line.update(fields)
    text = json.dumps(line)
    return text.replace('"RAW"', raw_value) if raw_value is not None else text


def in_partition(container, partition: str) -> dict[str, dict]:
    return {d["id"]: d for d in container.query_items("SELECT * FROM c", partition_key=partition)}


@pytest.mark.parametrize(("raw_value", "says"), [
    ('{"name": "\\ud800x"}', "\\ud800 is half of a surrogate pair, with no other half"),
    ('{"n": 9223372036854775809}', "9223372036854775809 does not fit a 64-bit float: Dapr and Cosmos DB would keep "
                                   "9223372036854776000"),
    ('{"a": 1, "a": 2}', 'key "a" appears twice in one object'),
])
def test_a_value_set_refuses_stops_the_import_at_its_line_and_diff_compares_it(stack, container, tmp_path,
                                                                                raw_value, says):
    """Before: a lone surrogate was "unexpected error: UnicodeEncodeError… please report it" in import
    and diff; 2^63+1 was written as 9223372036854776000 and a key twice kept the last value."""
    dump = tmp_path / "rules.jsonl"
    dump.write_text(record("rules:ok", {"fine": 1}) + "\n" + record("rules:bad", raw_value=raw_value) + "\n")
    result = cli(stack, "import", AGENTS_STORE, str(dump), "--confirm", "2", expect=2)
    assert f"{dump}: line 2, column " in result.stderr and says in result.stderr, result.stderr
    assert "nothing was written" in result.stderr
    assert in_partition(container, "rules") == {}
    typed = cli(stack, "set", AGENTS_STORE, "rules:bad", raw_value, "--partition", "rules", expect=2)
    assert says in typed.stderr  # set's own words
    compared = cli(stack, "diff", str(dump), AGENTS_STORE, "--partition", "rules", "--values", "--exit-code", expect=1)
    assert "2 only in" in compared.stderr


def test_an_id_without_the_stores_prefix_is_refused_and_the_audit_names_the_id_written(stack, container, tmp_path):
    """Before: `r:bare` was written as `<app>||r:bare`, the import then said "press r to reload", and the
    audit line named `r:bare`."""
    audit = tmp_path / "audit.jsonl"
    dump = tmp_path / "bare.jsonl"
    bare = json.loads(record("rules:bare", {"v": 1}, partition="bare"))
    bare["id"] = "rules:bare"
    dump.write_text(record("rules:named", {"v": 2}, partition="bare") + "\n" + json.dumps(bare) + "\n")
    result = cli(stack, "import", AGENTS_STORE, str(dump), "--confirm", "2", audit=audit, expect=2)
    assert ("line 2 (rules:bare): the id is not one Dapr writes in " f"{AGENTS_STORE} (keyPrefix appid: every id is "
            "<app-id>||<key>)") in result.stderr, result.stderr
    assert "press r" not in result.stderr and in_partition(container, "bare") == {}
    assert not audit.exists() or AuditLog(audit).read().records == []
    dump.write_text(record("rules:named", {"v": 2}, partition="bare") + "\n")
    cli(stack, "import", AGENTS_STORE, str(dump), "--confirm", "1", audit=audit)
    assert list(in_partition(container, "bare")) == [f"{AGENTS_APP}||rules:named"]
    [line] = AuditLog(audit).read().records
    assert (line.doc_id, line.key, line.outcome) == (f"{AGENTS_APP}||rules:named", "rules:named", "done")


@pytest.mark.parametrize(("fields", "says"), [
    ({"id": f"{AGENTS_APP}||"}, "the key is empty: Dapr state keys have at least one character"),
    ({"id": f"{AGENTS_APP}||" + "k" * 1100}, "the key is too long: its item id would be 1,"),
    ({"ttl": 10**12, "ts": 1_700_000_000}, "ttl 1000000000000 is not one Cosmos DB keeps on an item (a whole number "
                                           "of seconds from 1 to 2147483647, or -1"),
    ({"ttl": 0, "ts": 1_700_000_000}, "ttl 0 is not one Cosmos DB keeps"),
    ({"ttl": -5, "ts": 1_700_000_000}, "ttl -5 is not one Cosmos DB keeps"),
])
def test_a_line_that_could_only_fail_at_write_time_is_refused_by_the_dry_run(stack, container, tmp_path, fields, says):
    """Before: the dry run counted these "to create" (ttl 0 and -5: "expired since the export")."""
    dump = tmp_path / "late.jsonl"
    dump.write_text(record("rules:late", {"v": 1}, partition="late", **fields) + "\n")
    result = cli(stack, "import", AGENTS_STORE, str(dump), "--dry-run", expect=2)
    assert says in result.stderr and "line 1" in result.stderr, result.stderr
    assert in_partition(container, "late") == {}


def test_set_refuses_a_key_too_long_for_cosmos_before_sending_it(stack):
    result = cli(stack, "set", AGENTS_STORE, "k" * 1100, "1", "--partition", "late", expect=2)
    assert "KEY is too long: its item id would be 1," in result.stderr and "nothing was sent" in result.stderr


def test_recorded_ttl_keeps_the_expiry_instant_and_diff_finds_the_restore_the_same(stack, tmp_path):
    """In the cache store (its container has TTL on, so item ttls apply). Before: the seconds left were
    rounded down (each key expired a second early) and `diff --exit-code` exited 1 on the re-based ttl."""
    cache = stack.cosmos_client().get_database_client("dapr-cache").get_container_client("session-cache")

    async def seed_cache():
        async with SidecarClient(stack.sidecars[CACHE_APP].grpc_address) as sidecar:
            await sidecar.save(CACHE_STORE, [StateWrite(f"ttl:{i}", b'{"t":1}', metadata={
                "partitionKey": "ttl", "ttlInSeconds": str(3600 + i), "contentType": "application/json"})
                for i in range(4)])
    asyncio.run(seed_cache())
    before = {d["id"]: d["_ts"] + d["ttl"] for d in in_partition(cache, "ttl").values()}
    dump = tmp_path / "ttl.jsonl"
    dump.write_text(cli(stack, "export", CACHE_STORE, "--partition", "ttl", app=CACHE_APP).stdout)
    cli(stack, "bulk", CACHE_STORE, "delete", "--partition", "ttl", "--confirm", "4", app=CACHE_APP)
    time.sleep(1.2)  # a second or more after the export: what is left is not the whole ttl
    cli(stack, "import", CACHE_STORE, str(dump), "--confirm", "4", app=CACHE_APP)
    after = {d["id"]: (d["_ts"] + d["ttl"], d["ttl"]) for d in in_partition(cache, "ttl").values()}
    assert after.keys() == before.keys()
    for doc_id, (expires, ttl) in after.items():
        assert before[doc_id] <= expires <= before[doc_id] + 1, (doc_id, before[doc_id], expires)  # never early
        assert ttl < 3600 + int(doc_id[-1])  # re-based on the import's _ts
    same = cli(stack, "diff", str(dump), CACHE_STORE, "--partition", "ttl", "--exit-code", app=CACHE_APP)
    assert "0 different, 4 the same" in same.stderr


def test_a_key_changed_since_the_export_is_reported_skipped_with_exit_4(stack, container, tmp_path):
    """Before: "1 done, 0 skipped" and exit 0 (the docs say 4)."""
    save(stack, [StateWrite(f"chg:{i}", b'{"v":1}', metadata={"partitionKey": "chg", "contentType": "application/json"})
                 for i in range(2)])
    dump = tmp_path / "chg.jsonl"
    dump.write_text(cli(stack, "export", AGENTS_STORE, "--partition", "chg").stdout)

    async def delete_first():
        async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as sidecar:
            await sidecar.delete(AGENTS_STORE, "chg:0", metadata={"partitionKey": "chg"})
    asyncio.run(delete_first())
    save(stack, [StateWrite("chg:1", b'{"v":"theirs"}', metadata={"partitionKey": "chg",
                                                                  "contentType": "application/json"})])
    result = cli(stack, "import", AGENTS_STORE, str(dump), "--confirm", "1", expect=4)
    assert "1 done, 1 skipped, 0 failed" in result.stderr, result.stderr
    assert f"skipped: {AGENTS_APP}||chg:1 [chg]: changed since the export" in result.stderr
    assert in_partition(container, "chg")[f"{AGENTS_APP}||chg:1"]["value"] == {"v": "theirs"}
    nothing_else = cli(stack, "import", AGENTS_STORE, str(dump), "--confirm", "0", expect=4)
    assert "0 to write" in nothing_else.stderr and "2 skipped" in nothing_else.stderr  # both changed since


def test_the_same_key_twice_in_one_file_is_refused_naming_both_lines(stack, container, tmp_path):
    """Before: "2 to create", then the second blamed on "someone else"."""
    dump = tmp_path / "twice.jsonl"
    dump.write_text("\n".join([record("twice:a", {"v": 1}, partition="twice"), record("twice:b", 2, partition="twice"),
                               record("twice:a", {"v": 3}, partition="twice")]) + "\n")
    result = cli(stack, "import", AGENTS_STORE, str(dump), "--confirm", "3", expect=2)
    assert (f"line 3 ({AGENTS_APP}||twice:a): the same item (id and partitionKey) as line 1; an export names each "
            "item once: remove one of the two lines; nothing was written") in result.stderr, result.stderr
    assert in_partition(container, "twice") == {}


def test_diff_on_a_folder_says_what_diff_compares(stack, tmp_path):
    """Before: "no state store named …"."""
    result = cli(stack, "diff", str(tmp_path), AGENTS_STORE, expect=2)
    assert f"{tmp_path} is a folder, not an export file or a store: diff compares" in result.stderr
    assert "no state store named" not in result.stderr


def test_broken_and_odd_files_are_one_line_with_their_line_number_and_nothing_is_written(stack, container, tmp_path):
    good = record("odd:a", {"v": 1}, partition="odd")
    cases = {
        "garbage.jsonl": (b"\x00\xff\xfe\x89PNG\r\n", 2, "line 1, column 2: not UTF-8 text (byte 0xff)"),
        "cut.jsonl": ((good + "\n" + good.replace("odd:a", "odd:b")[:-20]).encode(), 2,
                      "line 2, column "),
        "huge.jsonl": (good.encode() + b"\n" + b"[" * (33 * 1024 * 1024) + b"\n", 2, "line 2: longer than 32 MiB"),
        "notjson.jsonl": (b"hello\n", 2, "line 1, column 1: not JSON (Expecting value)"),
    }
    for name, (data, code, says) in cases.items():
        (tmp_path / name).write_bytes(data)
        result = cli(stack, "import", AGENTS_STORE, str(tmp_path / name), "--confirm", "1", expect=code)
        assert says in result.stderr and "nothing was written" in result.stderr, (name, result.stderr)
    assert "the file ends in the middle of this line: was the export cut short?" in cli(
        stack, "import", AGENTS_STORE, str(tmp_path / "cut.jsonl"), "--dry-run", expect=2).stderr
    assert in_partition(container, "odd") == {}
    (tmp_path / "empty.jsonl").write_bytes(b"")
    empty = cli(stack, "import", AGENTS_STORE, str(tmp_path / "empty.jsonl"), "--confirm", "0")
    assert "which holds no records" in empty.stderr
    windows = tmp_path / "windows.jsonl"  # a byte order mark and CRLF line ends, as some editors save
    windows.write_bytes(b"\xef\xbb\xbf" + good.encode() + b"\r\n" + good.replace("odd:a", "odd:b").encode() + b"\r\n")
    cli(stack, "import", AGENTS_STORE, str(windows), "--confirm", "2")
    assert sorted(in_partition(container, "odd")) == [f"{AGENTS_APP}||odd:a", f"{AGENTS_APP}||odd:b"]
