"""The explorer signs in with Entra ID the way Dapr does, on the local stack in Entra ID mode.

`LocalStack(entra=True)` (docs/local-stack.md "Entra ID mode"): a stand-in managed identity
endpoint (App Service protocol, IDENTITY_ENDPOINT/IDENTITY_HEADER) issuing signed tokens for a
reader (Cosmos DB Built-in Data Reader) and a contributor (Data Contributor), a Cosmos server that
refuses account keys and enforces the two roles, and a real daprd. The components
`statestore-entra` (contributor) and `statestore-entra-reader` (reader) name the identity by
azureClientId and have no masterKey; nobody here has a key (COSMOS_MASTER_KEY is not in the
environment and the server refuses keys).

What a user would notice: the CLI (the installed `dapr-explorer` script, as typed, options before
and after the subcommand) and the TUI browse both stores; a write through the reader store is
refused in one line that names the role and the identity, exits non-zero and leaves the key as it
was in Cosmos; through the contributor store it is written; no token appears in any output or log.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from explorer.tui.app import ExplorerApp
from explorer.components.files import load_components
from explorer.tui.screens.key_editor import KeyEditor

from .conftest import own_stack, stack_env
from .test_tui import browse_to, open_key, save_through_dialog, shown, until

pytestmark = pytest.mark.integration

APP = "order-processor"
WRITER = "statestore-entra"
READER = "statestore-entra-reader"
DATABASE, CONTAINER = "dapr-entra", "entra-state"
READER_ID = "3f1b6c2e…"  # the stand-in tenant's reader (stack/identity/identities.json), as the explorer shows it
WRITER_ID = "5d7e9f0a…"
DAPR_EXPLORER = str(Path(sys.executable).with_name("dapr-explorer"))
JWT_START = "eyJ"  # every JWT starts with base64url('{"')
OUTPUTS: list[str] = []  # every stdout/stderr of the module's CLI runs, checked for tokens at the end


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with own_stack(tmp_path_factory, "entra-explorer", seeded=False, entra=True, app_ids=(APP,)) as local:
        yield local


@pytest.fixture(scope="module")
def cosmos(stack):
    """The test's own look at Cosmos, as the contributor (the server takes no key)."""
    return stack.cosmos_client("contributor").get_database_client(DATABASE).get_container_client(CONTAINER)


def cli(stack, *args: str, check: int | None = None) -> subprocess.CompletedProcess:
    """`dapr-explorer ARGS` as a user types it, in the stack's environment (no key in it)."""
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    assert "COSMOS_MASTER_KEY" not in env
    result = subprocess.run([DAPR_EXPLORER, *args], capture_output=True, text=True, env=env, timeout=120)
    OUTPUTS.extend([result.stdout, result.stderr])
    if check is not None:
        assert result.returncode == check, result.stderr + result.stdout
    return result


def where(stack) -> list[str]:
    return ["--resources-path", str(stack.resources_path), "--dapr-grpc-port", str(stack.sidecars[APP].grpc_port)]


def doc(cosmos, key: str) -> dict:
    doc_id = f"{APP}||{key}"
    return cosmos.read_item(doc_id, partition_key=doc_id)


def lines(result) -> list[dict]:
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]


# --- the CLI ------------------------------------------------------------------------------------


def test_the_stack_and_the_explorer_have_no_key(stack):
    assert stack.cosmos.master_key == ""
    env = stack.client_env()
    assert "COSMOS_MASTER_KEY" not in env and env["IDENTITY_ENDPOINT"] and env["IDENTITY_HEADER"]


def test_the_contributor_store_writes_and_both_stores_read_it(stack, cosmos):
    written = lines(cli(stack, *where(stack), "--json", "set", WRITER, "entra:order-1", '{"total": 42}', check=0))[0]
    assert doc(cosmos, "entra:order-1")["value"] == {"total": 42}
    assert written["etag"] == doc(cosmos, "entra:order-1")["_etag"]
    before = stack.issued_tokens()["reader"]
    got = lines(cli(stack, "get", READER, "entra:order-1", "--json", *where(stack), check=0))[0]
    assert got["value"] == {"total": 42} and got["etag"] == written["etag"]
    assert stack.issued_tokens()["reader"] > before  # the explorer signed in as the reader itself
    keys = lines(cli(stack, "--json", "keys", READER, "--partition", f"{APP}||entra:order-1", *where(stack), check=0))
    assert [k["key"] for k in keys] == ["entra:order-1"]
    exported = lines(cli(stack, "export", READER, *where(stack), "--partition", f"{APP}||entra:order-1", check=0))
    assert any(line.get("id") == f"{APP}||entra:order-1" for line in exported), exported


def test_a_write_through_the_reader_store_is_refused_in_one_line_and_nothing_changes(stack, cosmos):
    cli(stack, "set", WRITER, "entra:order-2", '{"total": 1}', *where(stack), check=0)
    before = doc(cosmos, "entra:order-2")
    refused = cli(stack, *where(stack), "set", READER, "entra:order-2", '{"total": 2}')
    assert refused.returncode == 6, refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "Cosmos DB Built-in Data Contributor" in line and f"client id {READER_ID}" in line
    assert "nothing was written" in line and "Traceback" not in refused.stderr and refused.stdout == ""
    deleted = cli(stack, "delete", READER, "entra:order-2", "--json", *where(stack))
    assert deleted.returncode == 6 and "Data Contributor" in deleted.stderr
    after = doc(cosmos, "entra:order-2")
    assert (after["_etag"], after["value"]) == (before["_etag"], before["value"])
    # The audit log (the run's own, tests/conftest.py) says who was refused: the identity, never a token.
    from explorer.session.audit_log import AuditLog

    mine = [r for r in AuditLog().read().records if r.key == "entra:order-2"]
    assert [(r.operation, r.outcome) for r in mine] == [("create", "done"), ("save", "refused"), ("delete", "refused")]
    assert READER_ID[:8] in mine[1].identity and "Data Contributor" in mine[1].error
    assert "managed identity" in mine[0].identity and READER_ID[:8] not in mine[0].identity


def test_the_contributor_store_deletes(stack, cosmos):
    cli(stack, "set", WRITER, "entra:order-3", '{"total": 3}', *where(stack), check=0)
    cli(stack, *where(stack), "delete", WRITER, "entra:order-3", check=0)
    items = list(cosmos.query_items("SELECT c.id FROM c WHERE c.id = @id",
                                    parameters=[{"name": "@id", "value": f"{APP}||entra:order-3"}],
                                    enable_cross_partition_query=True))
    assert items == []


def test_the_doctor_says_how_each_store_signs_in(stack):
    findings = lines(cli(stack, "doctor", READER, WRITER, "--json", *where(stack), check=0))
    auth = {f["store"]: f for f in findings if f["code"] == "auth"}
    assert set(auth) == {READER, WRITER}
    assert "signs in with Entra ID" in auth[READER]["message"] and "managed identity" in auth[READER]["message"]
    assert not [f for f in findings if f["severity"] != "info"], findings


# --- the TUI ------------------------------------------------------------------------------------


def make_app(stack, read_only: bool = False) -> ExplorerApp:
    paths = [stack.resources_path]
    return ExplorerApp(load_components(paths), paths, [stack.sidecars[APP].grpc_address], read_only=read_only)


async def test_tui_browses_with_the_reader_and_its_save_is_refused_with_the_role(stack, cosmos):
    cli(stack, "set", WRITER, "entra:order-4", '{"total": 4}', *where(stack), check=0)
    before = doc(cosmos, "entra:order-4")
    with stack_env(stack):
        app = make_app(stack)
        async with app.run_test(size=(110, 32)) as pilot:
            await browse_to(pilot, READER, f"{APP}||entra:order-4")
            editor = await open_key(pilot, "entra:order-4")
            assert editor.opened.key.etag == before["_etag"] and '"total": 4' in shown(editor.query_one("#value"))
            assert app.session.workspace.identity(READER) == f"managed identity, client id {READER_ID}"
            await pilot.press("e")
            editor.query_one("#value-edit").text = '{"total": 5}'
            await save_through_dialog(pilot)
            message = editor.query_one("#editor-message")

            def said() -> str:
                return " ".join(shown(message).split())

            await until(pilot, lambda: "nothing was written" in said(), "the refusal")
            assert "Role missing" in said() and f"client id {READER_ID}" in said()
            assert "Cosmos DB Built-in Data Contributor role" in str(message.content)
            assert isinstance(app.screen, KeyEditor)  # the app keeps running
    after = doc(cosmos, "entra:order-4")
    assert (after["_etag"], after["value"]) == (before["_etag"], before["value"])


async def test_tui_saves_with_the_contributor(stack, cosmos):
    cli(stack, "set", WRITER, "entra:order-5", '{"total": 5}', *where(stack), check=0)
    with stack_env(stack):
        app = make_app(stack)
        async with app.run_test(size=(110, 32)) as pilot:
            await browse_to(pilot, WRITER, f"{APP}||entra:order-5")
            editor = await open_key(pilot, "entra:order-5")
            await pilot.press("e")
            editor.query_one("#value-edit").text = '{"total": 6}'
            await save_through_dialog(pilot)
            await until(pilot, lambda: editor.saved_etags, "the save")
            assert app.session.workspace.identity(WRITER) == f"managed identity, client id {WRITER_ID}"
    after = doc(cosmos, "entra:order-5")
    assert after["value"] == {"total": 6} and after["_etag"] == editor.saved_etags[-1]


# --- no token anywhere ----------------------------------------------------------------------------


def test_no_token_in_any_output_or_log(stack):
    """Last in the module: everything the CLI printed, and every log of the stack (daprd, the server,
    the token endpoint), holds no JWT — though tokens were issued to both identities."""
    time.sleep(0.2)  # let the processes flush their logs
    issued = stack.issued_tokens()
    assert issued["reader"] > 0 and issued["contributor"] > 0
    assert OUTPUTS and not [out for out in OUTPUTS if JWT_START in out]
    logs = list(stack.run_dir.rglob("*.log"))
    assert logs
    assert not [log for log in logs if JWT_START in log.read_text(errors="replace")]


def test_the_stack_in_entra_mode_is_reached_through_its_local_context_with_no_key(tmp_path):
    """`dapr-explorer stack --entra` as a user starts it: the `local` context it registers reaches the
    reader and the contributor stores by managed identity alone — the reader reads and is refused a
    write (exit 6), the contributor writes — and nothing it printed or registered holds a key."""
    import os
    import signal

    from tests.support import read_until

    env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "state"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               TMPDIR=str(tmp_path))
    env.pop("COSMOS_MASTER_KEY", None)
    stack = subprocess.Popen([sys.executable, "-m", "explorer", "stack", "--entra"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    try:
        said = read_until(stack, "Ctrl-C stops everything")
        assert "Entra ID mode: no account key" in said and "COSMOS_MASTER_KEY" not in said

        def explorer(*args, check):
            result = subprocess.run([DAPR_EXPLORER, "--context", "local", *args], capture_output=True, text=True,
                                    env=env, timeout=120)
            OUTPUTS.extend([result.stdout, result.stderr])
            assert result.returncode == check, result.stderr
            return result

        keys = explorer("keys", READER, "--partition", "emea", "--json", check=0)
        assert len(keys.stdout.splitlines()) == 4
        refused = explorer("set", READER, "order:0001", '{"x": 1}', "--partition", "amer", "--app-id", APP, check=6)
        assert "Data Contributor" in refused.stderr
        explorer("set", WRITER, "order:0001", '{"x": 1}', "--partition", "amer", "--app-id", APP, check=0)
        registered = tmp_path / "state" / "dapr-explorer" / "contexts.d"
        env_text = (registered / "local.env").read_text()
        assert "IDENTITY_ENDPOINT=" in env_text and "COSMOS_MASTER_KEY" not in env_text
    finally:
        os.killpg(stack.pid, signal.SIGTERM)
        stack.wait(timeout=60)
    assert not list((tmp_path / "state" / "dapr-explorer" / "contexts.d").glob("local.*"))
