"""Dapr component files: find, parse and resolve them the way daprd does.

What it is for: turning the YAML under a resources path into typed `Component`
records (the model: explorer.core.component_model), and resolving a metadata value (plain, `envRef`, `secretKeyRef` against
local.env / local.file secret stores) on request. `load_resources` is the
lenient loader: every file that is missing, unreadable, over 1 MiB, not UTF-8,
not YAML, too deep, or holds a wrong-typed field, and every name defined twice,
becomes one `ComponentProblem` line while the other components still load.
`load_components` / `parse_components` are the strict forms (first problem
raised as `ComponentError`).

What it must never do: raise anything but `ComponentError` while loading (the
lenient form raises nothing), read more than 1 MiB of a file, or print, log or
put into a problem message a metadata value (it may be an account key).
`Component.masked()` and `is_secret_field()` are how every caller shows values;
nothing here writes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from explorer.core.component_model import Component, MetadataValue
from explorer.core.display import kind_words as _kind
from explorer.errors import ComponentError

# -- loading: every problem collected, nothing raised ----------------------------------------------

#: Dapr component files are a few KB (the largest real ones, with inline
#: certificates, are tens of KB). 1 MiB leaves ~100x headroom, costs < 0.2 s to
#: parse with the C loader, and stops a misplaced dump (a 5 MB file took 6-9 s
#: and 230+ MB on every command) after reading 1 MiB.
MAX_FILE_BYTES = 1024 * 1024

#: Component documents are ~5 levels deep; deeper is not a component file.
MAX_DEPTH = 64

#: YAML aliases may make a small file expand to billions of values; no
#: component file needs more than this many values once aliases are expanded.
MAX_VALUES = 100_000

_LOADER = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
_FIX = "Fix it or move the file out of the resources path."
_PASS_FOLDER = "Pass --resources-path with a folder of Dapr component YAML."


@dataclass(frozen=True)
class ComponentProblem:
    """Why a file, or one component in it, cannot be used: one line, never a secret value."""

    source: Path
    component: str | None
    message: str

    def __str__(self) -> str:
        if self.component is not None:
            return f"{self.source} (component {self.component}): {self.message}"
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class LoadedComponents:
    """The usable components under the resources paths, and every problem found on the way."""

    components: tuple[Component, ...]
    problems: tuple[ComponentProblem, ...]

    def problem_for(self, name: str) -> ComponentProblem | None:
        """The problem that made component `name` unusable (a bad entry in its file, or a duplicate name)."""
        for problem in self.problems:
            if problem.component == name:
                return problem
        return None


class _Invalid(Exception):
    """One wrong field of a component document (internal: becomes a ComponentProblem)."""


def _text(value: object) -> str:
    """A scalar metadata value as daprd reads it (YAML true → "true"), never Python's repr."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple, set)):
        # Dapr keeps a structured value as JSON text. _shape_problem bounded its size.
        import json

        try:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
        except (TypeError, ValueError):  # a key JSON cannot hold (a date); still bounded, still text
            return str(value)
    return str(value)


def _map(value: object, field_name: str, expected: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(f"{field_name} must be {expected}, not {_kind(value)}.")
    return value


def _metadata_entry(entry: object, index: int) -> MetadataValue:
    where = f"spec.metadata entry {index + 1}"
    if not isinstance(entry, dict):
        raise _Invalid(f"{where} must be a map with a name and a value, not {_kind(entry)}.")
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise _Invalid(f"{where} needs a 'name' (text), not {_kind(name)}.")
    where = f"spec.metadata '{name}'"
    if "secretKeyRef" in entry:
        ref = entry["secretKeyRef"]
        if not isinstance(ref, dict):
            raise _Invalid(f"{where}: secretKeyRef must be a map with name and key, not {_kind(ref)}.")
        secret_name, secret_key = ref.get("name"), ref.get("key")
        if not isinstance(secret_name, str) or not secret_name:
            raise _Invalid(f"{where}: secretKeyRef.name must be the secret's name (text), not {_kind(secret_name)}.")
        if secret_key is not None and not isinstance(secret_key, str):
            raise _Invalid(f"{where}: secretKeyRef.key must be text, not {_kind(secret_key)}.")
        return MetadataValue(name=name, secret_name=secret_name, secret_key=secret_key)
    env_ref = entry.get("envRef")
    if env_ref is not None:
        if not isinstance(env_ref, str):
            raise _Invalid(f"{where}: envRef must be an environment variable name (text), not {_kind(env_ref)}.")
        return MetadataValue(name=name, env_ref=env_ref)
    value = entry.get("value")
    return MetadataValue(name=name, value=None if value is None else _text(value))


def _component(doc: dict, name: str, source: Path) -> Component:
    """One Component document whose metadata.name is known; raises _Invalid for its first wrong field."""
    meta = doc["metadata"]
    spec = _map(doc.get("spec"), "spec", "a map with type, version and metadata")
    kind = spec.get("type")
    if not isinstance(kind, str) or not kind:
        raise _Invalid(
            f"spec.type is {_kind(kind) if 'type' in spec else 'missing'}: a Component needs metadata.name and "
            "spec.type (text, e.g. state.azure.cosmosdb)."
        )
    version = spec.get("version", "v1")
    if not isinstance(version, (str, int, float)) or isinstance(version, bool):
        raise _Invalid(f"spec.version must be text like v1, not {_kind(version)}.")
    raw_metadata = spec.get("metadata")
    if raw_metadata is not None and not isinstance(raw_metadata, list):
        raise _Invalid(f"spec.metadata must be a list of name/value entries, not {_kind(raw_metadata)}.")
    metadata = tuple(_metadata_entry(entry, i) for i, entry in enumerate(raw_metadata or ()))
    annotations = _map(meta.get("annotations"), "metadata.annotations", "a map of name: text")
    for key, value in annotations.items():
        if isinstance(value, (dict, list, tuple, set)):
            raise _Invalid(f"metadata.annotations '{key}' must be text, not {_kind(value)}.")
    scopes = doc.get("scopes")
    if scopes is not None and (not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes)):
        what = _kind(scopes) if not isinstance(scopes, list) else "a list holding other values"
        raise _Invalid(f"scopes must be a list of app-ids (text), not {what}.")
    auth = _map(doc.get("auth"), "auth", "a map with secretStore")
    secret_store = auth.get("secretStore")
    if secret_store is not None and not isinstance(secret_store, str):
        raise _Invalid(f"auth.secretStore must be the name of a secret store component (text), not {_kind(secret_store)}.")
    return Component(
        name=name,
        type=kind,
        version=str(version),
        metadata=metadata,
        source=source,
        secret_store=secret_store or None,
        scopes=tuple(scopes or ()),
        annotations={str(k): _text(v) for k, v in annotations.items()},
    )


def _shape_problem(doc: object) -> str | None:
    """Why a loaded document is too deep, too big once aliases expand, or refers to itself; None if fine.

    Iterative (a deep document must not exhaust Python's stack) and visits each
    shared (aliased) value once.
    """
    height: dict[int, int] = {}
    size: dict[int, int] = {}
    open_ids: set[int] = set()
    stack: list[tuple[object, bool]] = [(doc, False)]
    while stack:
        node, done = stack.pop()
        if isinstance(node, dict):
            children = [*node.keys(), *node.values()]
        elif isinstance(node, (list, tuple, set)):
            children = list(node)
        else:
            continue
        key = id(node)
        if done:
            open_ids.discard(key)
            containers = [c for c in children if id(c) in height]
            height[key] = 1 + max((height[id(c)] for c in containers), default=0)
            size[key] = 1 + len(children) - len(containers) + sum(size[id(c)] for c in containers)
            if height[key] > MAX_DEPTH:
                return f"is nested more than {MAX_DEPTH} levels deep; component files are a few levels deep."
            if size[key] > MAX_VALUES:
                return f"expands to more than {MAX_VALUES:,} values (YAML aliases?); component files hold a few dozen."
            continue
        if key in height:
            continue
        if key in open_ids:
            return "has a YAML alias that refers to itself; component files cannot."
        open_ids.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if isinstance(child, (dict, list, tuple, set)))
        if len(open_ids) > MAX_DEPTH:
            return f"is nested more than {MAX_DEPTH} levels deep; component files are a few levels deep."
    return None


def _yaml_problem(exc: BaseException, text: str) -> str:
    """A YAML failure as one line with line/column; the offending text itself is never shown."""
    if isinstance(exc, RecursionError) or "nesting depth" in str(exc):
        return f"is nested too deeply to read; component files are a few levels deep. {_FIX}"
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        problem = (exc.problem or "invalid").split(": ")[0]  # "failed to convert base64 data: <value>" → no value
        return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}. {_FIX}"
    if isinstance(exc, yaml.reader.ReaderError):
        line = text.count("\n", 0, exc.position) + 1
        return f"not valid YAML: line {line} holds a character YAML does not allow (#x{exc.character:04x}). {_FIX}" \
            if isinstance(exc.character, int) else f"not valid YAML near line {line}. {_FIX}"
    if isinstance(exc, yaml.YAMLError):
        return f"not valid YAML. {_FIX}"
    # e.g. ValueError from `2024-02-30` (read as a date) or `!!int abc`; its text may quote a value.
    return (f"not valid YAML: a value could not be converted ({exc.__class__.__name__}); quote dates and "
            f"check explicit tags such as !!int or !!binary. {_FIX}")


def _parse_text(text: str, source: Path) -> tuple[list[Component], list[ComponentProblem], list[str]]:
    """Every usable Component document in one file's text, the problems, and every name seen (usable or not)."""
    problems: list[ComponentProblem] = []
    try:
        documents = list(yaml.load_all(text, Loader=_LOADER))
    except Exception as exc:  # noqa: BLE001 — any YAML failure is one problem for this file, never a crash
        return [], [ComponentProblem(source, None, _yaml_problem(exc, text))], []
    found: list[Component] = []
    names: list[str] = []
    for number, doc in enumerate(documents, start=1):
        if not isinstance(doc, dict) or doc.get("kind") != "Component":
            continue
        where = f"document {number}" if len(documents) > 1 else "the Component"
        shape = _shape_problem(doc)
        if shape is not None:
            problems.append(ComponentProblem(source, None, f"{where} {shape} {_FIX}"))
            continue
        meta = doc.get("metadata")
        if not isinstance(meta, dict):
            problems.append(ComponentProblem(
                source, None, f"{where}: metadata must be a map with a name, not {_kind(meta)}. {_FIX}"))
            continue
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            problems.append(ComponentProblem(
                source, None, f"{where}: metadata.name must be the component's name (text), not {_kind(name)}: "
                f"a Component needs metadata.name and spec.type. {_FIX}"))
            continue
        names.append(name)
        try:
            found.append(_component(doc, name, source))
        except _Invalid as exc:
            problems.append(ComponentProblem(source, name, f"{exc} This component is not used."))
    return found, problems, names


def _read_text(path: Path) -> str | ComponentProblem:
    """A component file's text, reading at most MAX_FILE_BYTES + 1 bytes; or why it cannot be read."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
            size = os.fstat(handle.fileno()).st_size
    except PermissionError:
        return ComponentProblem(
            path, None, "cannot be read (permission denied). Make it readable or move it out of the resources path.")
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return ComponentProblem(path, None, f"cannot be read ({reason}). {_FIX}")
    if len(data) > MAX_FILE_BYTES:
        shown = f"{size / 1_000_000:.1f} MB" if size > MAX_FILE_BYTES else "over 1 MiB"
        return ComponentProblem(
            path, None, f"is {shown}; component files are a few KB (files over 1 MiB are not read) — is this the right folder?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return ComponentProblem(
            path, None, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}); save it as UTF-8. {_FIX}")


def _drop_duplicates(
    components: list[Component], seen: list[tuple[str, Path]], problems: list[ComponentProblem]
) -> list[Component]:
    """Components whose name is defined once; a problem for every name defined more than once."""
    where: dict[str, list[Path]] = {}
    for name, path in seen:
        where.setdefault(name, []).append(path)
    for name, paths in where.items():
        if len(paths) < 2:
            continue
        if len(set(paths)) == 1:
            places = f"{len(paths)} times in {paths[0]}"
        else:
            places = "in " + ", ".join(str(p) for p in paths[:-1]) + f" and {paths[-1]}"
        problems.append(ComponentProblem(
            paths[0], name, f"the name '{name}' is defined {places}; neither is used (daprd would refuse to start). "
            "Rename or remove all but one."))
    return [c for c in components if len(where.get(c.name, ())) < 2]


def load_resources(paths: Iterable[Path]) -> LoadedComponents:
    """Every usable component under the resources paths (file-name order) and every problem. Never raises.

    A missing folder, an unreadable / oversized / non-UTF-8 / invalid file, a
    component with a wrong-typed field, and a name defined twice each become
    one ComponentProblem; everything else still loads.
    """
    components: list[Component] = []
    problems: list[ComponentProblem] = []
    seen: list[tuple[str, Path]] = []
    for root in paths:
        root = Path(root)
        try:
            if not root.exists():
                problems.append(ComponentProblem(root, None, f"resources path does not exist. {_PASS_FOLDER}"))
                continue
            if not root.is_dir():
                problems.append(ComponentProblem(root, None, f"resources path is not a folder. {_PASS_FOLDER}"))
                continue
            entries = sorted(root.iterdir())
        except OSError as exc:
            reason = exc.strerror or exc.__class__.__name__
            problems.append(ComponentProblem(root, None, f"resources path cannot be listed ({reason})."))
            continue
        for path in entries:
            try:
                if path.suffix.lower() not in {".yaml", ".yml"} or not path.is_file():
                    continue
            except OSError:
                pass  # cannot even stat it: reading it reports why
            text = _read_text(path)
            if isinstance(text, ComponentProblem):
                problems.append(text)
                continue
            found, file_problems, names = _parse_text(text, path)
            components.extend(found)
            problems.extend(file_problems)
            seen.extend((name, path) for name in names)
    usable = _drop_duplicates(components, seen, problems)
    return LoadedComponents(tuple(usable), tuple(problems))


def parse_components(text: str, source: Path) -> list[Component]:
    """Every kind: Component document in one file's text (other kinds skipped); strict.

    Raises ComponentError with the first problem's line.
    """
    found, problems, names = _parse_text(text, source)
    found = _drop_duplicates(found, [(name, source) for name in names], problems)
    if problems:
        raise ComponentError(str(problems[0]))
    return found


def load_components(paths: Iterable[Path]) -> list[Component]:
    """All components under the resources paths, in file-name order; strict (the local stack's form).

    Raises ComponentError whose message is the first problem's line; callers
    that can go on with the usable components use `load_resources`.
    """
    loaded = load_resources(paths)
    if loaded.problems:
        raise ComponentError(str(loaded.problems[0]))
    return list(loaded.components)


def default_resources_paths(given: Iterable[str] = ()) -> list[Path]:
    """--resources-path if given, else ./components, else ~/.dapr/components."""
    given = [Path(p) for p in given]
    if given:
        return given
    local = Path("components")
    if local.is_dir():
        return [local]
    return [Path.home() / ".dapr" / "components"]


class Resolver:
    """Resolves metadata values as daprd would, from the environment and secret stores."""

    def __init__(self, components: Iterable[Component], environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ
        self._secret_stores = {c.name: c for c in components if c.is_secret_store}

    def resolve(self, component: Component, name: str, required: bool = True) -> str | None:
        item = component.get(name)
        if item is None:
            if required:
                raise ComponentError(f"component {component.name}: field '{name}' is missing. Add it to {component.source}.")
            return None
        if item.env_ref is not None:
            return self._env(component, name, item.env_ref)
        if item.secret_name is not None:
            return self._secret(component, item)
        template = item.env_template()
        if template is not None:
            # Dapr would pass "{env:VAR}" on literally; we resolve it for
            # convenience and the doctor reports it.
            return self._env(component, name, template)
        return item.value

    def _env(self, component: Component, field_name: str, var: str) -> str:
        value = self._environ.get(var)
        if value is None:
            raise ComponentError(
                f"component {component.name}: field '{field_name}' reads environment variable {var}, which is not set. "
                f"Export {var} before starting."
            )
        return value

    def _secret(self, component: Component, item: MetadataValue) -> str:
        store_name = component.secret_store
        if not store_name:
            raise ComponentError(
                f"component {component.name}: field '{item.name}' uses secretKeyRef but the component has no auth.secretStore."
            )
        store = self._secret_stores.get(store_name)
        if store is None:
            raise ComponentError(
                f"component {component.name}: field '{item.name}' reads secret store '{store_name}', which is not among the component files."
            )
        key = item.secret_key or item.secret_name or ""
        if store.type == "secretstores.local.env":
            prefix = store.plain("prefix", "") or ""
            var = prefix + (item.secret_name or "")
            value = self._environ.get(var)
            if value is None:
                raise ComponentError(
                    f"component {component.name}: field '{item.name}' reads secret {item.secret_name} from local.env store "
                    f"'{store_name}', but environment variable {var} is not set. Export {var}."
                )
            return value
        if store.type == "secretstores.local.file":
            return self._file_secret(component, store, item, key)
        raise ComponentError(
            f"component {component.name}: secret store '{store_name}' is {store.type}; only local.env and local.file are read here."
        )

    def _file_secret(self, component: Component, store: Component, item: MetadataValue, key: str) -> str:
        import json

        file_name = store.plain("secretsFile")
        if not file_name:
            raise ComponentError(f"secret store {store.name}: field 'secretsFile' is missing in {store.source}.")
        path = Path(file_name)
        if not path.is_absolute():
            path = Path.cwd() / path
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ComponentError(f"secret store {store.name}: cannot read {path} as JSON ({exc.__class__.__name__}).") from exc
        separator = store.plain("nestedSeparator", ":") or ":"
        multi = (store.plain("multiValued", "false") or "false").lower() == "true"
        flat = _flatten(data, separator)
        secret_name = item.secret_name or ""
        if multi:
            value = flat.get(f"{secret_name}{separator}{key}")
        else:
            value = flat.get(secret_name)
        if value is None:
            raise ComponentError(
                f"component {component.name}: field '{item.name}' reads secret '{secret_name}' from {path}, which has no such entry."
            )
        return value


def _flatten(data: object, separator: str, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(data, dict):
        for k, v in data.items():
            name = f"{prefix}{separator}{k}" if prefix else str(k)
            out.update(_flatten(v, separator, name))
    else:
        out[prefix] = str(data)
    return out
