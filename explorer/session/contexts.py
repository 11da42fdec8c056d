"""Named contexts on disk: where they live, reading them, and the `local` context a running stack registers.

What it is for:
- the user's contexts file, `$XDG_CONFIG_HOME/dapr-explorer/contexts.yaml` (default
  `~/.config/dapr-explorer/contexts.yaml`), read and never written here;
- registered contexts, one file each in `$XDG_STATE_HOME/dapr-explorer/contexts.d/` (default
  `~/.local/state/…`): `dapr-explorer stack` and `demo` write `local.yaml` and a `local.env` of
  secrets (the account key, a sidecar's API token) readable only by the user (0600), and remove
  both when the stack stops; a registration whose process is gone is ignored and replaced;
- `prepare`: what a session needs from a context — resource folders (a component list exported from
  a cluster is written, cleaned for a standalone daprd, into a private temporary folder), sidecar
  addresses, the API token for each (read from the variables the context names), the Cosmos CA file,
  and the env file's values, applied to this process's environment for the session's lifetime so the
  component resolver and the explorer's own daprd (which inherits it) see the same values.

What it must never do: print, log or put into an error a token, key or any env file value; read an
env file that group or others can read (it is refused with the chmod that fixes it); write the
user's contexts.yaml.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from explorer.core.contexts import (
    Context,
    ContextTable,
    WritePolicy,
    component_documents,
    decide_writes,
    for_standalone_daprd,
    format_env_file,
    parse_contexts,
    parse_env_file,
)
from explorer.dapr.address import address_from_env
from explorer.errors import ContextError

#: Largest contexts or env file read (they are a few KB).
MAX_CONFIG_BYTES = 1 << 20
#: Largest component list read (kubectl exports carry managedFields and last-applied copies).
MAX_COMPONENTS_BYTES = 16 << 20
#: The name `dapr-explorer stack` and `demo` register their stack under (local-2, … when one is running).
LOCAL = "local"


def config_file(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "dapr-explorer" / "contexts.yaml"


def registry_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else Path.home() / ".local" / "state"
    return base / "dapr-explorer" / "contexts.d"


# -- reading ------------------------------------------------------------------------------------------

class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one map (YAML would keep the last silently: a
    `production: true` overridden further down is the mistake this file exists to prevent)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False):
    seen: set = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, (str, int, float, bool)) and key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"'{key}' is given twice in one map", key_node.start_mark)
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_text(path: Path, limit: int, what: str) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise ContextError(f"{path}: {what} not found.") from None
    except OSError as exc:
        raise ContextError(f"{path}: {what} cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    if len(data) > limit:
        raise ContextError(f"{path}: {what} is over {limit >> 20} MiB; is it the right file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContextError(f"{path}: {what} is not UTF-8 text (line {line}).") from None


def _yaml_error(path: Path, exc: Exception, what: str) -> ContextError:
    mark = getattr(exc, "problem_mark", None)
    if isinstance(exc, yaml.YAMLError) and mark is not None:
        problem = (getattr(exc, "problem", None) or "invalid").split(": ")[0]
        return ContextError(f"{path}: {what} is not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}.")
    return ContextError(f"{path}: {what} is not valid YAML ({exc.__class__.__name__}).")


def read_contexts_file(path: Path, registered: bool = False) -> list[Context]:
    """The contexts one file defines; ContextError (file, context, field) when it is wrong."""
    text = _read_text(path, MAX_CONFIG_BYTES, "contexts file")
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except Exception as exc:  # noqa: BLE001 - any YAML failure is one line naming the file
        raise _yaml_error(path, exc, "contexts file") from None
    return parse_contexts(data, str(path), path.parent, Path.home(), registered=registered)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_table(environ: Mapping[str, str] | None = None, strict: bool = True) -> ContextTable:
    """The user's contexts and the live registered ones. A wrong contexts.yaml raises (strict) or becomes
    a problem line; a registered file whose process is gone is skipped."""
    contexts: list[Context] = []
    problems: list[str] = []
    user = config_file(environ)
    if user.is_file():
        try:
            contexts.extend(read_contexts_file(user))
        except ContextError as exc:
            if strict:
                raise
            problems.append(str(exc))
    registry = registry_dir(environ)
    for path in sorted(registry.glob("*.yaml")) if registry.is_dir() else ():
        try:
            found = read_contexts_file(path, registered=True)
        except ContextError as exc:
            problems.append(str(exc))
            continue
        contexts.extend(c for c in found if c.pid is None or _alive(c.pid))
    table = ContextTable(tuple(contexts), tuple(problems))
    return ContextTable(table.contexts, table.problems + table.duplicates())  # a name twice is an error line


def check_private(path: Path, what: str) -> None:
    """Refuse a secrets file that group or others may read (or that is not a regular file)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ContextError(f"{path}: {what} not found.") from None
    except OSError as exc:
        raise ContextError(f"{path}: {what} cannot be read ({exc.strerror or exc.__class__.__name__}).") from None
    if not stat.S_ISREG(info.st_mode):
        raise ContextError(f"{path}: {what} is not a regular file.")
    if info.st_mode & 0o077:
        raise ContextError(f"{path}: {what} holds secrets and is readable by group or others "
                           f"(mode {stat.S_IMODE(info.st_mode):04o}); run: chmod 600 {path}")


def read_env_file(path: Path) -> dict[str, str]:
    check_private(path, "env file")
    return parse_env_file(_read_text(path, MAX_CONFIG_BYTES, "env file"), str(path))


def materialize_components(files: Sequence[str], into: Path) -> Path:
    """Write the Component documents of component list files (kubectl exports, multi-document YAML)
    into `into`, one file per list, cleaned for a standalone daprd; returns `into` (a resources folder)."""
    used: set[str] = set()
    for name in files:
        path = Path(name)
        text = _read_text(path, MAX_COMPONENTS_BYTES, "component list")
        loader = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
        try:
            documents = list(yaml.load_all(text, Loader=loader))
        except Exception as exc:  # noqa: BLE001
            raise _yaml_error(path, exc, "component list") from None
        components = [for_standalone_daprd(c) for c in component_documents(documents, str(path))]
        stem, number = path.stem or "components", 1
        target = f"{stem}.yaml"
        while target in used:
            number += 1
            target = f"{stem}-{number}.yaml"
        used.add(target)
        (into / target).write_text(yaml.safe_dump_all(components, sort_keys=False), encoding="utf-8")
    return into


# -- a session's settings from a context ------------------------------------------------------------------

@dataclass
class Prepared:
    """What one session is opened with. `apply()` puts the env file's values into the environment (the
    component resolver and the explorer's own daprd read them there); `close()` restores it and removes
    the temporary component folder."""

    context: Context | None
    policy: WritePolicy
    resources_paths: list[Path]
    addresses: list[str]
    api_token: str | None  # for addresses with no token of their own
    api_tokens: dict[str, str]  # address -> token
    ca_file: str | None
    env: dict[str, str] = field(default_factory=dict)
    token_variables: dict[str, str] = field(default_factory=dict)  # address -> its token's variable (never the value)
    ru_per_second: float | None = None  # the RU/s budget of long operations (None: unpaced)
    _temp: Path | None = None
    _saved: dict[str, str | None] | None = None

    def __repr__(self) -> str:  # tokens and env values stay out of tracebacks
        name = self.context.name if self.context else None
        return f"Prepared(context={name!r}, addresses={self.addresses!r})"

    @property
    def context_name(self) -> str | None:
        return self.context.name if self.context else None

    def apply(self, environ: MutableMapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        if self._saved is not None:
            return
        self._saved = {name: env.get(name) for name in self.env}
        env.update(self.env)

    def close(self, environ: MutableMapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        if self._saved is not None:
            for name, value in self._saved.items():
                if value is None:
                    env.pop(name, None)
                else:
                    env[name] = value
            self._saved = None
        if self._temp is not None:
            shutil.rmtree(self._temp, ignore_errors=True)
            self._temp = None


def prepare(context: Context | None, *, read_only: bool = False, allow_writes: bool = False,
            resources: Sequence[str] = (), ports: Sequence[int] = (), ca_file: str | None = None,
            environ: Mapping[str, str] | None = None, ru_per_second: float | None = None) -> Prepared:
    """A session's settings: the context's, with what the command line gave winning (`resources`: folders,
    `ports`: sidecar gRPC ports, `ca_file`, `ru_per_second`). Without a context: the command line and the
    environment, as before contexts existed. The RU budget: the command line's, else the context's, else
    DEFAULT_PRODUCTION_RU_PER_SECOND for a production context, else none. Reads the env file (refused unless private) and the component lists."""
    from explorer.components.files import default_resources_paths

    base_env = dict(os.environ if environ is None else environ)
    policy = decide_writes(context, read_only, allow_writes)
    if context is None:
        addresses = [address_from_env(base_env, port=p) for p in ports] or [address_from_env(base_env)]
        return Prepared(None, policy, default_resources_paths(resources), addresses, base_env.get("DAPR_API_TOKEN"), {},
                        ca_file, token_variables=dict.fromkeys(addresses, "DAPR_API_TOKEN"), ru_per_second=ru_per_second)
    env = read_env_file(Path(context.env_file)) if context.env_file else {}
    merged = {**base_env, **env}
    temp: Path | None = None
    try:
        if resources:
            paths = [Path(p) for p in resources]
        else:
            paths = [Path(p) for p in context.resources]
            if context.components:
                temp = Path(tempfile.mkdtemp(prefix=f"dapr-explorer-{context.name}-"))  # 0700
                paths.append(materialize_components(context.components, temp))
        if ports:
            addresses, tokens = [address_from_env(merged, port=p) for p in ports], {}
        elif context.sidecars:
            addresses = [s.address for s in context.sidecars]
            tokens = {s.address: merged[context.token_env(s)] for s in context.sidecars if merged.get(context.token_env(s))}
        else:
            addresses, tokens = [address_from_env(merged)], {}
        variables = dict.fromkeys(addresses, context.token_env())
        if not ports:
            variables.update((s.address, context.token_env(s)) for s in context.sidecars)
    except BaseException:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
        raise
    from explorer.core.ru_budget import DEFAULT_PRODUCTION_RU_PER_SECOND

    budget = ru_per_second or context.ru_per_second or (DEFAULT_PRODUCTION_RU_PER_SECOND if context.production else None)
    return Prepared(context, policy, paths, addresses, merged.get(context.token_env()), tokens,
                    ca_file or context.cosmos_ca_file, env, variables, budget, temp)


# -- the stack's registration ---------------------------------------------------------------------------------

@dataclass
class Registration:
    """A registered context's files; `remove()` deletes them (idempotent)."""

    name: str
    context_file: Path
    env_file: Path

    def remove(self) -> None:
        for path in (self.context_file, self.env_file):
            try:
                path.unlink()
            except FileNotFoundError:
                pass


def _private_write(path: Path, text: str) -> None:
    """Write `text` to a new file only the user can read (0600 from the start, never wider)."""
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _user_names(environ: Mapping[str, str] | None) -> set[str]:
    """The names the user's contexts.yaml defines (none when it is absent or wrong: `contexts` reports that)."""
    try:
        return {c.name for c in read_contexts_file(config_file(environ))} if config_file(environ).is_file() else set()
    except ContextError:
        return set()


def _free_name(registry: Path, environ: Mapping[str, str] | None = None) -> str:
    """`local`, unless a running process registered it or the user's contexts.yaml defines it: then
    local-2, local-3, … (a name both would have is an error for every `--context`)."""
    taken = _user_names(environ)
    number = 1
    while True:
        name = LOCAL if number == 1 else f"{LOCAL}-{number}"
        if name in taken:
            number += 1
            continue
        path = registry / f"{name}.yaml"
        try:
            owner = read_contexts_file(path, registered=True)[0].pid if path.is_file() else None
        except (ContextError, IndexError):
            owner = None  # unreadable: ours to replace
        if owner is None or owner == os.getpid() or not _alive(owner):
            return name
        number += 1


@dataclass(frozen=True)
class StackSite:
    """What registering a running stack writes, given by the stack's command (this module never
    knows the dev stack itself)."""

    env: Mapping[str, str]  # what a client needs to reach the server (URL, key or identity endpoint, CA), in order
    sidecars: Mapping[str, str]  # app-id -> the sidecar's gRPC address
    api_tokens: Mapping[str, str]  # app-id -> the API token its sidecar requires (secured ones only)
    resources_path: Path
    ca_file: Path
    run_dir: Path

    def __repr__(self) -> str:  # the key and tokens stay out of tracebacks
        return f"StackSite(sidecars={dict(self.sidecars)!r}, run_dir={str(self.run_dir)!r})"


def register_stack(site: StackSite, environ: Mapping[str, str] | None = None, color: str = "green") -> Registration:
    """Register the running stack at `site` as the `local` context (or local-N) until `remove()`: its
    component folder, every sidecar (a secured one with its token variable), the CA, and an env file
    (0600) with what a client needs (`site.env`) and the tokens."""
    registry = registry_dir(environ)
    try:
        registry.mkdir(parents=True, exist_ok=True)
        os.chmod(registry, 0o700)
        return _register(site, registry, color, environ)
    except OSError as exc:
        raise ContextError(f"cannot register the local stack as a context in {registry} "
                           f"({exc.strerror or exc.__class__.__name__}); set XDG_STATE_HOME to a folder you can write.") from None


def _register(site: StackSite, registry: Path, color: str, environ: Mapping[str, str] | None) -> Registration:
    name = _free_name(registry, environ)
    values = dict(site.env)
    sidecars: list[object] = []
    for app_id, address in site.sidecars.items():
        token = site.api_tokens.get(app_id)
        if token:
            var = "DAPR_EXPLORER_TOKEN_" + "".join(c if c.isalnum() else "_" for c in app_id).upper()
            values[var] = token
            sidecars.append({"address": address, "api_token_env": var})
        else:
            sidecars.append(address)
    env_file = registry / f"{name}.env"
    context_file = registry / f"{name}.yaml"
    _private_write(env_file, format_env_file(values))
    fields = {"description": f"the local stack of dapr-explorer (process {os.getpid()}; logs in {site.run_dir})",
              "resources": [str(site.resources_path.resolve())], "sidecars": sidecars,
              "cosmos_ca_file": str(site.ca_file), "env_file": str(env_file), "color": color,
              "pid": os.getpid()}
    _private_write(context_file, yaml.safe_dump({"contexts": {name: fields}}, sort_keys=False))
    return Registration(name, context_file, env_file)
