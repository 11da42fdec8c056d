"""Named contexts, pure part (explorer.core.contexts) and the file side (explorer.session.contexts) on tmp files:
parsing and its one-line errors, kubectl exports, the production guard, the typed name, env files,
registration of a (stand-in) stack. No stack, no network."""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePath

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from explorer.session import contexts as files
from explorer.core.contexts import (
    DEFAULT_TOKEN_ENV,
    Context,
    ContextTable,
    SidecarEndpoint,
    component_documents,
    decide_writes,
    for_standalone_daprd,
    format_env_file,
    header_colours,
    parse_address,
    parse_contexts,
    parse_env_file,
    typed_name_matches,
)
from explorer.errors import ContextError

SRC = "/home/u/.config/dapr-explorer/contexts.yaml"
BASE = PurePath("/home/u/.config/dapr-explorer")
HOME = PurePath("/home/u")


def parse(text: str) -> list[Context]:
    return parse_contexts(yaml.safe_load(text), SRC, BASE, HOME)


def error(text: str) -> str:
    with pytest.raises(ContextError) as caught:
        parse(text)
    return str(caught.value)


FULL = """
contexts:
  prod-eu:
    description: orders, West Europe
    components: exports/prod-eu.yaml
    sidecars:
      - 10.1.2.3:50001
      - address: https://orders.internal:50002/
        api_token_env: ORDERS_TOKEN
      - 50003
    api_token_env: PROD_DAPR_TOKEN
    cosmos_ca_file: ~/certs/corp-ca.pem
    env_file: prod-eu.env
    production: true
    color: "#c00000"
    ru_per_second: 400
  audit:
    resources: [/srv/components, ../shared]
    read_only: true
"""


def test_a_full_file_parses_into_contexts_with_paths_resolved_against_the_file():
    prod, audit = parse(FULL)
    assert prod.name == "prod-eu" and prod.source == SRC and not prod.registered
    assert prod.components == ("/home/u/.config/dapr-explorer/exports/prod-eu.yaml",)
    assert prod.sidecars == (SidecarEndpoint("10.1.2.3:50001"), SidecarEndpoint("orders.internal:50002", "ORDERS_TOKEN"),
                             SidecarEndpoint("127.0.0.1:50003"))
    assert prod.cosmos_ca_file == "/home/u/certs/corp-ca.pem"
    assert prod.env_file == "/home/u/.config/dapr-explorer/prod-eu.env"
    assert prod.production and not prod.read_only and prod.color == "#c00000" and prod.ru_per_second == 400.0
    assert [prod.token_env(s) for s in prod.sidecars] == ["PROD_DAPR_TOKEN", "ORDERS_TOKEN", "PROD_DAPR_TOKEN"]
    assert prod.token_envs() == ("PROD_DAPR_TOKEN", "ORDERS_TOKEN")
    assert audit.resources == ("/srv/components", "/home/u/.config/shared")
    assert audit.read_only and not audit.production and audit.ru_per_second is None
    assert audit.token_env() == DEFAULT_TOKEN_ENV and audit.sidecars == ()


def test_the_listing_json_names_variables_never_values():
    prod = parse(FULL)[0]
    out = prod.to_json()
    assert out["sidecars"][1] == {"address": "orders.internal:50002", "apiTokenEnv": "ORDERS_TOKEN"}
    assert out["ruPerSecond"] == 400.0 and out["production"] is True and out["source"] == SRC


@pytest.mark.parametrize("text", ["", "contexts:", "contexts: {}"])
def test_an_empty_file_has_no_contexts(text):
    assert parse(text) == []


@pytest.mark.parametrize(("text", "says"), [
    ("- a\n- b", "must be a map with 'contexts:'"),
    ("context:\n  a: {resources: x}", "top-level field 'context' is not known"),
    ("contexts: [a, b]", "'contexts' must be a map of name"),
    ("contexts:\n  a: 3", "context 'a' must be a map of fields"),
    ("contexts:\n  'bad name': {resources: x}", "context name 'bad name' must be letters"),
    ("contexts:\n  a: {}", "context 'a' names no component files"),
    ("contexts:\n  a: {production: true}", "names no component files"),
    ("contexts:\n  a: {resources: x, production: 'yes'}", "field 'production' must be true or false, not text"),
    ("contexts:\n  a: {resources: x, read_only: 1}", "field 'read_only' must be true or false, not a number"),
    ("contexts:\n  a: {resources: []}", "field 'resources' must be a path or a list of paths, not a list"),
    ("contexts:\n  a: {resources: [x, 3]}", "field 'resources' entry 2 must be a path (text), not a number"),
    ("contexts:\n  a: {resources: x, sidecars: localhost:50001}", "field 'sidecars' must be a list"),
    ("contexts:\n  a: {resources: x, sidecars: ['localhost']}", "field 'sidecars' entry 1 must be a gRPC address"),
    ("contexts:\n  a: {resources: x, sidecars: ['h:70000']}", "entry 1 must be a gRPC address host:port (port 1-65535)"),
    ("contexts:\n  a: {resources: x, sidecars: [{addr: 'h:1'}]}", "entry 1 has an unknown field 'addr'"),
    ("contexts:\n  a: {resources: x, api_token_env: 'my-token'}", "field 'api_token_env' must be the NAME"),
    ("contexts:\n  a: {resources: x, color: notacolour}", "field 'color' is not a colour"),
    ("contexts:\n  a: {resources: x, ru_per_second: 0}", "field 'ru_per_second' must be a positive number"),
    ("contexts:\n  a: {resources: x, ru_per_second: true}", "must be a positive number of request units per second, not true/false"),
    ("contexts:\n  a: {resources: x, ru_per_second: .inf}", "must be a finite number"),
    ("contexts:\n  a: {resources: x, prodution: true}", "field 'prodution' is not a context field. Did you mean 'production'?"),
    ("contexts:\n  a: {resources: x, pid: 12}", "field 'pid' is not a context field"),
    ("contexts:\n  a: {resources: x, cosmos_ca_file: [a]}", "field 'cosmos_ca_file' must be a file path (text), not a list"),
])
def test_each_bad_file_or_field_is_one_line_naming_the_file_context_and_field(text, says):
    message = error(text)
    assert message.startswith(SRC + ":") and says in message and "\n" not in message


@pytest.mark.parametrize("field", ["api_token", "token", "masterKey", "password"])
def test_a_secret_written_into_the_file_is_refused_without_echoing_it(field):
    message = error(f"contexts:\n  a: {{resources: x, {field}: s3cr3t-VALUE}}")
    assert f"field '{field}'" in message and "never go in this file" in message and "s3cr3t" not in message


def test_a_token_pasted_where_its_variable_name_belongs_is_not_echoed():
    message = error("contexts:\n  a: {resources: x, api_token_env: 'abc.def-ghi/jkl=='}")
    assert "abc" not in message and "the token itself goes in that variable" in message


def test_registered_files_may_carry_the_registering_pid():
    (local,) = parse_contexts(yaml.safe_load("contexts:\n  local: {resources: /c, pid: 42}"), "/s/local.yaml",
                              PurePath("/s"), HOME, registered=True)
    assert local.registered and local.pid == 42


@pytest.mark.parametrize(("given", "address"), [
    ("127.0.0.1:50001", "127.0.0.1:50001"), ("http://h:1/", "h:1"), ("50001", "127.0.0.1:50001"),
    (50001, "127.0.0.1:50001"), ("[::1]:50001", "[::1]:50001"),
    ("h", None), ("h:0", None), ("h:x", None), (":50001", None), (True, None), (None, None), ("a b:1", None),
])
def test_sidecar_addresses(given, address):
    assert parse_address(given) == address


# -- choosing a context ---------------------------------------------------------------------------------

def ctx(name: str, source: str = SRC, **kw) -> Context:
    return Context(name=name, source=source, resources=("/c",), **kw)


def test_pick_finds_a_context_and_says_what_exists_when_it_does_not():
    table = ContextTable((ctx("prod-eu"), ctx("staging")))
    assert table.pick("staging").name == "staging"
    with pytest.raises(ContextError, match=r"no context named 'prod-ue' \(did you mean 'prod-eu'\?\); known: prod-eu, staging"):
        table.pick("prod-ue")
    with pytest.raises(ContextError, match="no contexts are defined"):
        ContextTable().pick("x")


def test_a_name_defined_twice_is_an_error_naming_both_files():
    table = ContextTable((ctx("local"), ctx("local", "/state/local.yaml", registered=True)))
    with pytest.raises(ContextError, match=f"defined in {SRC} and in /state/local.yaml"):
        table.pick("local")


# -- the production guard --------------------------------------------------------------------------------

@pytest.mark.parametrize(("context", "read_only_flag", "allow", "read_only", "confirm", "reason"), [
    (None, False, False, False, None, None),
    (None, False, True, False, None, None),
    (None, True, False, True, None, "started with --read-only"),
    (ctx("dev"), False, False, False, None, None),
    (ctx("dev"), False, True, False, None, None),
    (ctx("prod", production=True), False, False, True, None, "production: writes need --allow-writes"),
    (ctx("prod", production=True), False, True, False, "prod", None),
    (ctx("prod", production=True), True, True, True, None, "--read-only"),
    (ctx("audit", read_only=True), False, True, True, None, "is read_only"),
    (ctx("audit", read_only=True, production=True), False, True, True, None, "is read_only"),
])
def test_who_may_write(context, read_only_flag, allow, read_only, confirm, reason):
    policy = decide_writes(context, read_only_flag, allow)
    assert policy.read_only is read_only and policy.confirm_name == confirm
    assert (policy.reason is None) if reason is None else (reason in policy.reason)


@pytest.mark.parametrize(("typed", "ok"), [
    ("prod-eu\n", True), ("  prod-eu  \n", True), ("prod-eu", True),
    (None, False), ("", False), ("\n", False), ("PROD-EU\n", False), ("prod\n", False), ("prod-eu-2\n", False),
    ("prod-eu prod-eu\n", False),
])
def test_the_typed_name_must_be_exactly_the_contexts(typed, ok):
    assert typed_name_matches("prod-eu", typed) is ok


@given(st.text(max_size=20))
def test_nothing_but_the_name_itself_passes(typed):
    assert typed_name_matches("prod-eu", typed) is (typed.strip() == "prod-eu")


# -- kubectl exports --------------------------------------------------------------------------------------

KUBECTL = """
apiVersion: v1
kind: List
metadata:
  resourceVersion: ""
items:
- apiVersion: dapr.io/v1alpha1
  kind: Component
  metadata:
    annotations:
      kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"dapr.io/v1alpha1","kind":"Component"}'
    creationTimestamp: "2026-11-01T10:00:00Z"
    generation: 1
    name: statestore
    namespace: orders
    resourceVersion: "123"
    uid: 0f0e
  spec:
    type: state.azure.cosmosdb
    version: v1
    metadata:
    - name: url
      value: https://acct.documents.azure.com:443/
  scopes: [order-processor]
- apiVersion: dapr.io/v1alpha1
  kind: Component
  metadata:
    name: pubsub
    namespace: orders
    annotations: {team: orders}
  spec: {type: pubsub.azure.servicebus.topics, version: v1}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: other}
"""


def test_a_kubectl_list_gives_its_components_cleaned_for_a_standalone_daprd():
    found = component_documents(list(yaml.safe_load_all(KUBECTL)), "export.yaml")
    assert [c["metadata"]["name"] for c in found] == ["statestore", "pubsub"]
    state, pubsub = (for_standalone_daprd(c) for c in found)
    assert state["metadata"] == {"name": "statestore"}  # no namespace (daprd would skip it), no server fields
    assert state["spec"]["metadata"][0]["name"] == "url" and state["scopes"] == ["order-processor"]
    assert pubsub["metadata"] == {"name": "pubsub", "annotations": {"team": "orders"}}


def test_a_multi_document_file_and_a_component_list_kind_are_lists_too():
    text = "kind: Component\nmetadata: {name: a}\n---\nkind: ComponentList\nitems:\n- kind: Component\n  metadata: {name: b}\n"
    assert [c["metadata"]["name"] for c in component_documents(list(yaml.safe_load_all(text)), "f")] == ["a", "b"]


@pytest.mark.parametrize(("text", "says"), [
    ("kind: List\nitems: 3", "whose 'items' is a number, not a list"),
    ("kind: List\nitems: []", "holds no Dapr Component"),
    ("kind: Deployment", "holds no Dapr Component"),
    ("", "holds no Dapr Component"),
])
def test_a_component_list_without_components_is_one_line(text, says):
    with pytest.raises(ContextError, match=says):
        component_documents(list(yaml.safe_load_all(text)), "f.yaml")


# -- env files --------------------------------------------------------------------------------------------

def test_env_files_read_var_value_lines():
    text = "# comment\n\nexport A=1\nB = two words \nC='quoted # not a comment'\nD=\"x\"\nE=\nF=a=b\n"
    assert parse_env_file(text, "f") == {"A": "1", "B": "two words", "C": "quoted # not a comment", "D": "x", "E": "",
                                         "F": "a=b"}


@pytest.mark.parametrize("line", ["NOEQUALS", "1A=x", "A B=x", "=x"])
def test_a_bad_env_line_names_the_line_never_the_value(line):
    with pytest.raises(ContextError) as caught:
        parse_env_file(f"OK=1\n{line}\n", "secrets.env")
    assert str(caught.value).startswith("secrets.env: line 2 is not VAR=value") and "x" not in str(caught.value).split(":")[-1]


@given(st.dictionaries(st.from_regex(r"[A-Z_][A-Z0-9_]{0,10}", fullmatch=True),
                       st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30)
                       .filter(lambda v: not ("'" in v and '"' in v)), max_size=5))
def test_env_files_written_are_read_back_the_same(values):
    expected = {k: v.strip() if v.strip() == v or not v.strip() else v for k, v in values.items()}
    read = parse_env_file(format_env_file(values), "f")
    for name, value in values.items():
        assert read[name] == value or (value != value.strip() and read[name] == expected[name])


def test_the_header_reads_on_the_contexts_colour():
    assert header_colours("#ffff00", False) == ("#000000", "#ffff00")
    assert header_colours("#000080", False) == ("#ffffff", "#000080")
    assert header_colours("dark_orange", True)[1] == "#ff8700"
    assert header_colours(None, True) == ("#ffffff", "#d70000") and header_colours(None, False)[1] == "#005fd7"


# -- the file side: XDG paths, permissions, registration (tmp files only) -------------------------------

def test_paths_follow_xdg_with_home_defaults(tmp_path):
    env = {"XDG_CONFIG_HOME": str(tmp_path / "c"), "XDG_STATE_HOME": str(tmp_path / "s")}
    assert files.config_file(env) == tmp_path / "c" / "dapr-explorer" / "contexts.yaml"
    assert files.registry_dir(env) == tmp_path / "s" / "dapr-explorer" / "contexts.d"
    assert files.config_file({}) == Path.home() / ".config" / "dapr-explorer" / "contexts.yaml"
    assert files.registry_dir({}) == Path.home() / ".local" / "state" / "dapr-explorer" / "contexts.d"


def test_a_key_given_twice_is_refused_with_its_line(tmp_path):
    path = tmp_path / "contexts.yaml"
    path.write_text("contexts:\n  prod:\n    resources: x\n    production: true\n    production: false\n")
    with pytest.raises(ContextError, match=r"contexts.yaml: contexts file is not valid YAML at line 5.*'production' is given twice"):
        files.read_contexts_file(path)


def test_bad_yaml_is_one_line_with_line_and_column(tmp_path):
    path = tmp_path / "contexts.yaml"
    path.write_text("contexts:\n  a: {resources: [x\n")
    with pytest.raises(ContextError, match=r"not valid YAML at line \d+, column \d+"):
        files.read_contexts_file(path)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_an_env_file_others_can_read_is_refused_with_the_fix(tmp_path, mode):
    path = tmp_path / "prod.env"
    path.write_text("COSMOS_MASTER_KEY=abc\n")
    path.chmod(mode)
    with pytest.raises(ContextError) as caught:
        files.read_env_file(path)
    assert f"run: chmod 600 {path}" in str(caught.value) and "abc" not in str(caught.value)
    path.chmod(0o600)
    assert files.read_env_file(path) == {"COSMOS_MASTER_KEY": "abc"}


def test_prepare_applies_the_env_file_for_the_session_and_restores_it(tmp_path):
    env_file = tmp_path / "p.env"
    env_file.write_text("MY_TOKEN=t0k\nCOSMOS_URL=https://x\n")
    env_file.chmod(0o600)
    context = Context("p", "f", resources=(str(tmp_path),), sidecars=(SidecarEndpoint("127.0.0.1:1", "MY_TOKEN"),
                                                                       SidecarEndpoint("127.0.0.1:2")),
                      env_file=str(env_file))
    environ = {"COSMOS_URL": "old", "DAPR_API_TOKEN": "default-token"}
    prepared = files.prepare(context, environ=environ)
    assert prepared.api_tokens == {"127.0.0.1:1": "t0k", "127.0.0.1:2": "default-token"}
    assert prepared.api_token == "default-token" and "t0k" not in repr(prepared)
    prepared.apply(environ)
    assert environ["MY_TOKEN"] == "t0k" and environ["COSMOS_URL"] == "https://x"
    prepared.close(environ)
    assert environ == {"COSMOS_URL": "old", "DAPR_API_TOKEN": "default-token"}


def test_prepare_writes_a_kubectl_export_as_a_private_resources_folder(tmp_path):
    export = tmp_path / "prod.yaml"
    export.write_text(KUBECTL)
    context = Context("p", "f", components=(str(export),), production=True)
    prepared = files.prepare(context, environ={})
    (folder,) = prepared.resources_paths
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    docs = list(yaml.safe_load_all((folder / "prod.yaml").read_text()))
    assert [d["metadata"]["name"] for d in docs] == ["statestore", "pubsub"] and "namespace" not in docs[0]["metadata"]
    assert prepared.policy.read_only and "production" in prepared.policy.reason
    prepared.close()
    assert not folder.exists()


def test_command_line_resources_and_ports_win_over_the_context(tmp_path):
    context = Context("p", "f", resources=("/ctx",), sidecars=(SidecarEndpoint("10.0.0.1:50001"),))
    prepared = files.prepare(context, resources=[str(tmp_path)], ports=[50009], environ={})
    assert prepared.resources_paths == [tmp_path] and prepared.addresses == ["127.0.0.1:50009"]


def _stand_in_stack(tmp_path: Path, tokens: dict[str, str]) -> files.StackSite:
    """What a started LocalStack gives register_stack (no processes)."""
    return files.StackSite({"COSMOS_URL": "https://127.0.0.1:9", "COSMOS_MASTER_KEY": "K3Y==",
                            "SSL_CERT_FILE": str(tmp_path / "ca.pem")},
                           {"chat-api": "127.0.0.1:1", "order-processor": "127.0.0.1:2"},
                           tokens, tmp_path, tmp_path / "ca.pem", tmp_path)


def test_registering_a_stack_writes_private_files_and_removing_them_leaves_nothing(tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    registration = files.register_stack(_stand_in_stack(tmp_path, {"chat-api": "T0KEN-chat"}), env)
    assert registration.name == "local"
    for path in (registration.context_file, registration.env_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.registry_dir(env).stat().st_mode) == 0o700
    assert "K3Y" not in registration.context_file.read_text() and "T0KEN" not in registration.context_file.read_text()
    local = files.load_table(env).pick("local")
    assert local.registered and local.pid == os.getpid()
    assert local.sidecars == (SidecarEndpoint("127.0.0.1:1", "DAPR_EXPLORER_TOKEN_CHAT_API"), SidecarEndpoint("127.0.0.1:2"))
    prepared = files.prepare(local, environ={})
    assert prepared.api_tokens == {"127.0.0.1:1": "T0KEN-chat"} and prepared.env["COSMOS_MASTER_KEY"] == "K3Y=="
    registration.remove()
    registration.remove()
    assert list(files.registry_dir(env).iterdir()) == []


def test_a_registration_of_a_process_that_is_gone_is_ignored_and_replaced(tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    registry = files.registry_dir(env)
    registry.mkdir(parents=True)
    (registry / "local.yaml").write_text("contexts:\n  local: {resources: /x, pid: 999999999}\n")
    assert files.load_table(env).contexts == ()
    assert files.register_stack(_stand_in_stack(tmp_path, {}), env).name == "local"


def test_a_second_running_stack_registers_as_local_2(tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    registry = files.registry_dir(env)
    registry.mkdir(parents=True)
    (registry / "local.yaml").write_text(f"contexts:\n  local: {{resources: /x, pid: {os.getppid()}}}\n")
    assert files.register_stack(_stand_in_stack(tmp_path, {}), env).name == "local-2"
    assert sorted(c.name for c in files.load_table(env).contexts) == ["local", "local-2"]


def test_a_broken_user_file_is_an_error_for_a_pick_and_a_problem_line_for_a_listing(tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    files.config_file(env).parent.mkdir(parents=True)
    files.config_file(env).write_text("contexts:\n  a: {resources: x, production: maybe}\n")
    with pytest.raises(ContextError, match="field 'production' must be true or false"):
        files.load_table(env)
    assert "field 'production'" in files.load_table(env, strict=False).problems[0]


def test_a_registry_that_cannot_be_written_is_one_line(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")
    with pytest.raises(ContextError, match=r"cannot register the local stack as a context in .*; set XDG_STATE_HOME"):
        files.register_stack(_stand_in_stack(tmp_path, {}), {"XDG_STATE_HOME": str(blocker)})


def test_the_ru_budget_is_the_command_lines_then_the_contexts_then_productions_default():
    from explorer.core.ru_budget import DEFAULT_PRODUCTION_RU_PER_SECOND

    cases = [(Context("dev", "f", resources=("/c",)), None, None),
             (Context("dev", "f", resources=("/c",), ru_per_second=250.0), None, 250.0),
             (Context("prod", "f", resources=("/c",), production=True), None, DEFAULT_PRODUCTION_RU_PER_SECOND),
             (Context("prod", "f", resources=("/c",), production=True, ru_per_second=40.0), None, 40.0),
             (Context("prod", "f", resources=("/c",), production=True), 10.0, 10.0),
             (None, None, None), (None, 75.0, 75.0)]
    for context, given, expected in cases:
        prepared = files.prepare(context, environ={}, ru_per_second=given)
        assert prepared.ru_per_second == expected, (context, given)
        prepared.close()


def _live_local(registry: Path, file: str = "local.yaml") -> None:
    registry.mkdir(parents=True, exist_ok=True)
    (registry / file).write_text(f"contexts:\n  local: {{resources: /x, pid: {os.getppid()}}}\n")


@pytest.mark.parametrize("case", ["user file and registration", "two registrations"])
def test_contexts_refuses_a_name_defined_twice_with_both_files_and_exit_1(tmp_path, monkeypatch, capsys, case):
    """`contexts` (the contexts files alone, no stack): `local` in contexts.yaml while a running stack registered
    `local`, or two registrations of `local`, is an error line naming both files and exit 1, never two rows."""
    from explorer.cli.main import main

    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    registry = files.registry_dir(env)
    _live_local(registry)
    if case == "two registrations":
        _live_local(registry, "copy-of-local.yaml")
        first = str(registry / "copy-of-local.yaml")
    else:
        files.config_file(env).parent.mkdir(parents=True)
        files.config_file(env).write_text("contexts:\n  local: {resources: /mine}\n")
        first = str(files.config_file(env))
    assert main(["contexts"]) == 1
    err = capsys.readouterr().err
    assert f"dapr-explorer: context 'local' is defined in {first} and in {registry / 'local.yaml'}; rename one of them." \
        in err.splitlines(), err
    with pytest.raises(ContextError, match="context 'local' is defined in"):
        files.load_table(env).pick("local")


def test_a_stack_registers_as_local_2_when_the_users_file_defines_local(tmp_path):
    env = {"XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    files.config_file(env).parent.mkdir(parents=True)
    files.config_file(env).write_text("contexts:\n  local: {resources: /mine}\n")
    assert files.register_stack(_stand_in_stack(tmp_path, {}), env).name == "local-2"
    table = files.load_table(env)
    assert table.problems == () and sorted(c.name for c in table.contexts) == ["local", "local-2"]


def test_a_name_or_token_variable_ending_in_a_newline_is_refused():
    """Found by bench/fuzz_inputs.py: the name patterns ended in `$`, which also matches before a final
    newline, so a context named "prod\\n" (a quoted YAML key) was taken, and its errors spanned two lines."""
    assert "context name" in error("contexts:\n  ? \"prod\\n\"\n  : {resources: /c}\n")
    assert "api_token_env" in error("contexts:\n  prod: {resources: /c, api_token_env: \"TOKEN\\n\"}\n")
