"""The explorer starts its own daprd when the owning app has no reachable sidecar, on the real stack.

No sidecar of the stack is passed to the CLI: every write here goes through a daprd the explorer
started. `--daprd` points at a wrapper that records its pid and then execs the real daprd, so the
tests know exactly which process was started (the same pid) and whether one was started at all.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from explorer.dapr.processes import free_port
from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE

from .conftest import container
from .test_cli import cosmos, stack  # noqa: F401 - module-scoped: this module gets a seeded stack of its own
from .test_stack_lifecycle import pid_alive, port_open, wait_dead

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"^started daprd for app-id (\S+) on 127\.0\.0\.1:(\d+) \(stops on exit\)$", re.MULTILINE)


@pytest.fixture
def daprd(stack, tmp_path):
    """A --daprd that writes its pid to a file and execs the stack's real daprd (same pid)."""
    from explorer.localstack.installs import find_daprd

    wrapper = tmp_path / "daprd"
    wrapper.write_text(f'#!/bin/sh\necho $$ >> "{tmp_path}/pids"\nexec "{find_daprd()}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def started_pids(daprd: Path) -> list[int]:
    pids = daprd.parent / "pids"
    return [int(p) for p in pids.read_text().split()] if pids.exists() else []


def cli(stack, *args, resources: Path = REPO / "components"):
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    env.pop("DAPR_GRPC_ENDPOINT", None)
    env["TMPDIR"] = str(stack.run_dir)  # the logs a failed start keeps stay in pytest's tmp
    # A port where no sidecar listens: none of the stack's sidecars is reachable.
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args, "--resources-path", str(resources), "--dapr-grpc-port", str(free_port())],
        capture_output=True, text=True, env=env, timeout=120,
    )


def agent(cosmos, key: str, partition: str = "gpt4") -> dict:
    return container(cosmos, "dapr-agents", "agent-registry").read_item(f"{AGENTS_APP}||{key}", partition_key=partition)


def items_with_id(cosmos, doc_id: str, database="dapr-agents", name="agent-registry"):
    return list(container(cosmos, database, name).query_items(
        "SELECT * FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": doc_id}], enable_cross_partition_query=True))


def test_set_without_the_owners_sidecar_writes_through_our_own_daprd_and_stops_it(stack, cosmos, daprd):
    doc_id = f"{AGENTS_APP}||agent:planner"
    before = agent(cosmos, "agent:planner")
    result = cli(stack, "set", AGENTS_STORE, "agent:planner", '{"name":"planner","v":"own"}', "--app-id", AGENTS_APP,
                 "--json", "--daprd", str(daprd))
    assert result.returncode == 0, result.stderr
    started = STARTED.findall(result.stderr)
    assert [app for app, _ in started] == [AGENTS_APP], result.stderr
    assert "fork" not in result.stderr, "gRPC's fork warning reached the terminal"
    items = items_with_id(cosmos, doc_id)
    assert len(items) == 1, items
    assert items[0]["partitionKey"] == "gpt4" == before["partitionKey"]
    assert items[0]["value"] == {"name": "planner", "v": "own"} != before["value"]
    assert orjson.loads(result.stdout)["etag"] == items[0]["_etag"] != before["_etag"]
    # The daprd it started is gone once the CLI has exited, and so is its port.
    [pid] = started_pids(daprd)
    assert wait_dead([pid]) == [], f"daprd {pid} outlived the CLI"
    assert not port_open(int(started[0][1]))


def test_the_default_binary_is_the_stack_cache_when_nothing_else_is_given(stack, cosmos, monkeypatch):
    """Without --daprd the cached build is found without building: the same path build-daprd.sh prints."""
    from explorer.localstack.installs import find_daprd
    from explorer.dapr.own_sidecar import cached_stack_daprd

    monkeypatch.delenv("DAPR_EXPLORER_DAPRD", raising=False)
    assert cached_stack_daprd() == find_daprd()
    if (Path.home() / ".dapr" / "bin" / "daprd").exists():
        pytest.skip("~/.dapr/bin/daprd comes before the stack's cache here")
    result = cli(stack, "set", AGENTS_STORE, "agent:router", '{"v":"default-binary"}', "--app-id", AGENTS_APP)
    assert result.returncode == 0, result.stderr
    assert STARTED.search(result.stderr)
    assert items_with_id(cosmos, f"{AGENTS_APP}||agent:router")[0]["value"] == {"v": "default-binary"}


def test_read_only_starts_nothing_and_exits_5(stack, cosmos, daprd):
    before = agent(cosmos, "agent:summarizer")
    for args in (("set", AGENTS_STORE, "agent:summarizer", "{}"), ("delete", AGENTS_STORE, "agent:summarizer")):
        result = cli(stack, *args, "--app-id", AGENTS_APP, "--read-only", "--daprd", str(daprd))
        assert result.returncode == 5 and "read-only" in result.stderr
        assert not STARTED.search(result.stderr)
    assert started_pids(daprd) == []
    assert agent(cosmos, "agent:summarizer")["_etag"] == before["_etag"]


def test_no_start_sidecar_gives_the_no_sidecar_error(stack, cosmos, daprd):
    before = agent(cosmos, "agent:summarizer")
    result = cli(stack, "set", AGENTS_STORE, "agent:summarizer", '{"x":1}', "--app-id", AGENTS_APP,
                 "--no-start-sidecar", "--daprd", str(daprd))
    assert result.returncode == 1, result.stderr
    assert f"no sidecar for app-id '{AGENTS_APP}' is reachable" in result.stderr
    assert "--dapr-grpc-port" in result.stderr and "start a daprd of its own" in result.stderr
    assert started_pids(daprd) == [] and not STARTED.search(result.stderr)
    assert agent(cosmos, "agent:summarizer")["_etag"] == before["_etag"]


def _store_file(folder: Path, name: str, extra: str = "", scopes: tuple[str, ...] = ()) -> Path:
    """A copy of the agents store under another name (same container), with extra metadata and scopes."""
    folder.mkdir(exist_ok=True)
    (folder / "local-secrets.yaml").write_text((REPO / "components" / "local-secrets.yaml").read_text())
    text = (REPO / "components" / "statestore-agents-cosmos.yaml").read_text()
    text = text.replace("name: statestore-agents-cosmos", f"name: {name}").replace("    - name: database", extra + "    - name: database")
    if scopes:
        text += "scopes:\n" + "".join(f"  - {s}\n" for s in scopes)
    (folder / f"{name}.yaml").write_text(text)
    return folder


@pytest.mark.parametrize(("scopes", "app_id"), [((), "dapr-explorer"), ((AGENTS_APP, "chat-api"), AGENTS_APP)])
def test_keys_without_app_id_use_an_app_id_the_scopes_allow(stack, cosmos, daprd, tmp_path, scopes, app_id):
    store = "statestore-named"
    resources = _store_file(tmp_path / "components", store, "    - name: keyPrefix\n      value: name\n", scopes)
    key = f"named:{app_id}"
    result = cli(stack, "set", store, key, '{"n":1}', "--partition", "named", "--daprd", str(daprd), resources=resources)
    assert result.returncode == 0, result.stderr
    assert [a for a, _ in STARTED.findall(result.stderr)] == [app_id]
    [item] = items_with_id(cosmos, f"{store}||{key}")
    assert item["partitionKey"] == "named" and item["value"] == {"n": 1}
    assert wait_dead(started_pids(daprd)) == []


def test_a_store_scoped_away_from_the_keys_app_is_a_clear_error(stack, cosmos, daprd, tmp_path):
    store = "statestore-scoped"
    resources = _store_file(tmp_path / "components", store, scopes=("chat-api",))
    result = cli(stack, "set", store, "agent:planner", '{"x":1}', "--app-id", AGENTS_APP, "--daprd", str(daprd),
                 resources=resources)
    assert result.returncode == 1
    assert f"component {store} is scoped to chat-api" in result.stderr and f"'{AGENTS_APP}'" in result.stderr
    assert started_pids(daprd) == []


async def test_workspace_gateway_starts_it_transparently_and_close_stops_it(stack, cosmos, daprd, monkeypatch):
    """The TUI's path: the gateway's one write path with no sidecar; Workspace.close() stops the daprd."""
    from explorer.core.model import TtlChoice
    from explorer.core.writes import KeyChange, NewValue
    from explorer.session.gateway import WritableGateway
    from explorer.session.workspace import open_workspace

    for name, value in stack.client_env({}).items():
        monkeypatch.setenv(name, value)
    ws = await open_workspace([REPO / "components"], [], ca_file=str(stack.cosmos.ca_file), daprd=str(daprd))
    try:
        location = await ws.location(AGENTS_STORE)
        gateway = ws.gateway(AGENTS_STORE)
        assert isinstance(gateway, WritableGateway)
        key = await gateway.get(location, f"{AGENTS_APP}||agent:researcher", "claude", time.time())
        await gateway.write(location, KeyChange.save(key, NewValue.json_text('{"v":"tui"}'), TtlChoice(), time.time()))
        [pid] = started_pids(daprd)
        assert pid_alive(pid) and AGENTS_APP in ws.sidecars
        assert ws.default_app_id() is None, "our own daprd is not a sidecar the user connected"
        again = await ws.gateway(AGENTS_STORE).get(location, key.state_key.doc_id, "claude", time.time())
        change = KeyChange.save(again, NewValue.json_text('{"v":"tui2"}'), TtlChoice(), time.time())
        await ws.gateway(AGENTS_STORE).write(location, change)
        assert started_pids(daprd) == [pid], "one daprd per app-id, reused"
    finally:
        await ws.close()
    assert wait_dead([pid], timeout=1) == [], "Workspace.close() did not stop the daprd"
    assert items_with_id(cosmos, f"{AGENTS_APP}||agent:researcher")[0]["value"] == {"v": "tui2"}


def test_a_daprd_that_cannot_start_is_reported_with_its_log_and_left_stopped(stack, daprd, tmp_path):
    resources = _store_file(tmp_path / "components", "statestore-other")
    (resources / "broken.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: broken}\nspec: {type: state.nope, version: v1}\n")
    result = cli(stack, "set", "statestore-other", "agent:planner", '{"x":1}', "--app-id", AGENTS_APP,
                 "--daprd", str(daprd), resources=resources)
    assert result.returncode == 1, result.stderr
    assert f"own daprd for app-id '{AGENTS_APP}' exited during start-up" in result.stderr
    assert "broken" in result.stderr and "level=fatal" in result.stderr, result.stderr
    assert wait_dead(started_pids(daprd)) == []
