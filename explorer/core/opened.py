"""A key as the session opens it for a face: the document, how Dapr reads it, and the ids a
search by text found.

What it is for: the values `open_key`, `check_through_dapr` and `find_id` return across the seam.
What it must never do: I/O, or import anything outside the core and explorer.errors.
"""

from __future__ import annotations

from dataclasses import dataclass

from explorer.core.model import KeyValue


@dataclass(frozen=True)
class OpenedKey:
    """A key as the editor shows it: the Cosmos document, and how Dapr reads it."""

    key: KeyValue
    read_through: str  # "Dapr (agent-registry)" or "Cosmos point read (…why not Dapr)"
    warnings: tuple[str, ...] = ()
    dapr_app: str | None = None  # the app whose sidecar reads this key (None: none can)
    dapr_checked: bool = False  # `check_through_dapr` has answered; read_through and warnings say what it found

    @classmethod
    def asking_dapr(cls, key: KeyValue, app: str) -> OpenedKey:
        """`key` as read from Cosmos, with `app`'s sidecar still to be asked (`check_through_dapr`)."""
        return cls(key, f"Cosmos point read; asking Dapr ({app})…", dapr_app=app)


@dataclass(frozen=True)
class FoundId:
    doc_id: str
    partition: str
