"""The component model: a Dapr Component document as the explorer reads it (`Component`, its
`MetadataValue`s) and the rule that says which fields are secrets (`is_secret_field`, `MASK`).

What it is for: the values the loader (explorer.components.files) builds and the doctor, the store
list and the screens read. What it must never do: read a file, resolve a value, or show a secret:
`Component.masked()` and `is_secret_field()` are how every caller shows values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# "certificate": azureCertificate holds a PEM or PFX with its private key.
SECRET_FIELD_PATTERN = re.compile(r"(key|secret|password|token|credential|certificate)", re.IGNORECASE)
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
