"""Property-based differential fidelity: ≥ 1,000 random round trips against the real daprd.

Each round trip (tests/fidelity.py): an app saves a random original value through daprd (HTTP for
JSON, gRPC for bytes), the explorer edits it to a random new value of the same shape through its
one write path, Dapr's own write of that new value replaces it, and the two documents must be equal
(all fields but the system ones; ttl compared as an instant for "keep"), with exactly one item per
id. Values: every JSON type, nested, unicode (outside the BMP too, quotes, backslashes, control
characters), integers up to 2**53, floats, and raw bytes. Rotates through every keyPrefix mode,
TTL choice and with/without a custom partitionKey.

Run: .venv/bin/python bench/fidelity_property.py [--count 1000] [--seed 1] [--smoke]
Prints the number of round trips and mismatches; exits 1 on any mismatch. Loopback only; it starts
and stops its own stack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.smoke import smoke_args  # noqa: E402
from tests.fidelity import (  # noqa: E402
    PREFIX_MODES, TTL_CHOICES, explorer_session, fidelity_stack, round_trip, unique_key,
)

ALPHABET = ("abcXYZ019 _-.:/\\\"'<>&%#?\n\t" "éüßø" "中文字" "🤖😀𝔘" "\u00a0\u200b\u0007")


def random_text(rng: random.Random, longest: int = 12) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, longest)))


def random_json(rng: random.Random, kind: str | None = None, depth: int = 0):
    kinds = ["object", "array", "string", "int", "float", "bool", "null"]
    kind = kind or rng.choice(kinds if depth < 4 else kinds[2:])
    if kind == "object":
        return {random_text(rng, 8) + str(i): random_json(rng, None, depth + 1) for i in range(rng.randint(0, 5))}
    if kind == "array":
        return [random_json(rng, None, depth + 1) for _ in range(rng.randint(0, 5))]
    if kind == "string":
        return random_text(rng, 40)
    if kind == "int":
        return rng.choice([rng.randint(-1000, 1000), rng.randint(-(2**53), 2**53)])
    if kind == "float":
        return round(rng.uniform(-1e6, 1e6), rng.randint(0, 6)) + 0.5  # never a whole number: stays a float
    if kind == "bool":
        return rng.random() < 0.5
    return None


def random_bytes(rng: random.Random) -> bytes:
    """Non-empty bytes that are not a JSON object (Dapr stores those as JSON, not as bytes)."""
    while True:
        if rng.random() < 0.3:  # bytes that happen to be valid JSON, but not an object
            data = json.dumps(random_json(rng, rng.choice(["array", "string", "int", "bool"]))).encode()
        else:
            data = bytes(rng.randrange(256) for _ in range(rng.randint(1, 48)))
        try:
            if isinstance(json.loads(data), dict):
                continue
        except ValueError:
            pass
        return data


def encode(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def run(count: int, seed: int) -> int:
    rng = random.Random(seed)
    modes = list(PREFIX_MODES)
    done = 0
    mismatches: list[str] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="fidelity-property-") as folder, fidelity_stack(Path(folder)) as stack:
        async with explorer_session(stack) as session:
            locations = {mode: await session.location(f"fid-{mode}") for mode in modes}
            for i in range(count):
                mode = modes[i % len(modes)]
                choice = TTL_CHOICES[(i // len(modes)) % len(TTL_CHOICES)]
                custom_partition = (i // (len(modes) * len(TTL_CHOICES))) % 2 == 1
                if rng.random() < 0.15:
                    binary, original, new = True, random_bytes(rng), random_bytes(rng)
                else:
                    kind = rng.choice(["object", "array", "string", "int", "float", "bool", "null"])
                    binary, original, new = False, encode(random_json(rng, kind)), encode(random_json(rng, kind))
                key = unique_key("prop", str(i))
                found = await round_trip(stack, session, locations[mode], mode, key, original, new, binary, choice,
                                         custom_partition)
                mismatches += [f"{f} (original {original[:80]!r}, new {new[:80]!r})" for f in found]
                done += 1
    seconds = time.monotonic() - started
    for line in mismatches[:10]:
        print("MISMATCH", line)
    print(f"fidelity property run: {done} round trips, {len(mismatches)} mismatches "
          f"(seed {seed}, {seconds:.0f} s, {len(modes)} keyPrefix modes x {len(TTL_CHOICES)} TTL choices x 2 partitionings)")
    return 1 if mismatches or done < count else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = smoke_args(parser, count=len(PREFIX_MODES) * len(TTL_CHOICES) * 2)  # each mode x TTL x partitioning once
    return asyncio.run(run(args.count, args.seed))


if __name__ == "__main__":
    raise SystemExit(main())
