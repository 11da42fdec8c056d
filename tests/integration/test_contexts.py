"""Named contexts against the real stack: the `local` context a running `dapr-explorer stack` registers,
the production guard in the CLI and the TUI, the palette's context switch, and a token-secured sidecar.

Each write test checks the Cosmos document itself. The CLI runs as a user's shell would: its environment
holds no Cosmos URL, key, CA or token — only the context provides them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from rich.color import Color

from explorer.tui.app import ExplorerApp
from explorer.components.files import load_components
from explorer.session.contexts import load_table, prepare
from explorer.errors import SidecarError
from explorer.localstack.seed import AGENTS_APP, CACHE_APP, CACHE_STORE
from explorer.tui.dialogs import TypeContextName
from explorer.tui.screens.key_editor import KeyEditor

from tests.support import no_traceback, read_until, run_cli

from .conftest import container, own_stack
from .test_tui import browse_to, open_key, palette, save_through_dialog, shown, text, until

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
TOKEN = "ctx-test-token-7f3a9c0e5b"  # chat-api's DAPR_API_TOKEN in this module's stack
CACHE = ("dapr-cache", "session-cache")
KEY = "session:user:1006"  # a seeded cache key with a quarter of an hour to live
DOC = f"{CACHE_APP}||{KEY}"
#: What a shell must not hold for these tests to prove the context provides it.
LEAKY = ("COSMOS_URL", "COSMOS_MASTER_KEY", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "DAPR_API_TOKEN", "DAPR_GRPC_PORT",
         "DAPR_GRPC_ENDPOINT", "CHAT_TOKEN")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own whose chat-api sidecar requires TOKEN (seeded through it)."""
    with own_stack(tmp_path_factory, "contexts-stack", api_tokens={CACHE_APP: TOKEN}) as local:
        yield local


@pytest.fixture(scope="module")
def cosmos(stack):
    return stack.cosmos_client()


def stack_env_file(root: Path, name: str, stack, chat_token: str) -> Path:
    """root's config folder with NAME.env (0600): the stack's Cosmos URL, key and CA, and CHAT_TOKEN."""
    config = root / "config" / "dapr-explorer"
    config.mkdir(parents=True)
    env_file = config / f"{name}.env"
    env_file.write_text(f"COSMOS_URL={stack.cosmos.url}\nCOSMOS_MASTER_KEY={stack.cosmos.master_key}\n"
                        f"SSL_CERT_FILE={stack.cosmos.ca_file}\nCHAT_TOKEN={chat_token}\n")
    env_file.chmod(0o600)
    return env_file


@pytest.fixture(scope="module")
def home(stack, tmp_path_factory) -> Path:
    """XDG config and state folders with three contexts on the stack: prod (production, red), staging
    (writable, blue) and audit (read_only); their secrets in one env file only the user can read."""
    root = tmp_path_factory.mktemp("contexts-home")
    config = stack_env_file(root, "stack", stack, TOKEN).parent
    sidecars = (f"\n      - address: {stack.sidecars[CACHE_APP].grpc_address}\n        api_token_env: CHAT_TOKEN"
                f"\n      - {stack.sidecars[AGENTS_APP].grpc_address}")
    body = "".join(
        f"  {name}:\n    resources: {stack.resources_path}\n    env_file: stack.env\n    sidecars:{sidecars}\n{extra}"
        for name, extra in (("prod", "    production: true\n    color: '#d70000'\n"),
                            ("staging", "    color: '#0087ff'\n    description: pre-production\n"),
                            ("audit", "    read_only: true\n")))
    body += (f"  cache-only:\n    resources: {stack.resources_path}\n    env_file: stack.env\n    sidecars:\n"
             f"      - address: {stack.sidecars[CACHE_APP].grpc_address}\n        api_token_env: CHAT_TOKEN\n")
    (config / "contexts.yaml").write_text("contexts:\n" + body)
    return root


def shell_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in LEAKY}
    env.update(XDG_CONFIG_HOME=str(home / "config"), XDG_STATE_HOME=str(home / "state"))
    return env


def cli(home: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    """`dapr-explorer ARGS` from a shell with no Cosmos or Dapr variables, on the contexts under `home`."""
    result = run_cli(list(args), {**shell_env(home), **env}, stdin=stdin)
    no_traceback(result)
    return result


def secrets_absent(result: subprocess.CompletedProcess, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.stdout and secret not in result.stderr


def value_of(cosmos) -> dict:
    return container(cosmos, *CACHE).read_item(DOC, partition_key="user")


# -- the CLI: a production context's writes --------------------------------------------------------------

def test_a_production_context_refuses_set_without_allow_writes(stack, cosmos, home):
    before = value_of(cosmos)
    for args in (["--context", "prod", "set", CACHE_STORE, KEY, '{"x": 1}', "--app-id", CACHE_APP],
                 ["set", CACHE_STORE, KEY, '{"x": 1}', "--context", "prod", "--app-id", CACHE_APP]):
        result = cli(home, *args, stdin="prod\n")
        assert result.returncode == 5, result.stderr
        assert result.stderr.strip().splitlines() == [
            "dapr-explorer: read-only: 'set' writes, and context 'prod' is production: writes need "
            "--allow-writes. Nothing was sent."]
    assert value_of(cosmos)["_etag"] == before["_etag"]


@pytest.mark.parametrize("typed", ["prd\n", "PROD\n", "staging\n", ""], ids=["typo", "case", "other-context", "eof"])
def test_with_allow_writes_a_wrong_name_or_none_refuses_and_sends_nothing(stack, cosmos, home, typed):
    before = value_of(cosmos)
    result = cli(home, "--allow-writes", "set", CACHE_STORE, KEY, '{"x": 2}', "--context", "prod", "--app-id", CACHE_APP,
                 stdin=typed)
    assert result.returncode == 5, result.stderr
    assert "Type the context's name to write" in result.stderr and "Nothing was sent." in result.stderr
    assert value_of(cosmos)["_etag"] == before["_etag"]
    from explorer.session.audit_log import AuditLog  # the refusal is in the audit log: a refused write, nothing sent

    last = AuditLog(home / "state" / "dapr-explorer" / "audit.jsonl").read().records[-1]
    assert (last.key, last.operation, last.outcome, last.context) == (KEY, "save", "refused", "prod")
    assert last.etag_before == before["_etag"] and "Nothing was sent" in last.error and last.etag_after is None


def test_with_allow_writes_and_the_name_typed_set_and_delete_write_through_the_secured_sidecar(stack, cosmos, home):
    result = cli(home, "--context", "prod", "set", CACHE_STORE, KEY, '{"typed": "prod"}', "--allow-writes", "--json",
                 "--app-id", CACHE_APP, stdin="prod\n")
    assert result.returncode == 0, result.stderr
    assert f"About to set {KEY} in {CACHE_STORE} (partition user)" in result.stderr
    assert value_of(cosmos)["value"] == {"typed": "prod"}
    assert orjson.loads(result.stdout)["etag"] == value_of(cosmos)["_etag"]
    secrets_absent(result, TOKEN, stack.cosmos.master_key)

    key = "session:user:1003"
    refused = cli(home, "--context", "prod", "--allow-writes", "delete", CACHE_STORE, key, "--app-id", CACHE_APP,
                  stdin="nope\n")
    assert refused.returncode == 5
    assert container(cosmos, *CACHE).read_item(f"{CACHE_APP}||{key}", partition_key="user")
    deleted = cli(home, "--context", "prod", "--allow-writes", "delete", CACHE_STORE, key, "--app-id", CACHE_APP,
                  stdin=" prod \n")
    assert deleted.returncode == 0, deleted.stderr
    assert not list(container(cosmos, *CACHE).query_items(
        "SELECT c.id FROM c WHERE c.id = @id", parameters=[{"name": "@id", "value": f"{CACHE_APP}||{key}"}],
        partition_key="user"))


def test_a_writable_context_writes_without_asking_and_a_read_only_one_never(stack, cosmos, home):
    result = cli(home, "--context", "staging", "set", CACHE_STORE, KEY, '{"ctx": "staging"}', "--app-id", CACHE_APP)
    assert result.returncode == 0 and "Type the context's name" not in result.stderr, result.stderr
    assert value_of(cosmos)["value"] == {"ctx": "staging"}
    refused = cli(home, "--context", "audit", "--allow-writes", "set", CACHE_STORE, KEY, '{"ctx": "audit"}',
                  "--app-id", CACHE_APP)
    assert refused.returncode == 5 and "context 'audit' is read_only" in refused.stderr
    assert value_of(cosmos)["value"] == {"ctx": "staging"}


def test_the_explorers_own_daprd_reads_the_context_env_file_too(stack, cosmos, home):
    """cache-only reaches chat-api alone: a write of an agent-registry key starts our own daprd for that
    app-id, which resolves the components' COSMOS_URL and key from the context's env file (the shell has none)."""
    from explorer.localstack.seed import AGENTS_STORE

    doc = f"{AGENTS_APP}||agent:planner"
    result = cli(home, "--context", "cache-only", "set", AGENTS_STORE, "agent:planner", '{"via": "own daprd"}',
                 "--app-id", AGENTS_APP, "--partition", "gpt4")
    assert result.returncode == 0, result.stderr
    assert "started daprd for app-id agent-registry" in result.stderr
    assert container(cosmos, "dapr-agents", "agent-registry").read_item(doc, partition_key="gpt4")["value"] == {
        "via": "own daprd"}
    secrets_absent(result, TOKEN, stack.cosmos.master_key)


def test_a_kubectl_export_is_a_context_our_own_daprd_loads_too(stack, cosmos, home, tmp_path):
    """The stack's components as `kubectl get components.dapr.io -n orders -o yaml` prints them (a List, a
    namespace, the server's fields, kubectl's last-applied copy): the CLI lists the stores, and a write whose
    app has no reachable sidecar goes through our own daprd started on the exported components."""
    import yaml

    from explorer.localstack.seed import AGENTS_STORE

    items = []
    for path in sorted(stack.resources_path.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            doc["metadata"].update(namespace="orders", uid="7c1f", resourceVersion="4242", generation=1,
                                   creationTimestamp="2026-11-01T10:00:00Z", managedFields=[{"manager": "kubectl"}],
                                   annotations={"kubectl.kubernetes.io/last-applied-configuration": orjson.dumps(doc).decode()})
            items.append(doc)
    export = tmp_path / "prod-eu.yaml"
    export.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}))
    cluster = tmp_path / "home"
    config = cluster / "config" / "dapr-explorer"
    config.mkdir(parents=True)
    env_file = config / "stack.env"
    env_file.write_bytes((home / "config" / "dapr-explorer" / "stack.env").read_bytes())
    env_file.chmod(0o600)
    (config / "contexts.yaml").write_text(
        f"contexts:\n  from-cluster:\n    components: {export}\n    env_file: stack.env\n    sidecars:\n"
        f"      - address: {stack.sidecars[CACHE_APP].grpc_address}\n        api_token_env: CHAT_TOKEN\n")

    temp = tmp_path / "tmp"
    temp.mkdir()
    stores = cli(cluster, "--context", "from-cluster", "stores", "--json", TMPDIR=str(temp))
    assert stores.returncode == 0, stores.stderr
    assert {row["name"] for row in map(orjson.loads, stores.stdout.splitlines())} >= {AGENTS_STORE, CACHE_STORE}
    result = cli(cluster, "--context", "from-cluster", "set", AGENTS_STORE, "agent:summarizer", '{"via": "kubectl"}',
                 "--app-id", AGENTS_APP, "--partition", "gpt4", TMPDIR=str(temp))
    assert result.returncode == 0, result.stderr
    assert "started daprd for app-id agent-registry" in result.stderr
    doc = f"{AGENTS_APP}||agent:summarizer"
    assert container(cosmos, "dapr-agents", "agent-registry").read_item(doc, partition_key="gpt4")["value"] == {
        "via": "kubectl"}
    left = sorted(p.name for p in temp.iterdir() if p.name.startswith("dapr-explorer-"))
    assert left == []  # the exported components' folder (and our daprd's log folder) went with the session


def test_contexts_lists_each_with_where_it_came_from_and_never_a_secret(stack, home):
    result = cli(home, "contexts", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in map(orjson.loads, result.stdout.splitlines())}
    assert set(rows) == {"prod", "staging", "audit", "cache-only"}
    assert rows["prod"]["production"] and rows["prod"]["source"] == str(home / "config" / "dapr-explorer" / "contexts.yaml")
    assert rows["prod"]["sidecars"][0]["apiTokenEnv"] == "CHAT_TOKEN" and rows["audit"]["readOnly"]
    table = cli(home, "contexts")
    assert table.returncode == 0 and "prod" in table.stdout
    secrets_absent(result, TOKEN, stack.cosmos.master_key)
    secrets_absent(table, TOKEN, stack.cosmos.master_key)


def test_an_unknown_context_and_a_loose_env_file_are_one_line_each(stack, home, tmp_path):
    result = cli(home, "--context", "prdo", "stores")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "dapr-explorer: no context named 'prdo' (did you mean 'prod'?); known: audit, cache-only, prod, staging."]
    loose = tmp_path / "home"
    config = loose / "config" / "dapr-explorer"
    config.mkdir(parents=True)
    (config / "x.env").write_text(f"COSMOS_MASTER_KEY={stack.cosmos.master_key}\n")
    (config / "x.env").chmod(0o644)
    (config / "contexts.yaml").write_text(f"contexts:\n  x:\n    resources: {stack.resources_path}\n    env_file: x.env\n")
    result = cli(loose, "--context", "x", "stores")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert f"run: chmod 600 {config / 'x.env'}" in result.stderr
    secrets_absent(result, stack.cosmos.master_key)


# -- a token-secured sidecar --------------------------------------------------------------------------

def test_a_sidecar_that_requires_a_token_says_so_in_one_line_and_answers_with_it(stack, home):
    port = str(stack.sidecars[CACHE_APP].grpc_port)
    env = dict(shell_env(home), COSMOS_URL=stack.cosmos.url, COSMOS_MASTER_KEY=stack.cosmos.master_key,
               SSL_CERT_FILE=str(stack.cosmos.ca_file))
    argv = [sys.executable, "-m", "explorer", "--resources-path", str(stack.resources_path), "--dapr-grpc-port", port]
    without = subprocess.run([*argv, "get", CACHE_STORE, "session:user:1004", "--partition", "user", "--app-id",
                              CACHE_APP, "--json"], capture_output=True, text=True, env=env, timeout=120)
    stores = subprocess.run([*argv, "stores", "--json"], capture_output=True, text=True, env=env, timeout=120)
    refused = [line for line in stores.stderr.splitlines() if "refused" in line]
    assert refused == [f"sidecar not reachable: 127.0.0.1:{port}: the sidecar at 127.0.0.1:{port} refused the request: "
                       "Unauthorized. Set DAPR_API_TOKEN to its token."], stores.stderr
    assert all(CACHE_APP not in row["sidecars"] for row in map(orjson.loads, stores.stdout.splitlines()))
    assert "Traceback" not in without.stderr  # a read still goes to Cosmos; the sidecar's refusal is one line
    wrong = subprocess.run([*argv, "stores", "--json"], capture_output=True, text=True, timeout=120,
                           env=dict(env, DAPR_API_TOKEN="not-the-token"))
    assert any("refused the request" in line for line in wrong.stderr.splitlines())
    with_token = subprocess.run([*argv, "stores", "--json"], capture_output=True, text=True, timeout=120,
                                env=dict(env, DAPR_API_TOKEN=TOKEN))
    assert with_token.returncode == 0 and "refused" not in with_token.stderr, with_token.stderr
    assert any(CACHE_APP in row["sidecars"] for row in map(orjson.loads, with_token.stdout.splitlines()))
    for result in (without, stores, wrong, with_token):
        secrets_absent(result, TOKEN, stack.cosmos.master_key)


WRONG = "not-chat-apis-token-41c9"  # a wrong token for chat-api's sidecar


def daprd_wrapper(folder: Path) -> Path:
    """A --daprd that notes each start in folder/pids, then execs the stack's daprd: whether one started."""
    from explorer.localstack.installs import find_daprd

    wrapper = folder / "daprd"
    wrapper.write_text(f'#!/bin/sh\necho $$ >> "{folder}/pids"\nexec "{find_daprd()}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


@pytest.fixture
def wrong_home(stack, tmp_path) -> Path:
    """A context `wrong` whose env file holds a wrong token for chat-api's sidecar (CHAT_TOKEN)."""
    config = stack_env_file(tmp_path, "wrong", stack, WRONG).parent
    (config / "contexts.yaml").write_text(
        f"contexts:\n  wrong:\n    resources: {stack.resources_path}\n    env_file: wrong.env\n    sidecars:\n"
        f"      - address: {stack.sidecars[CACHE_APP].grpc_address}\n        api_token_env: CHAT_TOKEN\n")
    return tmp_path


def refused_write_line(address: str, variable: str) -> str:
    return (f"nothing was written: no sidecar of app-id '{CACHE_APP}' answers, and the sidecar at {address} refused "
            f"the request: Unauthorized. Set {variable} to its token — it may be {CACHE_APP}'s, so the explorer does "
            "not go around it with a daprd of its own.")


def test_a_sidecar_refusing_the_token_is_reported_and_never_routed_around(stack, cosmos, wrong_home, tmp_path):
    """With a wrong token for chat-api's sidecar, `set --app-id chat-api` is refused in one line naming the sidecar
    and the variable, exit 1, nothing written and no daprd of the explorer's own started — from a context
    (CHAT_TOKEN) and from the command line (DAPR_API_TOKEN)."""
    daprd = daprd_wrapper(tmp_path)
    address = stack.sidecars[CACHE_APP].grpc_address
    before = value_of(cosmos)
    via_context = cli(wrong_home, "--context", "wrong", "set", CACHE_STORE, KEY, '{"around": "the refusal"}',
                      "--app-id", CACHE_APP, "--daprd", str(daprd))
    plain = cli(tmp_path / "no-contexts", "set", CACHE_STORE, KEY, '{"around": "the refusal"}',
                "--app-id", CACHE_APP, "--daprd", str(daprd), "--resources-path", str(stack.resources_path),
                "--dapr-grpc-port", str(stack.sidecars[CACHE_APP].grpc_port), COSMOS_URL=stack.cosmos.url,
                COSMOS_MASTER_KEY=stack.cosmos.master_key, SSL_CERT_FILE=str(stack.cosmos.ca_file),
                DAPR_API_TOKEN=WRONG)
    for result, variable in ((via_context, "CHAT_TOKEN"), (plain, "DAPR_API_TOKEN")):
        assert result.returncode == 1, result.stderr
        assert f"dapr-explorer: {refused_write_line(address, variable)}" in result.stderr.splitlines(), result.stderr
        assert "started daprd" not in result.stderr
        secrets_absent(result, WRONG, TOKEN, stack.cosmos.master_key)
    assert not (tmp_path / "pids").exists(), "the explorer started a daprd of its own around the refusal"
    assert value_of(cosmos)["_etag"] == before["_etag"]


# -- the real user flow: `dapr-explorer stack` registers `local` --------------------------------------------

def test_a_running_stack_is_the_local_context_until_sigterm(tmp_path):
    home = tmp_path / "home"
    env = dict(shell_env(home), TMPDIR=str(tmp_path))
    stack = subprocess.Popen([sys.executable, "-m", "explorer", "stack", "--no-apps"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    registry = home / "state" / "dapr-explorer" / "contexts.d"
    try:
        said = read_until(stack, "Ctrl-C stops everything")
        assert "registered as context 'local'" in said and "dapr-explorer --context local stores" in said
        assert sorted(p.name for p in registry.iterdir()) == ["local.env", "local.yaml"]
        for path in registry.iterdir():
            assert path.stat().st_mode & 0o777 == 0o600
        secrets = dict(line.split("=", 1) for line in (registry / "local.env").read_text().splitlines()
                       if "=" in line and not line.startswith("#"))
        key, token = secrets["COSMOS_MASTER_KEY"], secrets["DAPR_EXPLORER_TOKEN_CHAT_API"]
        assert key not in said and token not in said

        keys = subprocess.run([sys.executable, "-m", "explorer", "--context", "local", "keys", CACHE_STORE,
                               "--partition", "user", "--json"], capture_output=True, text=True, env=env, timeout=120)
        assert keys.returncode == 0, keys.stderr
        assert "session:user:1006" in {row["key"] for row in map(orjson.loads, keys.stdout.splitlines())}
        stores = subprocess.run([sys.executable, "-m", "explorer", "stores", "--json", "--context", "local"],
                                capture_output=True, text=True, env=env, timeout=120)
        assert stores.returncode == 0 and stores.stderr == "", stores.stderr  # every sidecar answered, chat-api too
        rows = {row["name"]: row for row in map(orjson.loads, stores.stdout.splitlines())}
        assert set(rows[CACHE_STORE]["sidecars"]) == {"order-processor", "agent-registry", CACHE_APP}
        for result in (keys, stores):
            secrets_absent(result, key, token)

        os.kill(stack.pid, signal.SIGTERM)
        assert stack.wait(timeout=60) == 130
        assert list(registry.iterdir()) == []
        gone = subprocess.run([sys.executable, "-m", "explorer", "--context", "local", "stores"], capture_output=True,
                              text=True, env=env, timeout=120)
        assert gone.returncode == 2 and "no context named 'local'" in gone.stderr
    finally:
        if stack.poll() is None:
            os.killpg(stack.pid, signal.SIGKILL)


# -- the TUI ---------------------------------------------------------------------------------------------

@pytest.fixture
def xdg(home, monkeypatch):
    for name in LEAKY:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    return home


def app_on(name: str, read_only: bool = False, allow_writes: bool = False) -> ExplorerApp:
    """The TUI as `dapr-explorer --context NAME` opens it (cli._open_explorer)."""
    table = load_table()
    prepared = prepare(table.pick(name), read_only=read_only, allow_writes=allow_writes)
    prepared.apply()
    return ExplorerApp(load_components(prepared.resources_paths), prepared.resources_paths, prepared.addresses,
                       prepared=prepared, contexts=table, flags=(read_only, allow_writes))


def bar(app) -> tuple[str, str]:
    """The context line's text and its background colour, as drawn."""
    from textual.geometry import Region

    widget = app.browser.query_one("#context-bar")
    words = next(s for s in widget.render_lines(Region(0, 0, widget.size.width, 1))[0] if s.text.strip())
    return " ".join(shown(widget).split()), words.style.bgcolor.get_truecolor()


async def test_tui_production_context_without_allow_writes_is_read_only_with_the_reason(stack, cosmos, xdg):
    app = app_on("prod")
    try:
        async with app.run_test(size=(110, 30)) as pilot:
            browser = await browse_to(pilot, CACHE_STORE, "user")
            words, colour = bar(app)
            assert words.startswith("context prod · PRODUCTION · read-only") and colour == Color.parse("#d70000").get_truecolor()
            assert "production: writes need --allow-writes" in shown(browser.query_one(".banner"))
            assert not {"edit", "delete"} & {b.binding.action for b in browser.active_bindings.values() if b.enabled}
            assert app.session.read_only and app.session.context_name == "prod"
    finally:
        app.close_context()


async def test_tui_production_save_asks_for_the_name_and_only_the_name_sends_it(stack, cosmos, xdg):
    before = value_of(cosmos)
    app = app_on("prod", allow_writes=True)
    try:
        async with app.run_test(size=(110, 30)) as pilot:
            await browse_to(pilot, CACHE_STORE, "user")
            words, _ = bar(app)
            assert "every write asks for the context's name" in words
            editor = await open_key(pilot, KEY)
            assert editor.opened.read_through == f"Dapr ({CACHE_APP})"  # the token reached the secured sidecar
            await pilot.press("e")
            editor.query_one("#value-edit").text = '{"tui": "typed"}'
            session = app.session
            app.switch_context("staging")  # as from the palette: refused while an edit is open
            await until(pilot, lambda: any("finish or cancel the edit" in str(n.message) for n in app._notifications),
                        "the refusal")  # noqa: SLF001
            assert app.session is session and app.context.name == "prod" and editor.editing
            await save_through_dialog(pilot)
            await until(pilot, lambda: isinstance(app.screen, TypeContextName), "the typed-name dialog")
            await pilot.press(*"prd", "enter")
            await pilot.pause(0.2)
            assert isinstance(app.screen, TypeContextName)
            assert "that is not prod: nothing was sent" in text(app.screen, "#context-name-error")
            assert value_of(cosmos)["_etag"] == before["_etag"]
            await pilot.press("escape")
            await until(pilot, lambda: isinstance(app.screen, KeyEditor), "back in the editor")
            assert "nothing was sent to production context prod" in text(editor, "#editor-message")
            assert value_of(cosmos)["_etag"] == before["_etag"]
            await until(pilot, lambda: [r.outcome for r in app.session.audit.read().records if r.key == KEY][-1:]
                        == ["refused"], "the refusal's audit line")

            await save_through_dialog(pilot)  # still editing: ctrl+s asks again
            await until(pilot, lambda: isinstance(app.screen, TypeContextName), "the typed-name dialog")
            await pilot.press(*"prod", "enter")
            await until(pilot, lambda: editor.saved_etags, "the save")
            assert value_of(cosmos)["value"] == {"tui": "typed"} and value_of(cosmos)["_etag"] == editor.saved_etags[-1]
            done = [r for r in app.session.audit.read().records if r.key == KEY][-1]
            assert (done.outcome, done.context, done.etag_after) == ("done", "prod", editor.saved_etags[-1])
    finally:
        app.close_context()
    assert "COSMOS_MASTER_KEY" not in os.environ  # the env file's values went with the session


async def test_tui_palette_switches_context_closing_the_old_session(stack, cosmos, xdg):
    app = app_on("prod")
    try:
        async with app.run_test(size=(110, 30)) as pilot:
            await browse_to(pilot, CACHE_STORE, "user")
            old = app.session
            assert {"Context: staging", "Context: audit"} <= palette(app) and "Context: prod" not in palette(app)
            await pilot.press("ctrl+p")
            await pilot.pause(0.2)
            await pilot.press(*"Context: staging")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await until(pilot, lambda: app.session is not None and app.session is not old, "the new session")
            assert app.session.context_name == "staging" and not app.session.read_only
            with pytest.raises(SidecarError):  # the old session's channels are closed
                await old.workspace.sidecars[AGENTS_APP].metadata()
            browser = await browse_to(pilot, CACHE_STORE, "user")
            words, colour = bar(app)
            assert words == "context staging · pre-production" and colour == Color.parse("#0087ff").get_truecolor()
            assert not browser.query(".banner")
            assert {"edit", "delete"} <= {b.binding.action for b in browser.active_bindings.values()}
    finally:
        app.close_context()


async def test_tui_save_with_a_refusing_sidecar_says_so_and_starts_no_daprd(stack, cosmos, wrong_home, tmp_path,
                                                                          monkeypatch):
    """The TUI editor's save on context `wrong` (a wrong CHAT_TOKEN): the editor shows the refusal naming the
    sidecar and CHAT_TOKEN, nothing is written, no daprd of the explorer's own starts, the audit says refused."""
    for name in LEAKY:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(wrong_home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(wrong_home / "state"))
    daprd = daprd_wrapper(tmp_path)
    before = value_of(cosmos)
    table = load_table()
    prepared = prepare(table.pick("wrong"))
    prepared.apply()
    app = ExplorerApp(load_components(prepared.resources_paths), prepared.resources_paths, prepared.addresses,
                      prepared=prepared, contexts=table, daprd=str(daprd))
    try:
        async with app.run_test(size=(160, 30)) as pilot:
            await browse_to(pilot, CACHE_STORE, "user")
            editor = await open_key(pilot, KEY)
            await pilot.press("e")
            editor.query_one("#value-edit").text = '{"tui": "around the refusal"}'
            await save_through_dialog(pilot)
            await until(pilot, lambda: "nothing was saved" in text(editor, "#editor-message"), "the save's failure")
            said = text(editor, "#editor-message")  # (a wrapped line may lose a letter at its edge: parts only)
            address = stack.sidecars[CACHE_APP].grpc_address
            assert f"no sidecar of app-id '{CACHE_APP}' answers, and the sidecar at {address} refused" in said, said
            assert "Set CHAT_TOKEN" in said and "does not go around it with a daprd of its own" in said, said
            assert WRONG not in said
            await until(pilot, lambda: [r.outcome for r in app.session.audit.read().records if r.key == KEY][-1:]
                        == ["refused"], "the refusal's audit line")
    finally:
        app.close_context()
    assert not (tmp_path / "pids").exists(), "the TUI started a daprd of its own around the refusal"
    assert value_of(cosmos)["_etag"] == before["_etag"]


def test_diff_compares_stores_of_two_contexts_and_a_context_with_an_export(stack, cosmos, home, tmp_path):
    """`diff CONTEXT:STORE CONTEXT:STORE`: each side read by a read-only session of its own context (its
    env file, its components), from a shell with no Cosmos variables; the same container is the same;
    an export missing a key is one key only on the context's side."""
    same = cli(home, "diff", f"prod:{CACHE_STORE}", f"staging:{CACHE_STORE}", "--partition", "user", "--exit-code")
    assert same.returncode == 0, same.stderr
    assert " 0 different" in same.stderr and "0 only in" in same.stderr
    export = cli(home, "--context", "staging", "export", CACHE_STORE, "--partition", "user")
    assert export.returncode == 0, export.stderr
    lines = export.stdout.splitlines()
    (tmp_path / "user.jsonl").write_text("\n".join(lines[1:]) + "\n")
    differs = cli(home, "--json", "diff", f"audit:{CACHE_STORE}", str(tmp_path / "user.jsonl"), "--partition", "user",
                  "--exit-code")
    assert differs.returncode == 1, differs.stderr
    [row] = [orjson.loads(line) for line in differs.stdout.splitlines()]
    assert row["side"] == "left-only" and row["id"] == orjson.loads(lines[0])["id"]
    unknown = cli(home, "diff", f"nowhere:{CACHE_STORE}", str(tmp_path / "user.jsonl"))
    assert unknown.returncode == 2 and "nowhere" in unknown.stderr
    secrets_absent(differs, TOKEN, stack.cosmos.master_key)


@pytest.mark.parametrize("command", ["bulk", "import"])
def test_bulk_and_import_refused_at_the_name_prompt_leave_a_refused_line_for_each_key_as_set_does(
        stack, cosmos, home, tmp_path, command):
    """The name is asked once the plan is confirmed by its count (as the TUI does); not typed: exit 5,
    nothing sent, and each key the run would have written has its `refused` line, like `set`'s."""
    from explorer.session.audit_log import AuditLog

    log = AuditLog(home / "state" / "dapr-explorer" / "audit.jsonl")
    seen = len(log.read().records)
    items = {d["id"]: d["_etag"] for d in container(cosmos, *CACHE).query_items("SELECT * FROM c",
                                                                                 partition_key="user")}
    if command == "bulk":
        args = ["bulk", CACHE_STORE, "delete", "--partition", "user", "--confirm", str(len(items))]
        expected = {(doc_id.split("||", 1)[1], "delete", etag) for doc_id, etag in items.items()}
    else:
        export = tmp_path / "new.jsonl"
        export.write_text("".join(orjson.dumps({"id": f"{CACHE_APP}||import:prod:{i}", "partitionKey": "user",
                                                "value": {"i": i}, "isBinary": False}).decode() + "\n"
                                  for i in range(3)))
        args = ["import", CACHE_STORE, str(export), "--confirm", "3"]
        expected = {(f"import:prod:{i}", "create", None) for i in range(3)}
    result = cli(home, "--context", "prod", "--allow-writes", *args, stdin="prd\n")
    assert result.returncode == 5, result.stderr
    assert "Type the context's name to write" in result.stderr and "Nothing was sent." in result.stderr
    lines = log.read().records[seen:]
    assert {(r.key, r.operation, r.etag_before) for r in lines} == expected and len(lines) == len(expected)
    assert {(r.outcome, r.context, r.store) for r in lines} == {("refused", "prod", CACHE_STORE)}
    assert all("Nothing was sent" in r.error and r.etag_after is None for r in lines)
    assert {d["id"]: d["_etag"] for d in container(cosmos, *CACHE).query_items(
        "SELECT * FROM c", partition_key="user")} == items
