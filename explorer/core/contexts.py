"""Named contexts: the environments a support engineer works in, and which of them may be written.

What it is for: turning the YAML of a contexts file, already loaded, into typed `Context` records
(resource folders or a component list exported from a cluster, sidecar endpoints, the *names* of
the environment variables that hold API tokens, the Cosmos CA file, an env file of VAR=value lines,
`read_only`, `production`, a colour, an RU/s budget) with one clear error per bad field, naming the
file, the context and the field; picking the Component documents out of a component list
(`kubectl get components.dapr.io -o yaml` gives a `kind: List` with `items`; a multi-document YAML
file is a list too) and cleaning them so a standalone daprd loads them; deciding whether a session
may write (`decide_writes`: a production context is read-only unless started with
`--allow-writes`, and then every write needs the context's name typed, `typed_name_matches`); and
parsing env files.

What it must never do: I/O of any kind (callers read files and the environment), or put a field's
value into an error message or a listing — a value in the wrong field may be a secret (a token
pasted where its variable's name belongs). Only names, kinds and paths are ever shown.
"""

from __future__ import annotations

import difflib
import os.path
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from explorer.core.display import kind_words as _kind
from explorer.errors import ContextError

#: The variable a sidecar's token is read from when neither the sidecar nor the context names one.
DEFAULT_TOKEN_ENV = "DAPR_API_TOKEN"

# \Z, not $: `$` also matches before a final newline, which would let "prod\n" through as a name.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}\Z")
ENV_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")

#: Fields of a context, each with what it holds (for "unknown field" hints and the docs).
FIELDS = {
    "description": "a line of text",
    "resources": "folders of Dapr component YAML",
    "components": "component list files (kubectl get components.dapr.io -o yaml, or multi-document YAML)",
    "sidecars": "sidecar gRPC endpoints: host:port, or {address, api_token_env}",
    "api_token_env": "the name of the environment variable holding the sidecars' Dapr API token",
    "cosmos_ca_file": "a CA bundle for Cosmos TLS",
    "env_file": "a file of VAR=value lines loaded for this context (envRef, local.env secrets, tokens)",
    "read_only": "true/false",
    "production": "true/false",
    "color": "a colour name or #rrggbb",
    "ru_per_second": "an RU-per-second budget for long operations",
}
#: Set only in a registered context's file (by `dapr-explorer stack`/`demo`): the registering process.
REGISTERED_FIELDS = {"pid": "the process that registered the context"}
#: Fields people write expecting them to hold a secret: refused with what to do instead.
SECRET_FIELDS = {"api_token", "token", "dapr_api_token", "master_key", "masterkey", "key", "password"}

#: metadata fields the API server adds to every object; daprd needs none of them.
_SERVER_FIELDS = ("namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                  "selfLink", "ownerReferences", "finalizers")
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


@dataclass(frozen=True)
class SidecarEndpoint:
    """One sidecar a context reaches: its gRPC address and (optionally) its own token variable."""

    address: str
    api_token_env: str | None = None  # None: the context's api_token_env, else DAPR_API_TOKEN


@dataclass(frozen=True)
class Context:
    """One named environment. Paths are absolute (resolved against the folder of the file that
    defines them); tokens are never held, only the names of the variables that hold them."""

    name: str
    source: str  # the file it was read from
    registered: bool = False  # written by `dapr-explorer stack`/`demo` while it runs, not by the user
    description: str | None = None
    resources: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    sidecars: tuple[SidecarEndpoint, ...] = ()
    api_token_env: str | None = None
    cosmos_ca_file: str | None = None
    env_file: str | None = None
    read_only: bool = False
    production: bool = False
    color: str | None = None
    ru_per_second: float | None = None  # None: not set (the lead's default applies to production contexts)
    pid: int | None = None

    def token_env(self, endpoint: SidecarEndpoint | None = None) -> str:
        """The variable whose value is sent as `dapr-api-token` to `endpoint` (or to any sidecar)."""
        if endpoint is not None and endpoint.api_token_env:
            return endpoint.api_token_env
        return self.api_token_env or DEFAULT_TOKEN_ENV

    def token_envs(self) -> tuple[str, ...]:
        """Every token variable this context names (for a listing: names only, never values)."""
        names = [self.token_env(s) for s in self.sidecars] or [self.token_env()]
        return tuple(dict.fromkeys(names))

    def to_json(self) -> dict[str, Any]:
        """What `dapr-explorer contexts --json` prints: where it came from and what it names, never a secret."""
        return {
            "name": self.name, "source": self.source, "registered": self.registered, "description": self.description,
            "resources": list(self.resources), "components": list(self.components),
            "sidecars": [{"address": s.address, "apiTokenEnv": self.token_env(s)} for s in self.sidecars],
            "apiTokenEnv": self.token_env(), "cosmosCaFile": self.cosmos_ca_file, "envFile": self.env_file,
            "readOnly": self.read_only, "production": self.production, "color": self.color,
            "ruPerSecond": self.ru_per_second,
        }


# -- parsing -----------------------------------------------------------------------------------------

class _Where:
    """Builds the one-line errors of one context: file, context, field."""

    def __init__(self, source: str, name: str):
        self.source, self.name = source, name

    def error(self, field_name: str, text: str) -> ContextError:
        return ContextError(f"{self.source}: context '{self.name}': field '{field_name}' {text}")


def _path(text: str, base_dir: PurePath, home: PurePath) -> str:
    """A path as written, absolute: `~/` is the home folder, a relative path is the file's folder's."""
    if text == "~" or text.startswith("~/"):
        path = home / text[2:] if len(text) > 1 else home
    else:
        path = PurePath(text)
        path = path if path.is_absolute() else base_dir / path
    return os.path.normpath(str(path))


def _paths(value: object, where: _Where, field_name: str, base_dir: PurePath, home: PurePath) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise where.error(field_name, f"must be a path or a list of paths, not {_kind(value)}.")
    out = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, str) or not item.strip():
            raise where.error(field_name, f"entry {number} must be a path (text), not {_kind(item)}.")
        out.append(_path(item.strip(), base_dir, home))
    return tuple(out)


def _one_path(value: object, where: _Where, field_name: str, base_dir: PurePath, home: PurePath) -> str:
    if not isinstance(value, str) or not value.strip():
        raise where.error(field_name, f"must be a file path (text), not {_kind(value)}.")
    return _path(value.strip(), base_dir, home)


def _env_name(value: object, where: _Where, field_name: str) -> str:
    if not isinstance(value, str) or not ENV_NAME_PATTERN.match(value):
        what = "text that is not one" if isinstance(value, str) else _kind(value)
        raise where.error(field_name, f"must be the NAME of an environment variable (letters, digits, _), not {what}; "
                                      "the token itself goes in that variable, never in this file.")
    return value


def parse_address(value: object) -> str | None:
    """A sidecar's gRPC address as host:port (a bare port means 127.0.0.1; http:// and https:// are
    dropped); None when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"127.0.0.1:{value}" if 0 < value < 65536 else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    for scheme in ("http://", "https://"):
        if text.startswith(scheme):
            text = text[len(scheme):]
    text = text.rstrip("/")
    if text.isdigit():
        text = f"127.0.0.1:{text}"
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c.isspace() for c in host):
        return None
    return text


def _sidecars(value: object, where: _Where) -> tuple[SidecarEndpoint, ...]:
    if not isinstance(value, list):
        raise where.error("sidecars", f"must be a list of host:port (or {{address, api_token_env}}), not {_kind(value)}.")
    out = []
    for number, entry in enumerate(value, start=1):
        token_env = None
        if isinstance(entry, Mapping):
            unknown = sorted(set(map(str, entry)) - {"address", "api_token_env"})
            if unknown:
                raise where.error("sidecars", f"entry {number} has an unknown field '{unknown[0]}' "
                                              "(a sidecar entry has address and api_token_env).")
            if "api_token_env" in entry:
                token_env = _env_name(entry["api_token_env"], where, f"sidecars entry {number} api_token_env")
            address = parse_address(entry.get("address"))
        else:
            address = parse_address(entry)
        if address is None:
            raise where.error("sidecars", f"entry {number} must be a gRPC address host:port (port 1-65535), "
                                          f"not {_kind(entry.get('address') if isinstance(entry, Mapping) else entry)} "
                                          "that is not one.")
        out.append(SidecarEndpoint(address, token_env))
    return tuple(out)


def _flag(value: object, where: _Where, field_name: str) -> bool:
    if not isinstance(value, bool):
        raise where.error(field_name, f"must be true or false, not {_kind(value)}.")
    return value


def _colour(value: object, where: _Where) -> str:
    from rich.color import Color, ColorParseError

    if not isinstance(value, str):
        raise where.error("color", f"must be a colour name (red, dark_orange, …) or #rrggbb, not {_kind(value)}.")
    try:
        Color.parse(value.strip())
    except ColorParseError:
        raise where.error("color", "is not a colour: use a name such as red, green, dark_orange, or #rrggbb.") from None
    return value.strip()


def _budget(value: object, where: _Where) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value != value:
        raise where.error("ru_per_second", f"must be a positive number of request units per second, not {_kind(value)}"
                                           + (" that is not positive" if isinstance(value, (int, float))
                                              and not isinstance(value, bool) else "") + ".")
    if value == float("inf"):
        raise where.error("ru_per_second", "must be a finite number; leave it out for no budget.")
    return float(value)


def _unknown_field(name: str, where: _Where, allowed: Iterable[str]) -> ContextError:
    if name.lower() in SECRET_FIELDS:
        return where.error(name, "is not a context field, and secrets never go in this file: put the value in an "
                                 "environment variable (or the context's env_file, readable only by you) and name "
                                 "the variable in api_token_env.")
    close = difflib.get_close_matches(name, list(allowed), n=1)
    hint = f" Did you mean '{close[0]}'?" if close else f" Known fields: {', '.join(allowed)}."
    return where.error(name, f"is not a context field.{hint}")


def parse_context(name: object, data: object, source: str, base_dir: PurePath, home: PurePath,
                  registered: bool = False) -> Context:
    """One context's fields (a map) → Context; ContextError naming file, context and field."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        shown = f"'{name}'" if isinstance(name, str) and len(name) <= 64 and name.isprintable() else _kind(name)
        raise ContextError(f"{source}: context name {shown} must be letters, digits, '.', '_' or '-' "
                           "(at most 63, starting with a letter or digit).")
    where = _Where(source, name)
    if not isinstance(data, Mapping):
        raise ContextError(f"{source}: context '{name}' must be a map of fields ({', '.join(FIELDS)}), not {_kind(data)}.")
    allowed = {**FIELDS, **(REGISTERED_FIELDS if registered else {})}
    for key in data:
        if not isinstance(key, str) or key not in allowed:
            raise _unknown_field(str(key), where, allowed)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if value is None:
            continue  # `color:` with nothing after it: as if absent
        if key == "description":
            if not isinstance(value, str):
                raise where.error(key, f"must be text, not {_kind(value)}.")
            values[key] = value.strip()
        elif key in {"resources", "components"}:
            values[key] = _paths(value, where, key, base_dir, home)
        elif key == "sidecars":
            values[key] = _sidecars(value, where)
        elif key == "api_token_env":
            values[key] = _env_name(value, where, key)
        elif key in {"cosmos_ca_file", "env_file"}:
            values[key] = _one_path(value, where, key, base_dir, home)
        elif key in {"read_only", "production"}:
            values[key] = _flag(value, where, key)
        elif key == "color":
            values[key] = _colour(value, where)
        elif key == "ru_per_second":
            values[key] = _budget(value, where)
        elif key == "pid":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise where.error(key, f"must be a process id, not {_kind(value)}.")
            values[key] = value
    if not values.get("resources") and not values.get("components"):
        raise ContextError(f"{source}: context '{name}' names no component files: give 'resources' (folders of "
                           "component YAML) or 'components' (a file exported with kubectl get components.dapr.io -o yaml).")
    return Context(name=name, source=source, registered=registered, **values)


def parse_contexts(data: object, source: str, base_dir: PurePath, home: PurePath,
                   registered: bool = False) -> list[Context]:
    """A whole contexts file, already loaded from YAML (None: an empty file) → its contexts.

    The file is a map with one key, `contexts`, a map of name → fields."""
    if data is None:
        return []
    if not isinstance(data, Mapping):
        raise ContextError(f"{source}: must be a map with 'contexts:' (a map of name → fields), not {_kind(data)}.")
    for key in data:
        if key != "contexts":
            close = difflib.get_close_matches(str(key), ["contexts"], n=1)
            raise ContextError(f"{source}: top-level field '{key}' is not known; the file holds 'contexts:' only"
                               + (" (did you mean 'contexts'?)." if close else "."))
    contexts = data.get("contexts")
    if contexts is None:
        return []
    if not isinstance(contexts, Mapping):
        raise ContextError(f"{source}: 'contexts' must be a map of name → fields, not {_kind(contexts)}.")
    return [parse_context(name, fields, source, base_dir, home, registered) for name, fields in contexts.items()]


# -- choosing ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContextTable:
    """Every context known: the user's and the registered ones; `problems` are files that could not be read."""

    contexts: tuple[Context, ...] = ()
    problems: tuple[str, ...] = ()

    def names(self) -> list[str]:
        return sorted({c.name for c in self.contexts})

    def duplicates(self) -> tuple[str, ...]:
        """One line per name that more than one context has (two files, or a registration and the user's
        file): such a name is an error, never a silent choice, so `contexts` says so and `--context` refuses it."""
        by_name: dict[str, list[Context]] = {}
        for context in self.contexts:
            by_name.setdefault(context.name, []).append(context)
        return tuple(_defined_twice(name, found) for name, found in sorted(by_name.items()) if len(found) > 1)

    def pick(self, name: str) -> Context:
        """The context called `name`; ContextError when none is, or when two files define it."""
        found = [c for c in self.contexts if c.name == name]
        if len(found) > 1:
            raise ContextError(_defined_twice(name, found))
        if found:
            return found[0]
        known = self.names()
        close = difflib.get_close_matches(name, known, n=1)
        text = f"no context named '{name}'"
        text += f" (did you mean '{close[0]}'?)" if close else ""
        text += f"; known: {', '.join(known)}." if known else "; no contexts are defined."
        if self.problems:
            text += f" ({len(self.problems)} contexts file(s) could not be read: {self.problems[0]})"
        raise ContextError(text)


def _defined_twice(name: str, found: Sequence[Context]) -> str:
    sources = list(dict.fromkeys(c.source for c in found))
    where = f"{len(found)} times in {sources[0]}" if len(sources) == 1 else " and in ".join(sources)
    return f"context '{name}' is defined {'in ' if len(sources) > 1 else ''}{where}; rename one of them."


# -- writes: production guard ------------------------------------------------------------------------

@dataclass(frozen=True)
class WritePolicy:
    """Whether a session may write, why not, and the name to type before each write."""

    read_only: bool
    reason: str | None = None  # why read-only, in words (None: writable, or plain --read-only)
    confirm_name: str | None = None  # type this before every write (production with --allow-writes)


def decide_writes(context: Context | None, read_only_flag: bool, allow_writes: bool) -> WritePolicy:
    """--read-only always wins; a context with `read_only: true` cannot be written (--allow-writes does not
    lift it); a production context is read-only unless --allow-writes, and then every write asks for its
    name. Without a context, --allow-writes changes nothing."""
    if read_only_flag:
        return WritePolicy(True, "started with --read-only")
    if context is None:
        return WritePolicy(False)
    if context.read_only:
        return WritePolicy(True, f"context '{context.name}' is read_only ({context.source})")
    if context.production:
        if not allow_writes:
            return WritePolicy(True, f"context '{context.name}' is production: writes need --allow-writes")
        return WritePolicy(False, confirm_name=context.name)
    return WritePolicy(False)


def typed_name_matches(expected: str, typed: str | None) -> bool:
    """Whether what the user typed is the context's name: exact, after trimming the line's ends. None (EOF)
    or anything else is a refusal: no case folding, no prefix — this check exists to stop a slip."""
    return typed is not None and typed.strip() == expected


# -- component lists (kubectl exports) ----------------------------------------------------------------

def component_documents(documents: Sequence[object], source: str) -> list[dict]:
    """The Component documents of a component list file: a `kind: List` (kubectl … -o yaml) with `items`,
    Component documents of a multi-document file, or both; other kinds are skipped. ContextError when a
    List's items is not a list or the file holds no Component."""
    found: list[dict] = []
    for number, doc in enumerate(documents, start=1):
        if not isinstance(doc, Mapping):
            continue
        kind = doc.get("kind")
        if isinstance(kind, str) and kind.endswith("List") and "items" in doc:
            items = doc.get("items")
            if not isinstance(items, list):
                raise ContextError(f"{source}: document {number} is a {kind} whose 'items' is {_kind(items)}, not a list.")
            found.extend(dict(item) for item in items if isinstance(item, Mapping) and item.get("kind") == "Component")
        elif kind == "Component":
            found.append(dict(doc))
    if not found:
        raise ContextError(f"{source}: holds no Dapr Component (expected the output of `kubectl get components.dapr.io "
                           "-o yaml`, or Component documents separated by ---).")
    return found


def for_standalone_daprd(component: Mapping) -> dict:
    """A Component exported from a cluster, as a standalone daprd loads it: without the fields the API
    server adds — `metadata.namespace` above all, since a standalone daprd skips a component whose
    namespace is not its own — and without kubectl's last-applied copy of the whole object."""
    out = dict(component)
    meta = out.get("metadata")
    if isinstance(meta, Mapping):
        meta = {k: v for k, v in meta.items() if k not in _SERVER_FIELDS}
        annotations = meta.get("annotations")
        if isinstance(annotations, Mapping):
            annotations = {k: v for k, v in annotations.items() if k != _LAST_APPLIED}
            if annotations:
                meta["annotations"] = annotations
            else:
                meta.pop("annotations")
        out["metadata"] = meta
    out.pop("status", None)
    return out


# -- env files ----------------------------------------------------------------------------------------

def parse_env_file(text: str, source: str) -> dict[str, str]:
    """VAR=value lines (blank lines and # comments skipped; `export ` allowed; a value in matching single or
    double quotes loses them). ContextError naming the line, never its value."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not ENV_NAME_PATTERN.match(name):
            raise ContextError(f"{source}: line {number} is not VAR=value (a variable name of letters, digits and _, "
                               "then '=').")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def format_env_file(values: Mapping[str, str]) -> str:
    """The text `parse_env_file` reads back as `values` (values are quoted when they hold spaces or #)."""
    lines = ["# written by dapr-explorer; readable only by you. Removed when the stack stops."]
    for name, value in values.items():
        if not ENV_NAME_PATTERN.match(name) or "\n" in value:
            raise ValueError(f"cannot write variable {name!r} to an env file")
        quoted = value if value == value.strip() and not any(c in value for c in " #'\"") else f"'{value}'"
        if "'" in value:
            if '"' in value:
                raise ValueError(f"cannot quote variable {name!r} for an env file")
            quoted = f'"{value}"'
        lines.append(f"{name}={quoted}")
    return "\n".join(lines) + "\n"


# -- the TUI's header ------------------------------------------------------------------------------------

def header_colours(colour: str | None, production: bool) -> tuple[str, str]:
    """(text, background) as #rrggbb for a context's header line: the context's colour (red for a
    production context without one, blue otherwise) behind black or white text, whichever reads on it."""
    from rich.color import Color, ColorParseError

    try:
        triplet = Color.parse(colour or ("#d70000" if production else "#005fd7")).get_truecolor()
    except ColorParseError:
        triplet = Color.parse("#005fd7").get_truecolor()
    luminance = 0.2126 * triplet.red + 0.7152 * triplet.green + 0.0722 * triplet.blue
    return ("#000000" if luminance > 140 else "#ffffff"), triplet.hex
