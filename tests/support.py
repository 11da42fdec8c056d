"""Helpers the integration tests, benches and scripts share: how an app writes state through
daprd's HTTP API, and a CLI runner. Real components only: these talk to a real daprd and the
real Cosmos-compatible server started by explorer.localstack."""

from __future__ import annotations

import re
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
    from explorer.dapr.sidecar import StateWrite

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
    from explorer.dapr.sidecar import SidecarClient

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


# -- hostile names: what a terminal must never receive raw ------------------------------------------

#: A character a terminal acts on, or that hides or reorders text, when it comes from the store: C0 but the line
#: feed the output's own lines end with, DEL, C1, bidi and other format characters (ZWNJ/ZWJ and the tags of a
#: subdivision flag kept, as explorer.core.display keeps them), line/paragraph separators, lone surrogates.
RAW_CONTROL = re.compile(
    "\U0001F3F4[\U000E0020-\U000E007F]+|"
    "([\x00-\x09\x0b-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f])")


_OWN_PROGRESS = re.compile(r"\r(?=[\d,]+/[\d,]+ · )")


def raw_controls(text: str) -> int:
    """How many characters of `text` a terminal would act on (see RAW_CONTROL). The carriage return before
    a bulk or import progress line ("\r97/126 · …", which rewrites the one before) is the explorer's own,
    not store text."""
    return sum(1 for match in RAW_CONTROL.finditer(_OWN_PROGRESS.sub("", text)) if match.group(1))


def raw_control_bytes(data: bytes) -> int:
    """raw_controls of a process's output as bytes; bytes that are no UTF-8 count too (a lone surrogate
    written with surrogateescape, or a cut character)."""
    text = data.decode("utf-8", "surrogateescape")
    return raw_controls(text)


def screen_raw_controls(app) -> tuple[int, str]:
    """Raw control characters in what the app's screen sends to the terminal — every text segment of a full
    repaint, as the driver would write it (Textual's own cursor moves and colours are control segments and
    styles, not text) — and the first line holding one, for the message."""
    update = app.screen._compositor.render_full_update()
    count, first = 0, ""
    for line in update.strips:
        for strip in line:
            text = "".join(segment.text for segment in strip if not segment.control)
            found = raw_controls(text)
            if found and not first:
                first = text.strip()[:120]
            count += found
    return count, first


def screen_lines(app) -> list[str]:
    """The screen's text, a line each (a full repaint's text segments)."""
    update = app.screen._compositor.render_full_update()
    return ["".join(segment.text for strip in line for segment in strip if not segment.control)
            for line in update.strips]


def hostile_names(count: int, max_bytes: int = 1000) -> list[str]:
    """`count` distinct key names, each holding what a terminal must not get raw: every C0 and C1 control,
    DEL, every bidi control and the other format characters, line and paragraph separators, the
    attacks of issue 19 (title and clipboard OSC, clear screen, CSI as U+009B), markup look-alikes,
    non-BMP text; some very long (up to `max_bytes` UTF-8 bytes). No lone surrogate: daprd cannot
    store one (see tests/integration/test_hostile_names.py)."""
    singles = [chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)]]
    singles += list("\u00ad\u061c\u180e\u200b\u200e\u200f\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2060\u2061"
                    "\u2062\u2063\u2064\u2066\u2067\u2068\u2069\u206a\u206f\ufeff\ufff9\ufffa\ufffb")
    singles += ["\U000e0001", "\U000e0041", "\U0001d173", "\U000110bd", "\u0600", "\u06dd"]
    attacks = ["\x1b]0;owned\x07", "\x1b]52;c;ZXZpbA==\x07", "\x1b[2J\x1b[H", "\u009b2J", "\u009d0;t\u009c",
               "\u202efdp.exe", "line one\nline two", "a\r\nb", "[bold red]x[/]", "[link=http://e]y[/link]",
               "\x1b[6n", "👍🏽\u202e日本", "\x1b[8mhidden\x1b[0m"]
    names = []
    n = 0
    while len(names) < count:
        base = singles[n % len(singles)] if n % 3 else attacks[n // 3 % len(attacks)]
        mix = singles[(n * 7 + 3) % len(singles)]
        name = f"h{n}:{base}key{mix}é𝄞"
        if n % 50 == 7:  # very long: the rest of max_bytes in a name that still says where it comes from
            filler = ("\x1b[2J" + "\u202e" + "ключ") * 200
            while len((name + filler).encode()) > max_bytes:
                filler = filler[:-1]
            name += filler
        names.append(name)
        n += 1
    return names
