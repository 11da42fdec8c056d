"""Dapr component files: find, parse and resolve them the way daprd does.

What it is for: turning the YAML under a resources path into typed `Component`
records, and resolving a metadata value (plain, `envRef`, `secretKeyRef` against
local.env / local.file secret stores) on request.

What it must never do: print or log a resolved secret. `Component.masked()` and
`is_secret_field()` are how every caller shows values; nothing here writes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from explorer.errors import ComponentError

SECRET_FIELD_PATTERN = re.compile(r"(key|secret|password|token|credential)", re.IGNORECASE)
ENV_TEMPLATE_PATTERN = re.compile(r"^\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
MASK = "••••••"


def is_secret_field(name: str) -> bool:
    """True for fields whose values must never be shown (masterKey, tokens, …)."""
    # "partitionKey" and "keyPrefix" name routing settings, not secrets.
    if name in {"partitionKey", "keyPrefix", "azureClientId", "azureTenantId"}:
        return False
    return bool(SECRET_FIELD_PATTERN.search(name))


@dataclass(frozen=True)
class MetadataValue:
    """One `spec.metadata` entry as written: exactly one of value/env_ref/secret_ref."""

    name: str
    value: str | None = None
    env_ref: str | None = None
    secret_name: str | None = None
    secret_key: str | None = None

    @property
    def source(self) -> str:
        if self.env_ref is not None:
            return "envRef"
        if self.secret_name is not None:
            return "secretKeyRef"
        return "value"

    def env_template(self) -> str | None:
        """The VAR of a literal "{env:VAR}" value, which Dapr does not expand."""
        if self.value is None:
            return None
        match = ENV_TEMPLATE_PATTERN.match(self.value.strip())
        return match.group(1) if match else None


@dataclass(frozen=True)
class Component:
    """A Dapr Component document and where it came from."""

    name: str
    type: str
    version: str
    metadata: tuple[MetadataValue, ...]
    source: Path
    secret_store: str | None = None
    scopes: tuple[str, ...] = ()
    annotations: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_state_store(self) -> bool:
        return self.type.startswith("state.")

    @property
    def is_cosmos(self) -> bool:
        return self.type == "state.azure.cosmosdb"

    @property
    def is_secret_store(self) -> bool:
        return self.type.startswith("secretstores.")

    def get(self, name: str) -> MetadataValue | None:
        for item in self.metadata:
            if item.name.lower() == name.lower():
                return item
        return None

    def plain(self, name: str, default: str | None = None) -> str | None:
        """A field's literal value (no resolution); for non-secret settings."""
        item = self.get(name)
        if item is None or item.value is None:
            return default
        return item.value

    def masked(self) -> dict[str, str]:
        """Every metadata field as it may be shown: secrets and refs never resolved."""
        shown: dict[str, str] = {}
        for item in self.metadata:
            if item.env_ref is not None:
                shown[item.name] = f"envRef {item.env_ref}"
            elif item.secret_name is not None:
                shown[item.name] = f"secretKeyRef {item.secret_name}/{item.secret_key or item.secret_name}"
            elif is_secret_field(item.name):
                shown[item.name] = MASK
            else:
                shown[item.name] = item.value or ""
        return shown


def _parse_metadata(raw: object, where: str) -> tuple[MetadataValue, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ComponentError(f"{where}: spec.metadata must be a list of name/value entries")
    items: list[MetadataValue] = []
    for entry in raw:
        if not isinstance(entry, dict) or "name" not in entry:
            raise ComponentError(f"{where}: every spec.metadata entry needs a 'name'")
        name = str(entry["name"])
        ref = entry.get("secretKeyRef")
        if isinstance(ref, dict):
            items.append(
                MetadataValue(name=name, secret_name=str(ref.get("name", "")), secret_key=ref.get("key"))
            )
        elif entry.get("envRef") is not None:
            items.append(MetadataValue(name=name, env_ref=str(entry["envRef"])))
        else:
            value = entry.get("value")
            items.append(MetadataValue(name=name, value=None if value is None else str(value)))
    return tuple(items)


def parse_components(text: str, source: Path) -> list[Component]:
    """Every kind: Component document in one YAML file; other kinds are skipped."""
    try:
        documents = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise ComponentError(f"{source}: not valid YAML ({exc}). Fix the file or move it out of the resources path.") from exc
    found: list[Component] = []
    for doc in documents:
        if not isinstance(doc, dict) or doc.get("kind") != "Component":
            continue
        meta = doc.get("metadata") or {}
        spec = doc.get("spec") or {}
        name = meta.get("name")
        where = f"{source} (component {name or '?'})"
        if not name or not spec.get("type"):
            raise ComponentError(f"{where}: a Component needs metadata.name and spec.type")
        auth = doc.get("auth") or {}
        found.append(
            Component(
                name=str(name),
                type=str(spec["type"]),
                version=str(spec.get("version", "v1")),
                metadata=_parse_metadata(spec.get("metadata"), where),
                source=source,
                secret_store=auth.get("secretStore"),
                scopes=tuple(str(s) for s in doc.get("scopes") or ()),
                annotations={str(k): str(v) for k, v in (meta.get("annotations") or {}).items()},
            )
        )
    return found


def load_components(paths: Iterable[Path]) -> list[Component]:
    """All components under the given resources paths, in file-name order."""
    components: list[Component] = []
    for root in paths:
        if not root.is_dir():
            raise ComponentError(f"resources path {root} is not a folder. Pass --resources-path with a folder of Dapr component YAML.")
        for path in sorted(root.iterdir()):
            if path.suffix.lower() in {".yaml", ".yml"} and path.is_file():
                components.extend(parse_components(path.read_text(encoding="utf-8"), path))
    return components


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
