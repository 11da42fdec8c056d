"""Component files: parsing and value resolution (pure logic; environments are plain dicts)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer.components.files import (
    MAX_FILE_BYTES,
    ComponentProblem,
    Resolver,
    default_resources_paths,
    load_components,
    load_resources,
    parse_components,
)
from explorer.core.component_model import MASK
from explorer.errors import ComponentError

REPO = Path(__file__).resolve().parents[2]

TWO_DOCS = """
apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata: {name: tracing}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: orders}
spec:
  type: state.azure.cosmosdb
  version: v1
  metadata:
    - {name: url, value: "{env:COSMOS_URL}"}
    - {name: masterKey, value: "c2VjcmV0LWtleQ=="}
    - {name: database, value: db}
    - {name: collection, value: coll}
    - name: token
      secretKeyRef: {name: API_TOKEN, key: API_TOKEN}
auth: {secretStore: envs}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: envs}
spec: {type: secretstores.local.env, version: v1}
"""


def parse(text=TWO_DOCS):
    return parse_components(text, Path("orders.yaml"))


def test_non_component_documents_are_skipped():
    assert [c.name for c in parse()] == ["orders", "envs"]


def test_env_template_is_resolved_for_convenience():
    orders, envs = parse()
    resolver = Resolver([orders, envs], {"COSMOS_URL": "https://acct.documents.azure.com:443/"})
    assert resolver.resolve(orders, "url") == "https://acct.documents.azure.com:443/"
    assert orders.get("url").env_template() == "COSMOS_URL"


def test_missing_variable_names_component_field_and_variable():
    orders, envs = parse()
    with pytest.raises(ComponentError) as info:
        Resolver([orders, envs], {}).resolve(orders, "url")
    assert "orders" in str(info.value) and "'url'" in str(info.value) and "COSMOS_URL" in str(info.value)


def test_secret_key_ref_reads_the_local_env_store():
    orders, envs = parse()
    assert Resolver([orders, envs], {"API_TOKEN": "t0k"}).resolve(orders, "token") == "t0k"
    with pytest.raises(ComponentError, match="API_TOKEN"):
        Resolver([orders, envs], {}).resolve(orders, "token")


def test_secret_key_ref_reads_a_local_file_store(tmp_path):
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"cosmos": {"key": "from-file"}}))
    text = f"""
kind: Component
metadata: {{name: files}}
spec:
  type: secretstores.local.file
  metadata:
    - {{name: secretsFile, value: "{secrets}"}}
    - {{name: nestedSeparator, value: "."}}
---
kind: Component
metadata: {{name: st}}
spec:
  type: state.azure.cosmosdb
  metadata:
    - name: masterKey
      secretKeyRef: {{name: cosmos.key, key: cosmos.key}}
auth: {{secretStore: files}}
"""
    files, st = parse_components(text, tmp_path / "c.yaml")
    assert Resolver([files, st], {}).resolve(st, "masterKey") == "from-file"


def test_masked_view_never_shows_secrets():
    orders, _ = parse()
    shown = orders.masked()
    assert shown["masterKey"] == MASK
    assert shown["token"] == "secretKeyRef API_TOKEN/API_TOKEN"
    assert "c2VjcmV0LWtleQ==" not in repr(shown)
    assert shown["database"] == "db"


def test_invalid_yaml_says_which_file(tmp_path):
    with pytest.raises(ComponentError, match="bad.yaml: not valid YAML"):
        parse_components("kind: [", tmp_path / "bad.yaml")


def test_component_without_type_is_an_error():
    with pytest.raises(ComponentError, match="needs metadata.name and spec.type"):
        parse("kind: Component\nmetadata: {name: x}\nspec: {}\n")


def test_resources_path_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert default_resources_paths(["a", "b"]) == [Path("a"), Path("b")]
    assert default_resources_paths() == [Path.home() / ".dapr" / "components"]
    (tmp_path / "components").mkdir()
    assert default_resources_paths() == [Path("components")]


def test_repository_components_use_env_and_secret_refs():
    """The shipped components read url by envRef and masterKey by secretKeyRef, as Dapr does."""
    comps = {c.name: c for c in load_components([REPO / "components"])}
    for name in ("statestore-workflows-cosmos", "statestore-agents-cosmos", "statestore-cache-cosmos"):
        assert comps[name].get("url").env_ref == "COSMOS_URL"
        assert comps[name].get("masterKey").secret_name == "COSMOS_MASTER_KEY"
        assert comps[name].secret_store == "local-secrets"
    assert comps["statestore-workflows-cosmos"].plain("actorStateStore") == "true"
    assert comps["local-secrets"].type == "secretstores.local.env"



# --- the lenient loader: every problem is one line, the rest still loads ------------------------

GOOD = """
kind: Component
metadata: {name: good}
spec:
  type: state.azure.cosmosdb
  metadata: [{name: database, value: db}, {name: masterKey, value: "c2VjcmV0LWtleQ=="}]
"""


def folder(tmp_path, **files):
    """A resources folder holding good.yaml plus the given files (name → text or bytes)."""
    (tmp_path / "good.yaml").write_text(GOOD)
    for name, content in files.items():
        target = tmp_path / name
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content)
    return tmp_path


def only_problem(loaded):
    assert [c.name for c in loaded.components] == ["good"], loaded
    [problem] = loaded.problems
    line = str(problem)
    assert "\n" not in line and "c2VjcmV0LWtleQ==" not in line and "s3cr3t" not in line
    return problem, line


def bad_component(tmp_path, body, name="bad"):
    """Load good.yaml plus bad.yaml holding one Component named `name` with the given YAML body."""
    text = f"kind: Component\nmetadata:\n  name: {name}\n{body}"
    return only_problem(load_resources([folder(tmp_path, **{"bad.yaml": text})]))


def test_missing_resources_path_is_a_problem_not_a_crash(tmp_path):
    loaded = load_resources([tmp_path / "nowhere", folder(tmp_path)])
    problem, line = only_problem(loaded)
    assert line == f"{tmp_path / 'nowhere'}: resources path does not exist. Pass --resources-path with a folder of Dapr component YAML."


def test_resources_path_that_is_a_file_is_a_problem(tmp_path):
    (tmp_path / "x.txt").write_text("")
    loaded = load_resources([tmp_path / "x.txt"])
    assert loaded.components == () and "x.txt: resources path is not a folder" in str(loaded.problems[0])


def test_unreadable_file_is_a_problem(tmp_path, monkeypatch):
    root = folder(tmp_path, **{"locked.yaml": GOOD.replace("good", "locked")})
    real_open = Path.open

    def refuse(self, *args, **kwargs):  # root may read anything, so chmod 000 alone cannot show this
        if self.name == "locked.yaml":
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)
    problem, line = only_problem(load_resources([root]))
    assert line == f"{root / 'locked.yaml'}: cannot be read (permission denied). Make it readable or move it out of the resources path."


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_by_mode_is_a_problem(tmp_path):
    root = folder(tmp_path, **{"locked.yaml": GOOD})
    (root / "locked.yaml").chmod(0)
    problem, line = only_problem(load_resources([root]))
    assert "locked.yaml: cannot be read (permission denied)" in line


def test_non_utf8_file_is_a_problem(tmp_path):
    problem, line = only_problem(load_resources([folder(tmp_path, **{"latin1.yaml": "kind: Component\n# café\n".encode("latin-1")})]))
    assert line == f"{tmp_path / 'latin1.yaml'}: is not UTF-8 text (byte 0xe9 on line 2); save it as UTF-8. Fix it or move the file out of the resources path."


def test_a_5_mb_file_is_refused_after_reading_1_mib(tmp_path, monkeypatch):
    big = "kind: Component\nspec:\n  metadata:\n" + "    - {name: f, value: v}\n" * 192_000
    root = folder(tmp_path, **{"dump.yaml": big})
    assert (root / "dump.yaml").stat().st_size == 4_992_034
    reads = []
    real_open = Path.open

    def counting(self, *args, **kwargs):
        handle = real_open(self, *args, **kwargs)
        real_read = handle.read
        handle.read = lambda n=-1: reads.append(n) or real_read(n)
        return handle

    monkeypatch.setattr(Path, "open", counting)
    problem, line = only_problem(load_resources([root]))
    assert line == (f"{root / 'dump.yaml'}: is 5.0 MB; component files are a few KB (files over 1 MiB are not read)"
                    " — is this the right folder?")
    assert max(reads) == MAX_FILE_BYTES + 1


def test_invalid_yaml_gives_line_and_column(tmp_path):
    problem, line = only_problem(load_resources([folder(tmp_path, **{"bad.yaml": "kind: Component\nmetadata: {name: [\n"})]))
    assert problem.source == tmp_path / "bad.yaml" and problem.component is None
    assert line.startswith(f"{tmp_path / 'bad.yaml'}: not valid YAML at line 3, column 1: ")


def test_impossible_date_is_a_problem_not_a_value_error(tmp_path):
    problem, line = bad_component(tmp_path, "spec:\n  type: state.redis\n  metadata: [{name: since, value: 2024-02-30}]\n")
    assert "bad.yaml: not valid YAML: a value could not be converted (ValueError); quote dates" in line


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, "kind: Component\nspec: " + "[" * 900 + "]" * 900])
def test_too_deeply_nested_yaml_is_a_problem(tmp_path, text):
    problem, line = only_problem(load_resources([folder(tmp_path, **{"deep.yaml": text})]))
    assert line.startswith(f"{tmp_path / 'deep.yaml'}: ") and "nested" in line and "deep" in line


def test_a_component_nested_past_the_depth_limit_is_a_problem(tmp_path):
    text = "kind: Component\nmetadata: {name: deep}\nspec: {type: state.redis, metadata: [{name: v, value: " + "[" * 80 + "]" * 80 + "}]}\n"
    problem, line = only_problem(load_resources([folder(tmp_path, **{"deep.yaml": text})]))
    assert line == (f"{tmp_path / 'deep.yaml'}: the Component is nested more than 64 levels deep; component files are a"
                    " few levels deep. Fix it or move the file out of the resources path.")


def test_alias_bomb_is_a_problem(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    text = "kind: Component\nmetadata: {name: bomb}\nspec: {type: state.redis}\nx:\n" + "".join(f"  {l}\n" for l in lines)
    problem, line = only_problem(load_resources([folder(tmp_path, **{"bomb.yaml": text})]))
    assert "bomb.yaml: the Component expands to more than 100,000 values (YAML aliases?)" in line


@pytest.mark.parametrize(
    ("body", "field_message"),
    [
        ("  annotations: nope\nspec: {type: state.redis}\n",
         "metadata.annotations must be a map of name: text, not text."),
        ("spec: [state.redis]\n", "spec must be a map with type, version and metadata, not a list."),
        ("spec: {version: v1}\n", "spec.type is missing: a Component needs metadata.name and spec.type"),
        ("spec: {type: [state.redis]}\n", "spec.type is a list: a Component needs metadata.name and spec.type"),
        ("spec: {type: state.redis, metadata: {name: x, value: s3cr3t}}\n",
         "spec.metadata must be a list of name/value entries, not a map."),
        ("spec: {type: state.redis, metadata: [s3cr3t]}\n",
         "spec.metadata entry 1 must be a map with a name and a value, not text."),
        ("spec: {type: state.redis, metadata: [{value: s3cr3t}]}\n", "spec.metadata entry 1 needs a 'name' (text), not empty."),
        ("spec: {type: state.redis, metadata: [{name: masterKey, secretKeyRef: s3cr3t}]}\n",
         "spec.metadata 'masterKey': secretKeyRef must be a map with name and key, not text."),
        ("spec: {type: state.redis}\nscopes: 42\n", "scopes must be a list of app-ids (text), not a number."),
        ("spec: {type: state.redis}\nscopes: [app1, [app2]]\n",
         "scopes must be a list of app-ids (text), not a list holding other values."),
        ("spec: {type: state.redis}\nauth: [local-secrets]\n", "auth must be a map with secretStore, not a list."),
        ("spec: {type: state.redis}\nauth: {secretStore: {name: local-secrets}}\n",
         "auth.secretStore must be the name of a secret store component (text), not a map."),
    ],
)
def test_wrong_typed_field_names_file_component_and_field(tmp_path, body, field_message):
    problem, line = bad_component(tmp_path, body)
    assert (problem.source, problem.component) == (tmp_path / "bad.yaml", "bad")
    assert line.startswith(f"{tmp_path / 'bad.yaml'} (component bad): {field_message}")
    assert line.endswith(" This component is not used.")


def test_metadata_as_a_list_is_a_problem_and_other_documents_in_the_file_load(tmp_path):
    text = "kind: Component\nmetadata: [bad]\nspec: {type: state.redis}\n---\n" + GOOD.replace("good", "also-good")
    loaded = load_resources([folder(tmp_path, **{"two.yaml": text})])
    assert [c.name for c in loaded.components] == ["good", "also-good"]
    [problem] = loaded.problems
    assert str(problem) == (f"{tmp_path / 'two.yaml'}: document 1: metadata must be a map with a name, not a list."
                            " Fix it or move the file out of the resources path.")


def test_duplicate_names_drop_both_and_name_both_files(tmp_path):
    loaded = load_resources([folder(tmp_path, **{"copy.yaml": GOOD})])
    assert loaded.components == ()
    [problem] = loaded.problems
    assert str(problem) == (f"{tmp_path / 'copy.yaml'} (component good): the name 'good' is defined in "
                            f"{tmp_path / 'copy.yaml'} and {tmp_path / 'good.yaml'}; neither is used (daprd would refuse"
                            " to start). Rename or remove all but one.")
    assert loaded.problem_for("good") is problem and loaded.problem_for("other") is None


def test_problem_for_names_the_bad_file_of_a_store():
    loaded = load_resources([REPO / "components"])
    assert loaded.problems == () and loaded.problem_for("statestore-cache-cosmos") is None


def test_unquoted_true_reads_as_dapr_reads_it():
    [c] = parse_components("kind: Component\nmetadata: {name: a}\nspec: {type: state.x, metadata: [{name: actorStateStore, value: true}]}\n", Path("a.yaml"))
    assert c.plain("actorStateStore") == "true"


def test_strict_forms_raise_the_first_problem_line(tmp_path):
    root = folder(tmp_path, **{"bad.yaml": "kind: Component\nmetadata: {name: bad}\nspec: {type: state.redis}\nscopes: 42\n"})
    with pytest.raises(ComponentError) as info:
        load_components([root])
    assert str(info.value) == str(load_resources([root]).problems[0])
    assert str(info.value).startswith(f"{root / 'bad.yaml'} (component bad): scopes must be a list")
    problem = ComponentProblem(Path("x.yaml"), None, "m")
    assert str(problem) == "x.yaml: m"


# --- property: the loader never crashes ---------------------------------------------------------

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12),
    st.sampled_from(["state.redis", "state.azure.cosmosdb", "secretstores.local.env", "v1", "local-secrets", "2024-02-30"]),
)
anything = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | scalars.filter(lambda v: v is not None and v == v), inner, max_size=4),
    max_leaves=20,
)


def maybe(strategy):
    return st.one_of(strategy, anything)


entry = maybe(st.fixed_dictionaries(
    {"name": maybe(st.sampled_from(["url", "masterKey", "database"]))},
    optional={"value": anything, "envRef": anything, "secretKeyRef": maybe(st.fixed_dictionaries({}, optional={"name": anything, "key": anything}))},
))
component_doc = st.fixed_dictionaries(
    {"kind": st.just("Component")},
    optional={
        "apiVersion": anything,
        "metadata": maybe(st.fixed_dictionaries({}, optional={"name": maybe(st.sampled_from(["a", "b"])), "annotations": anything})),
        "spec": maybe(st.fixed_dictionaries({}, optional={"type": maybe(st.sampled_from(["state.redis", "secretstores.local.env"])),
                                                          "version": anything, "metadata": maybe(st.lists(entry, max_size=4))})),
        "scopes": maybe(st.lists(maybe(st.text(max_size=5)), max_size=3)),
        "auth": maybe(st.fixed_dictionaries({}, optional={"secretStore": anything})),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(component_doc | anything, min_size=1, max_size=3), st.text(max_size=40))
def test_loader_never_raises_on_component_shaped_yaml(tmp_path_factory, docs, noise):
    text = yaml.safe_dump_all(docs, allow_unicode=True)
    for candidate in (text, text + noise, noise):
        try:
            parse_components(candidate, Path("f.yaml"))
        except ComponentError as exc:
            assert "\n" not in str(exc)
    root = tmp_path_factory.mktemp("fuzz")
    (root / "a.yaml").write_text(text, encoding="utf-8", errors="surrogatepass")
    (root / "b.yaml").write_text(text + noise, encoding="utf-8", errors="surrogatepass")
    loaded = load_resources([root])
    assert all("\n" not in str(p) for p in loaded.problems)
    names = [c.name for c in loaded.components]
    assert len(names) == len(set(names))
