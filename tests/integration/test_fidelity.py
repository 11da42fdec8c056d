"""Differential fidelity: the document after the explorer's edit equals the one Dapr's own write of
that value produces, for every value shape, keyPrefix mode, TTL choice and partitioning (the round
trip itself is described in tests/fidelity.py; bench/fidelity_property.py runs it on random values).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fidelity import PREFIX_MODES, TTL_CHOICES, explorer_session, fidelity_stack, round_trip, unique_key

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Shape:
    name: str
    original: bytes  # JSON text, or raw bytes when binary
    new: bytes
    binary: bool = False


SHAPES = [
    Shape("object", b'{"a":1,"b":"x"}', b'{"a":2,"c":[1,2]}'),
    Shape("nested-object", b'{"o":{"p":{"q":[1,{"r":null}]}}}', b'{"o":{"p":{"q":[2,{"r":true}]},"s":"t"}}'),
    Shape("empty-object", b"{}", b"{}"),
    Shape("array", b'[1,"two",{"three":3}]', b'[4,5,["six"]]'),
    Shape("unicode-string", '"héllo 🤖 𝔘 \\u00e9"'.encode(), '"wörld 中文 😀"'.encode()),
    Shape("empty-string", b'""', b'""'),
    Shape("integer", b"42", b"-43"),
    # beyond 2**53 but exact in a float64, as Dapr keeps numbers (Go's encoding/json); an integer a
    # float64 cannot hold is refused by the explorer's input check (core.display.parse_json_edit)
    Shape("large-integer", b"1152921504606846976", b"4611686018427387904"),
    Shape("float", b"3.14", b"2.5e-8"),
    Shape("boolean", b"true", b"false"),
    Shape("null", b"null", b"null"),
    Shape("binary-bytes", b"\x00\xff\x10binary\x80", b"\x01\x02\xfe", binary=True),
    Shape("bytes-that-are-json", b"[1,2,3]", b'"just text"', binary=True),
]


def _agents_values() -> list[Shape]:
    """What dapr-agents 1.0.9 really wrote on the stack (tests/unit/recorded/): a memory array and a
    registry entry, each edited the way a user would (one message changed; the role changed)."""
    recorded = json.loads((Path(__file__).parents[1] / "unit" / "recorded" / "dapr-agents-1.0.9.json").read_text())
    documents = [d for store in recorded["documents"].values() for d in store]
    memory = next(d["value"] for d in documents if ":_memory_" in d["id"])
    registry = next(d["value"] for d in documents if d["id"].endswith(":Weather Bot"))
    edited_memory = [dict(m, content=f"{m.get('content')} (edited)") if n == 0 else m for n, m in enumerate(memory)]
    edited_registry = {**registry, "role": "Senior weather forecaster"}

    def text(value) -> bytes:
        return json.dumps(value, ensure_ascii=False).encode()

    return [Shape("dapr-agents-memory-array", text(memory), text(edited_memory)),
            Shape("dapr-agents-registry-entry", text(registry), text(edited_registry))]


SHAPES += _agents_values()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with fidelity_stack(tmp_path_factory.mktemp("fidelity")) as local:
        yield local


@pytest.fixture(scope="module")
async def session(stack):
    async with explorer_session(stack) as opened:
        yield opened


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: s.name)
@pytest.mark.parametrize("mode", list(PREFIX_MODES))
async def test_explorer_edit_equals_daprs_own_write(stack, session, mode, shape):
    location = await session.location(f"fid-{mode}")
    mismatches = []
    for choice in TTL_CHOICES:
        for custom_partition in (False, True):
            key = unique_key(shape.name, choice.mode.value, "pk" if custom_partition else "id")
            mismatches += await round_trip(stack, session, location, mode, key, shape.original, shape.new,
                                           shape.binary, choice, custom_partition)
    assert not mismatches, "\n".join(mismatches)
