"""The guarantees of issue 9, tried the way users type them, against the real daprd and server.

Each test names the numbered problem it pins down; each failed on the code before the fix
(options placed before the subcommand were dropped, non-object JSON turned into base64, a key
deleted meanwhile was recreated, Cosmos and sidecar failures ended in tracebacks, …).
"""

from __future__ import annotations

import os
import signal
import sys
import time

import orjson
import pytest

from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE, CACHE_APP, CACHE_STORE
from tests.support import REPO, every_etag, http_save, no_traceback, run_cli

from .conftest import own_stack

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own: these tests write, delete and freeze sidecars."""
    with own_stack(tmp_path_factory, "guarantees-stack") as local:
        yield local


@pytest.fixture(scope="module")
def cosmos(stack):
    return stack.cosmos_client()


def agents(cosmos):
    return cosmos.get_database_client("dapr-agents").get_container_client("agent-registry")


def cli(stack, *args, app=AGENTS_APP, env=None, resources=None):
    environment = stack.client_env()
    environment.pop("DAPR_GRPC_PORT", None)
    environment.update(env or {})
    common = ["--resources-path", str(resources or REPO / "components")]
    if app:
        common += ["--dapr-grpc-port", str(stack.sidecars[app].grpc_port)]
    result = run_cli([*args, *common], environment)
    no_traceback(result)
    return result


def items_with_id(cosmos, doc_id):
    return list(agents(cosmos).query_items("SELECT * FROM c WHERE c.id = @id",
                                           parameters=[{"name": "@id", "value": doc_id}],
                                           enable_cross_partition_query=True))


# -- 1. options before the subcommand --------------------------------------------------------------

WRITE_COMMANDS = [
    ["set", AGENTS_STORE, "agent:planner", '{"hijacked": true}'],
    ["set", AGENTS_STORE, "brand-new-key", "[1]"],
    ["set", AGENTS_STORE, "agent:planner", "AAEC", "--base64", "--change-shape"],
    ["delete", AGENTS_STORE, "agent:planner"],
    ["delete", AGENTS_STORE, "agent:reviewer", "--etag", "whatever"],
]


@pytest.mark.parametrize("where", ["before", "after"])
def test_1_read_only_refuses_every_write_subcommand_in_either_position(stack, cosmos, where):
    before = every_etag(cosmos)
    for command in WRITE_COMMANDS:
        argv = ["--read-only", *command] if where == "before" else [*command, "--read-only"]
        result = cli(stack, *argv)
        assert result.returncode == 5, (argv, result.stderr)
        assert "read-only" in result.stderr and "Nothing was sent" in result.stderr
    assert every_etag(cosmos) == before


def test_1_json_and_resources_path_before_the_subcommand_count(stack, tmp_path):
    result = run_cli(["--json", "--resources-path", str(REPO / "components"), "stores"], stack.client_env())
    assert result.returncode == 0, result.stderr
    assert {orjson.loads(line)["name"] for line in result.stdout.splitlines()} >= {AGENTS_STORE, CACHE_STORE}
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    result = run_cli(["--resources-path", str(empty), "get", AGENTS_STORE, "agent:planner"], stack.client_env())
    assert result.returncode == 3 and "no state store named" in result.stderr


# -- 2. the value's JSON type is kept ----------------------------------------------------------------

@pytest.mark.parametrize("value", ["[1,2,3]", '"a string"', "42", "4.5", "true", "null", '{"o":1}'])
def test_2_set_keeps_what_dapr_http_api_stores(stack, cosmos, value):
    key = f"shape-{abs(hash(value))}"
    http_save(stack.sidecars[AGENTS_APP].http_port, AGENTS_STORE, key, value.encode())
    written_by_app = items_with_id(cosmos, f"{AGENTS_APP}||{key}")[0]
    assert written_by_app["isBinary"] is False
    result = cli(stack, "set", AGENTS_STORE, key, value)
    assert result.returncode == 0, result.stderr
    [after] = items_with_id(cosmos, f"{AGENTS_APP}||{key}")
    assert after["isBinary"] is False and after["value"] == orjson.loads(value) == written_by_app["value"]
    assert type(after["value"]) is type(written_by_app["value"])


def test_2_bytes_stay_bytes_and_a_shape_change_must_be_asked_for(stack, cosmos):
    key = "shape-bytes"
    cli(stack, "set", AGENTS_STORE, key, "AAEC/w==", "--base64")
    assert items_with_id(cosmos, f"{AGENTS_APP}||{key}")[0]["isBinary"] is True
    refused = cli(stack, "set", AGENTS_STORE, key, "[1]")
    assert refused.returncode == 2 and "holds bytes" in refused.stderr
    assert items_with_id(cosmos, f"{AGENTS_APP}||{key}")[0]["value"] == "AAEC/w=="
    asked = cli(stack, "set", AGENTS_STORE, key, "[1]", "--change-shape")
    assert asked.returncode == 0 and items_with_id(cosmos, f"{AGENTS_APP}||{key}")[0]["value"] == [1]


# -- 3/4. ids Cosmos can hold --------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["orders/1001", "back\\slash", "what?", "hash#tag", "per%cent", "100%", "emoji-🤖",
                                 "𝔘nicode-𠀀", "trailing-blank ", "tab\tand\nnewline", "x" * 900])
def test_3_4_odd_keys_saved_by_daprd_are_read_and_written(stack, cosmos, key):
    http_save(stack.sidecars[AGENTS_APP].http_port, AGENTS_STORE, key, b'{"odd": true}')
    got = cli(stack, "get", AGENTS_STORE, key, "--json")
    assert got.returncode == 0, got.stderr
    assert orjson.loads(got.stdout)["value"] == {"odd": True}
    saved = cli(stack, "set", AGENTS_STORE, key, '{"odd": "still"}')
    assert saved.returncode == 0, saved.stderr
    [item] = items_with_id(cosmos, f"{AGENTS_APP}||{key}")
    assert item["value"] == {"odd": "still"}


def test_8_an_id_longer_than_cosmos_allows_is_one_line(stack):
    result = cli(stack, "get", AGENTS_STORE, "k" * 100_000)
    assert result.returncode == 3 and "1,023 bytes" in result.stderr


# -- 5. a key deleted meanwhile --------------------------------------------------------------------------

def test_5_set_with_the_etag_of_a_deleted_key_is_a_conflict_and_writes_nothing(stack, cosmos):
    key = "deleted-meanwhile"
    http_save(stack.sidecars[AGENTS_APP].http_port, AGENTS_STORE, key, b'{"v":1}', {"partitionKey": "its-own"})
    etag = orjson.loads(cli(stack, "get", AGENTS_STORE, key, "--json").stdout)["etag"]
    assert cli(stack, "delete", AGENTS_STORE, key).returncode == 0
    result = cli(stack, "set", AGENTS_STORE, key, '{"v":2}', "--etag", etag)
    assert result.returncode == 4 and "no longer exists" in result.stderr
    assert items_with_id(cosmos, f"{AGENTS_APP}||{key}") == []
    again = cli(stack, "delete", AGENTS_STORE, key, "--etag", etag)
    assert again.returncode == 4


# -- 7. a crash exits non-zero ------------------------------------------------------------------------

def test_7_a_crash_of_the_app_exits_non_zero(stack, tmp_path):
    from tests.integration.test_stack_lifecycle import Terminal

    probe = ("import explorer.tui.app as a\n"
             "def boom(self): raise RuntimeError('injected crash')\n"
             "a.ExplorerApp.on_mount = boom\n"
             "from explorer.cli.main import main\n"
             f"raise SystemExit(main(['--resources-path', {str(REPO / 'components')!r}]))\n")
    terminal = Terminal([sys.executable, "-c", probe])
    deadline = time.monotonic() + 30
    while terminal.process.poll() is None and time.monotonic() < deadline:
        terminal.read(0.2)
    assert terminal.process.poll() not in (None, 0), terminal.text()[-2000:]


# -- 8. one line instead of a traceback ------------------------------------------------------------

def test_8_bad_inputs_are_one_line_each(stack, tmp_path):
    cases = {
        ("set", AGENTS_STORE, "k", "1", "--ttl", "²"): (2, "--ttl"),
        ("set", AGENTS_STORE, "k", "1", "--ttl", "0"): (2, "--ttl"),
        ("set", AGENTS_STORE, "k", '{"s": "\\ud800"}'): (2, "surrogate pair"),
        ("set", AGENTS_STORE, "k", "[" * 5000 + "]" * 5000): (2, "nothing was sent"),
        ("set", AGENTS_STORE, "k", "12345678901234567890"): (2, "64-bit float"),
        ("set", AGENTS_STORE, "k", '{"a": 1, "a": 2}'): (2, "twice"),
        ("set", AGENTS_STORE, "k", "not base64!", "--base64"): (2, "base64"),
        ("keys", AGENTS_STORE, "--partition", "p", "--page-size", "0"): (2, "at least 1"),
        ("get", AGENTS_STORE, ""): (2, "KEY is empty"),
        ("delete", AGENTS_STORE, ""): (2, "KEY is empty"),
    }
    for argv, (code, text) in cases.items():
        result = cli(stack, *argv)
        assert result.returncode == code and text in result.stderr, (argv, result.stderr)


def test_8_invalid_utf8_in_a_key_is_one_line(stack):
    environment = stack.client_env()
    result = run_cli(["get", AGENTS_STORE, b"bad-\xff", "--resources-path", str(REPO / "components"),
                      "--dapr-grpc-port", str(stack.sidecars[AGENTS_APP].grpc_port)], environment)
    no_traceback(result)
    assert result.returncode == 2 and "not valid Unicode" in result.stderr


def test_8_a_value_nested_deeper_than_orjson_writes_is_shown(stack):
    deep = b"[" * 300 + b"1" + b"]" * 300
    http_save(stack.sidecars[AGENTS_APP].http_port, AGENTS_STORE, "deep", deep)
    result = cli(stack, "get", AGENTS_STORE, "deep", "--json")
    assert result.returncode == 0, result.stderr
    export = cli(stack, "export", AGENTS_STORE, "--partition", f"{AGENTS_APP}||deep")
    assert export.returncode == 0 and export.stdout.count("\n") == 1


def test_8_a_master_key_that_is_not_base64_is_one_line(stack, tmp_path):
    text = (REPO / "components" / "statestore-agents-cosmos.yaml").read_text()
    start = text.index("    - name: masterKey")
    end = text.index("    - name: database")
    (tmp_path / "store.yaml").write_text(text[:start] + "    - name: masterKey\n      value: 'not base64 !!'\n" + text[end:])
    result = cli(stack, "keys", AGENTS_STORE, "--partition", "gpt4", resources=tmp_path)
    assert result.returncode == 1 and "masterKey is not a Cosmos DB account key" in result.stderr
    assert "not base64 !!" not in result.stderr + result.stdout


def test_11_an_untrusted_certificate_says_so(stack):
    import certifi

    result = cli(stack, "keys", AGENTS_STORE, "--partition", "gpt4", "--cosmos-ca-file", certifi.where())
    assert result.returncode == 1
    assert "does not trust" in result.stderr and "--cosmos-ca-file" in result.stderr, result.stderr


def test_8_a_port_that_is_not_a_dapr_sidecar_is_one_line(stack):
    environment = stack.client_env()
    environment.pop("DAPR_GRPC_PORT", None)
    result = run_cli(["stores", "--resources-path", str(REPO / "components"),
                      "--dapr-grpc-port", str(stack.sidecars[AGENTS_APP].http_port)], environment)
    no_traceback(result)
    assert result.returncode == 0 and "sidecar not reachable" in result.stderr


# -- 8/10. export and malformed documents ------------------------------------------------------------

def test_10_malformed_documents_are_shown_as_such_and_never_written(stack, cosmos):
    container = agents(cosmos)
    container.upsert_item({"id": f"{AGENTS_APP}||yes-binary", "partitionKey": "odd", "value": {"a": 1},
                           "isBinary": "yes"})
    container.upsert_item({"id": f"{AGENTS_APP}||no-value", "partitionKey": "odd", "something": "else"})
    for key in ("yes-binary", "no-value"):
        got = orjson.loads(cli(stack, "get", AGENTS_STORE, key, "--json").stdout)
        assert got["value"] is None and "not a Dapr state document" in got["warnings"][0]
        assert got["isBinary"] in ("yes", None)
        refused = cli(stack, "set", AGENTS_STORE, key, "{}")
        assert refused.returncode == 1 and "not a Dapr state document" in refused.stderr
    export = cli(stack, "export", AGENTS_STORE, "--partition", "odd")
    assert export.returncode == 0, export.stderr
    rows = [orjson.loads(line) for line in export.stdout.splitlines()]
    assert {r["key"] for r in rows} == {"yes-binary", "no-value"}
    assert all(r["value"] is None and r["warnings"] for r in rows)
    assert "2 with warnings" in export.stderr


def test_10_an_item_with_no_partition_key_is_listed_read_and_never_written(stack, cosmos):
    doc_id = f"{AGENTS_APP}||no-partition-key"
    agents(cosmos).upsert_item({"id": doc_id, "value": {"made": "elsewhere"}, "isBinary": False})
    etag = items_with_id(cosmos, doc_id)[0]["_etag"]
    partitions = [orjson.loads(line) for line in cli(stack, "partitions", AGENTS_STORE, "--json").stdout.splitlines()]
    assert {"partitionKey": None, "defined": False} in partitions
    keys = cli(stack, "keys", AGENTS_STORE, "--partition", "(no partitionKey)", "--json")
    assert doc_id in {orjson.loads(line)["id"] for line in keys.stdout.splitlines()}, keys.stderr
    got = cli(stack, "get", AGENTS_STORE, "no-partition-key", "--json")
    assert got.returncode == 0 and orjson.loads(got.stdout)["value"] == {"made": "elsewhere"}, got.stderr
    refused = cli(stack, "set", AGENTS_STORE, "no-partition-key", "{}")
    assert refused.returncode == 1 and "no partitionKey field" in refused.stderr
    [item] = items_with_id(cosmos, doc_id)
    assert item["_etag"] == etag and "partitionKey" not in item


# -- 11. a frozen sidecar ------------------------------------------------------------------------------

def test_11_a_frozen_sidecar_is_named_as_such(stack):
    pid = stack.sidecars[CACHE_APP].process.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        result = cli(stack, "get", CACHE_STORE, "anything", app=CACHE_APP)
    finally:
        os.kill(pid, signal.SIGCONT)
    assert result.returncode == 2
    assert "no sidecar answered" in result.stderr and "frozen" in result.stderr, result.stderr


# -- 12. doctor STORE -----------------------------------------------------------------------------------

def test_12_doctor_narrows_to_the_stores_named(stack):
    result = cli(stack, "doctor", AGENTS_STORE, "--json")
    assert result.returncode in (0, 1), result.stderr
    stores = {orjson.loads(line)["store"] for line in result.stdout.splitlines()}
    assert stores <= {AGENTS_STORE}
    unknown = cli(stack, "doctor", "no-such-store")
    assert unknown.returncode == 3 and "no state store named" in unknown.stderr


# -- 9. bad component files -----------------------------------------------------------------------------

def test_9_a_bad_component_file_is_one_line_and_the_others_still_load(stack, tmp_path):
    for name in ("statestore-agents-cosmos.yaml", "local-secrets.yaml"):
        (tmp_path / name).write_text((REPO / "components" / name).read_text())
    (tmp_path / "broken.yaml").write_text("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: [oops]\n")
    (tmp_path / "twin-a.yaml").write_text("kind: Component\nmetadata: {name: twin}\nspec: {type: state.redis}\n")
    (tmp_path / "twin-b.yaml").write_text("kind: Component\nmetadata: {name: twin}\nspec: {type: state.redis}\n")
    stores = cli(stack, "stores", "--json", resources=tmp_path)
    assert stores.returncode == 1
    assert "broken.yaml" in stores.stderr and "twin" in stores.stderr
    assert AGENTS_STORE in {orjson.loads(line)["name"] for line in stores.stdout.splitlines()}
    got = cli(stack, "get", AGENTS_STORE, "agent:planner", resources=tmp_path)
    assert got.returncode == 0, got.stderr
    missing = cli(stack, "stores", resources=tmp_path / "nope")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
