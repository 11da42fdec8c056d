"""Helpers the integration tests, benches and scripts share: how an app writes state through
daprd's HTTP API, and a CLI runner. Real components only: these talk to a real daprd and the
real Cosmos-compatible server started by explorer.localstack."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]


def http_save(port: int, store: str, key: str, value_json: bytes, metadata: dict[str, str] | None = None,
              etag: str | None = None) -> None:
    """Dapr's HTTP state API, as an app saves JSON: the request body carries the JSON text itself."""
    item = b'{"key":' + orjson.dumps(key) + b',"value":' + value_json + b',"metadata":' + orjson.dumps(metadata or {})
    if etag:
        item += b',"etag":' + orjson.dumps(etag)
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1.0/state/{store}", data=b"[" + item + b"}]",
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 204, response.read()


def run_cli(args: list[str | bytes], env: dict[str, str], timeout: float = 120, cwd: Path | None = None,
            executable: list[str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`dapr-explorer ARGS` as a user runs it (a new process), its output as text; `stdin`: what is typed
    (None: an empty stdin, i.e. end of input at once)."""
    argv = (executable or [sys.executable, "-m", "explorer"]) + list(args)
    result = subprocess.run(argv, capture_output=True, env=env, timeout=timeout, cwd=cwd,
                            input=(stdin or "").encode())
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode("utf-8", "replace"),
                                       result.stderr.decode("utf-8", "replace"))


def no_traceback(result: subprocess.CompletedProcess) -> None:
    """A user-facing failure is one line on stderr, never a Python traceback."""
    assert "Traceback (most recent call last)" not in result.stderr + result.stdout, result.stderr


def every_etag(cosmos) -> dict[tuple[str, str, str], str]:
    """Every item's etag in every container of the account: what 'nothing changed' is checked against."""
    etags = {}
    for database in cosmos.list_databases():
        db = cosmos.get_database_client(database["id"])
        for props in db.list_containers():
            container = db.get_container_client(props["id"])
            for item in container.query_items("SELECT c.id, c.partitionKey, c._etag FROM c",
                                              enable_cross_partition_query=True):
                etags[(props["id"], str(item.get("partitionKey")), item["id"])] = item["_etag"]
    return etags


#: A PNG header and a few bytes that are not UTF-8: stored by Dapr as isBinary.
BINARY_AVATAR = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(250, 256)) + b"\x00\xfe"


def editing_writes():
    """Plain keys the editing tests and benches work on, in the agents store: JSON values in three
    partitions (gpt4, claude, custom), keys in other scripts, and one binary value. The tests' own data,
    written through daprd as any app writes state (`write_editing_keys`) — not the seed's, and not what
    dapr-agents writes (its agents:{team}:… keys lie beside them when the stack runs the agents app)."""
    from explorer.sidecar import StateWrite

    notes = [
        ("gpt4", "planner", ["search", "calendar"]),
        ("gpt4", "summarizer", []),
        ("gpt4", "router", ["handoff"]),
        ("claude", "researcher", ["search", "browser"]),
        ("claude", "reviewer", ["diff"]),
        ("claude", "données-clé", ["traduction"]),
        ("custom", "ocr-worker", ["vision"]),
        ("custom", "エージェント-7", ["翻訳"]),
        ("custom", "🤖-helper", []),
    ]
    writes = [StateWrite(key=f"agent:{name}", metadata={"partitionKey": kind},
                         value=orjson.dumps({"name": name, "agentType": kind, "tools": tools, "status": "ready", "maxTokens": 4096}))
              for kind, name, tools in notes]
    writes.append(StateWrite(key="agent:ocr-worker:avatar", value=BINARY_AVATAR, metadata={"partitionKey": "custom"}))
    return writes


async def write_editing_keys(stack) -> int:
    """Write `editing_writes()` through the agent-registry sidecar of `stack`; how many keys."""
    from explorer.localstack.seed import AGENTS_APP, AGENTS_STORE
    from explorer.sidecar import SidecarClient

    writes = editing_writes()
    async with SidecarClient(stack.sidecars[AGENTS_APP].grpc_address) as client:
        await client.save(AGENTS_STORE, writes)
    return len(writes)


def read_until(process: subprocess.Popen, marker: str, timeout: float = 120) -> str:
    """What a long-running `dapr-explorer stack` (stdout a text pipe) printed up to the line holding
    `marker`; fails with its stderr if it exits first."""
    import time

    said = ""
    deadline = time.monotonic() + timeout
    while marker not in said and time.monotonic() < deadline:
        line = process.stdout.readline()
        assert line or process.poll() is None, process.stderr.read()
        said += line
    assert marker in said, f"{marker!r} not printed within {timeout:.0f}s: {said[-2000:]}"
    return said
