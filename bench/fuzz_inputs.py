"""Reliability figure R6: feed the pure input handlers many generated inputs and count crashes.

What it is for: a rerunnable check (not a test) that the component loader, the Cosmos id
parser, the value decoder, the expiry functions and `--ttl` parsing never fail with anything
but the errors they document. Each run is reproducible from `--seed`; `--count` is the total
number of inputs, split over the targets. Prints one line per target (inputs, expected errors,
unexpected exceptions) and a total; exits 1 if anything unexpected happened, showing the first
few with their input (repr, truncated).

Expected: any `explorer.errors.ExplorerError`; `document_id`'s documented ValueErrors (a key
containing '||', name/custom prefix modes without a name/prefix), each counted by reason;
`ttl_to_keep_instant`'s documented ValueError for a NaN `now` or `_ts`. For `load_resources`
(which never raises) the expected errors are the files it reported a problem for. Also counted
as unexpected: a problem line from the component loader that spans lines, echoes a metadata
value (every generated `value` carries a canary) or leaves a duplicate name among the usable
components.

What it must never do: touch anything but a temporary folder it deletes, or use the network.

    .venv/bin/python bench/fuzz_inputs.py --seed 1 --count 100000
"""

from __future__ import annotations

import argparse
import base64
import math
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml  # noqa: E402

from explorer.components import load_resources, parse_components  # noqa: E402
from explorer.core.envelope import KeyPrefix, KeyPrefixMode, decode_value, document_id, parse_document_id  # noqa: E402
from explorer.core.expiry import MAX_TTL, countdown_text, effective_expiry, remaining, ttl_to_keep_instant  # noqa: E402
from explorer.core.model import TtlChoice, TtlMode, value_bytes_of  # noqa: E402
from explorer.errors import ComponentError, ExplorerError  # noqa: E402

CANARY = "S3CRET"  # every generated metadata value contains it; no problem line may


class Unexpected(Exception):
    """A wrong outcome that is not an exception (a leaked value, a multi-line problem)."""


@dataclass
class Tally:
    name: str
    inputs: int = 0
    expected: Counter = field(default_factory=Counter)
    unexpected: list[tuple[str, str]] = field(default_factory=list)  # (exception, input repr)
    unexpected_count: int = 0


def short(value: object, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + f"…(+{len(text) - limit} chars)"


# -- generators ----------------------------------------------------------------------------------

WEIRD = ["||", "|", "/", "\\", "?", "#", ".", " ", "\t", "\n", "", "😀", "\U0010ffff", "\ud800", "\udfff", "\x00",
         "é", "İ", "٣", "²", "\u3000", "\ufeff", "%2F", "..", "dapr.internal.", ".workflow", "history-", "inbox-",
         "metadata", "customStatus"]
NUMBERS = [0, 1, -1, -2, 2, 59, 60, 3599, 3600, 86399, 86400, MAX_TTL, MAX_TTL + 1, -MAX_TTL, 2**31, 2**53 + 1,
           2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, 10**400, -(10**400), 1_700_000_000]
FLOATS = [0.0, -0.0, 0.5, -0.5, 1.5, 1e308, -1e308, 5e-324, 1e16, float("nan"), float("inf"), float("-inf")]


def word(rng: random.Random, max_parts: int = 6) -> str:
    parts = []
    for _ in range(rng.randint(0, max_parts)):
        roll = rng.random()
        if roll < 0.45:
            parts.append(rng.choice(WEIRD))
        elif roll < 0.9:
            parts.append("".join(rng.choice("abcxyz-_019AZ") for _ in range(rng.randint(1, 8))))
        elif roll < 0.97:
            parts.append(str(rng.randint(0, 10**6)))
        else:
            parts.append(rng.choice("0123456789") * rng.randint(19, 5000))  # past int64 / Python's digit limit
    return "".join(parts)


def number(rng: random.Random) -> object:
    roll = rng.random()
    if roll < 0.35:
        return rng.choice(NUMBERS)
    if roll < 0.55:
        return rng.choice(FLOATS)
    if roll < 0.65:
        return rng.choice([True, False])
    if roll < 0.9:
        return rng.randint(-(2**40), 2**40)
    return rng.uniform(-1e12, 1e12)


def json_value(rng: random.Random, depth: int = 0) -> object:
    """Any JSON value as Python's json module would hand it over (incl. lone surrogates, huge ints)."""
    roll = rng.random()
    if depth > 3 or roll < 0.45:
        return rng.choice([None, True, False, word(rng), number(rng), rng.choice(NUMBERS), "", "eyJhIjoxfQ==", "bm90IGpzb24"])
    if roll < 0.47:  # a deep chain: past orjson's 255 levels, within what json.loads can produce
        value: object = word(rng)
        for _ in range(rng.randint(200, 400)):
            value = [value] if rng.random() < 0.5 else {"k": value}
        return value
    if roll < 0.75:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {word(rng, 2): json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def base64_text(rng: random.Random) -> str:
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
    text = base64.b64encode(raw).decode()
    roll = rng.random()
    if roll < 0.4:
        return text
    if roll < 0.6:
        return text[: rng.randint(0, len(text))]  # bad padding
    if roll < 0.8:
        cut = rng.randint(0, len(text))
        return text[:cut] + rng.choice(["!", " ", "\n", "é", "\ud800", "😀", "=", "-", "_"]) + text[cut:]
    return base64.urlsafe_b64encode(raw).decode()


def document(rng: random.Random) -> dict:
    doc: dict = {}
    if rng.random() < 0.9:
        doc["id"] = word(rng)
    if rng.random() < 0.9:
        doc["value"] = base64_text(rng) if rng.random() < 0.3 else json_value(rng)
    if rng.random() < 0.9:
        doc["isBinary"] = rng.choice([True, False, True, False, "yes", "true", "false", 1, 0, 1.0, None, [], {}, "", "True"])
    for name in ("_rid", "_etag", "_ts", "ttl", "partitionKey", "_self", "other"):
        if rng.random() < 0.3:
            doc[name] = json_value(rng, 3)
    return doc


def prefix(rng: random.Random) -> tuple[KeyPrefix, str, str | None, str]:
    mode = rng.choice(list(KeyPrefixMode))
    if mode is KeyPrefixMode.CUSTOM:
        key_prefix = rng.choice([KeyPrefix.from_metadata(word(rng, 3) or "x"), KeyPrefix(mode, None), KeyPrefix(mode, "")])
    else:
        key_prefix = KeyPrefix(mode) if rng.random() < 0.5 else KeyPrefix.from_metadata(rng.choice([mode.value, mode.value.upper(), ""]))
    store = rng.choice(["", "statestore", word(rng, 2)])
    namespace = rng.choice([None, "", "default", word(rng, 2)])
    app_id = rng.choice(["", "order-processor", word(rng, 3)])
    return key_prefix, store, namespace, app_id


def doc_id(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:  # actor / workflow shaped
        parts = [word(rng, 2), rng.choice(["dapr.internal.default.wf.workflow", "dapr.internal..workflow", word(rng, 3)]),
                 word(rng, 2), rng.choice(["history-" + "9" * rng.choice([1, 5, 20, 30, 5000]), "inbox-0", "metadata", word(rng, 2)])]
        return "||".join(parts)
    if roll < 0.35:
        return word(rng) * rng.randint(100, 2000)  # very long
    return word(rng, 8)


COMPONENT_TYPES = ["state.azure.cosmosdb", "state.redis", "secretstores.local.env", "secretstores.local.file", "bindings.x"]


def yaml_word(rng: random.Random) -> str:
    """A word the YAML emitter can write (lone surrogates come in through MUTATIONS instead)."""
    return "".join(ch for ch in word(rng, 2)[:200] if not "\ud800" <= ch <= "\udfff")


def yaml_scalar(rng: random.Random) -> object:
    return rng.choice([None, True, 3, 1.5, "", "v1", "2024-02-30", "local-secrets", "é😀"])


def yaml_any(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if depth > 2 or roll < 0.5:
        return yaml_scalar(rng)
    if roll < 0.75:
        return [yaml_any(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["name", "value", "type", "x", 1, None]): yaml_any(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def maybe(rng: random.Random, good: Callable[[], object], p_good: float = 0.93) -> object:
    return good() if rng.random() < p_good else yaml_any(rng)


def component_doc(rng: random.Random) -> object:
    if rng.random() < 0.1:
        return yaml_any(rng)

    def entry() -> object:
        item: dict = {"name": maybe(rng, lambda: rng.choice(["url", "masterKey", "database", "collection", "keyPrefix"]))}
        roll = rng.random()
        if roll < 0.6:
            item["value"] = maybe(rng, lambda: f"{CANARY}-{yaml_word(rng)}")
        elif roll < 0.8:
            item["secretKeyRef"] = maybe(rng, lambda: {"name": maybe(rng, lambda: "COSMOS_KEY"), "key": maybe(rng, lambda: "COSMOS_KEY")})
        else:
            item["envRef"] = maybe(rng, lambda: "COSMOS_URL")
        return item

    doc: dict = {"apiVersion": "dapr.io/v1alpha1", "kind": "Component"}
    if rng.random() < 0.95:
        doc["metadata"] = maybe(rng, lambda: {
            "name": maybe(rng, lambda: rng.choice(["orders", "local-secrets", f"c{rng.randrange(10**6)}",
                                                   f"c{rng.randrange(10**6)}", f"c{rng.randrange(10**6)}"])),
            **({"annotations": maybe(rng, lambda: {"a": "1"})} if rng.random() < 0.3 else {}),
        })
    if rng.random() < 0.95:
        doc["spec"] = maybe(rng, lambda: {
            "type": maybe(rng, lambda: rng.choice(COMPONENT_TYPES)),
            "version": maybe(rng, lambda: "v1"),
            "metadata": maybe(rng, lambda: [entry() for _ in range(rng.randint(0, 5))]),
        })
    if rng.random() < 0.3:
        doc["scopes"] = maybe(rng, lambda: [rng.choice(["app1", "app2"]) for _ in range(rng.randint(0, 3))])
    if rng.random() < 0.3:
        doc["auth"] = maybe(rng, lambda: {"secretStore": maybe(rng, lambda: "local-secrets")})
    return doc


MUTATIONS = ["[", "]", "{", "}", ":", ": ", "- ", "\t", "&a ", "*a", "*b", "!!int ", "!!binary ", "!foo ", "? ", "---\n",
             "'", '"', "#", "\x00", "\x85", "\ufeff", "😀", "\ud800", "%YAML 1.1\n", "<<: *a\n", "\\", "\n  ", "|", ">"]


def component_text(rng: random.Random) -> str:
    docs = [component_doc(rng) for _ in range(rng.randint(1, 3))]
    text = yaml.dump_all(docs, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                         default_flow_style=rng.choice([False, None, True]), allow_unicode=True)
    roll = rng.random()
    if roll < 0.5:
        for _ in range(rng.randint(1, 4)):
            cut = rng.randint(0, len(text))
            text = text[:cut] + rng.choice(MUTATIONS) + text[cut + rng.choice([0, 0, 1, 3]):]
    elif roll < 0.55:
        text = text[: rng.randint(0, len(text))]
    elif roll < 0.58:
        n = rng.choice([70, 900, 5000, 20000])
        text += "deep: " + "[" * n + "]" * n + "\n" if rng.random() < 0.5 else "deep:\n" + "".join("  " * i + "- \n" for i in range(1, n // 10))
    elif roll < 0.6:
        lines = ["b0: &b0 [x, x, x, x, x, x, x, x, x, x]"]
        lines += [f"b{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 10) + "]" for i in range(1, rng.randint(2, 9))]
        text += "bomb:\n" + "".join(f"  {line}\n" for line in lines)
    elif roll < 0.61:
        text += "self: &s [*s]\n" if rng.random() < 0.5 else "m: &m {k: *m}\n"
    return text


def file_bytes(rng: random.Random) -> bytes:
    roll = rng.random()
    text = component_text(rng)
    if roll < 0.05:
        return text.encode("latin-1", "replace") + b"\xe9\xff"
    if roll < 0.07:
        return b"\xff\xfe" + text.encode("utf-16-le", "surrogatepass")
    if roll < 0.0705:
        return text.encode("utf-8", "surrogatepass") * (1_100_000 // max(1, len(text)) + 1)  # over the 1 MiB limit
    return text.encode("utf-8", "surrogatepass")


def ttl_text(rng: random.Random) -> str:
    pieces = ["keep", "KEEP", "restart", "none", "None", "set", "-1", "+5", "1_000", "0x10", "1e3", "0", "60",
              str(MAX_TTL), str(MAX_TTL + 1), "²", "٣", "０", "१", " ", "\t", "\n", "\u3000", "\x85", "\xa0", "İ",
              "\ud800", "😀", "9" * 5000, "0" * 4400 + "1", ".5", "s"]
    return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))


# -- targets -------------------------------------------------------------------------------------

def check_problems(loaded_problems: object) -> None:
    for problem in loaded_problems:  # type: ignore[attr-defined]
        line = str(problem)
        if "\n" in line or "\r" in line:
            raise Unexpected(f"problem spans lines: {line!r}")
        if CANARY in problem.message:
            raise Unexpected(f"problem echoes a metadata value: {line!r}")


def run_component_text(text: str) -> None:
    try:
        components = parse_components(text, Path("fuzz.yaml"))
    except ComponentError as exc:
        if "\n" in str(exc) or CANARY in str(exc).replace("fuzz.yaml", ""):
            raise Unexpected(f"ComponentError spans lines or echoes a value: {str(exc)!r}") from exc
        raise
    names = [c.name for c in components]
    if len(names) != len(set(names)):
        raise Unexpected("duplicate names accepted")


def run_component_files(batch: list[bytes], workdir: Path) -> dict[str, int] | None:
    for old in workdir.iterdir():
        old.unlink()
    for i, data in enumerate(batch):
        (workdir / f"c{i:02d}.yaml").write_bytes(data)
    loaded = load_resources([workdir])
    check_problems(loaded.problems)
    names = [c.name for c in loaded.components]
    if len(names) != len(set(names)):
        raise Unexpected("duplicate names among usable components")
    for component in loaded.components:
        component.masked()
    files_with_problems = len({problem.source for problem in loaded.problems})
    return {"file with a problem reported": files_with_problems} if files_with_problems else None


def run_parse_id(case: tuple) -> None:
    the_id, (key_prefix, store, namespace, _app) = case
    state_key = parse_document_id(the_id, key_prefix, store, namespace)
    if state_key.doc_id != the_id:
        raise Unexpected("doc_id not kept")
    _ = state_key.read_only_reason


def run_document_id(case: tuple) -> str | None:
    key, (key_prefix, store, namespace, app_id) = case
    try:
        made = document_id(key, key_prefix, app_id, store, namespace)
    except ValueError as exc:
        text = str(exc)
        if "||" in key and "contains '||'; Dapr's state API refuses it" in text:
            return "key contains '||' (documented ValueError)"
        if "needs the store name" in text:
            return "name mode without a store name (documented ValueError)"
        if "custom keyPrefix" in text:
            return "custom keyPrefix empty or with '||' (documented ValueError)"
        raise
    parse_document_id(made, key_prefix, store, namespace)
    return None


def run_value(doc: dict) -> None:
    decoded = decode_value(doc)
    _ = decoded.size
    data = value_bytes_of(doc)
    if not isinstance(data, bytes):
        raise Unexpected(f"value_bytes_of returned {type(data).__name__}")


def run_expiry(case: tuple) -> str | None:
    item_ttl, default_ttl, ts, now, choice = case
    expiry = effective_expiry(item_ttl, default_ttl, ts)
    remaining(expiry, now)
    countdown_text(expiry, now)
    try:
        keep = ttl_to_keep_instant(expiry, now)
    except ValueError as exc:
        left = remaining(expiry, now)
        if left is not None and math.isnan(left) and "not NaN" in str(exc):
            return "NaN now or _ts (documented ValueError)"
        raise
    if keep is not None and not (isinstance(keep, int) and 1 <= keep <= MAX_TTL):
        raise Unexpected(f"ttl_to_keep_instant gave {keep!r}")
    choice.ttl_in_seconds({"ttl": item_ttl}, expiry, now)
    return None


def run_ttl_text(text: str) -> None:
    choice = TtlChoice.parse(text)
    if choice.mode is TtlMode.SET and not (isinstance(choice.seconds, int) and 1 <= choice.seconds <= MAX_TTL):
        raise Unexpected(f"parsed to {choice!r}")


# -- harness -------------------------------------------------------------------------------------

def attempt(tally: Tally, run: Callable[[object], object], case: object, shown_input: object, n: int = 1) -> None:
    tally.inputs += n
    try:
        reason = run(case)
    except ExplorerError as exc:
        tally.expected[exc.__class__.__name__] += n
        return
    except Exception as exc:  # noqa: BLE001 — this is what we count
        tally.unexpected_count += 1
        if len(tally.unexpected) < 5:
            tally.unexpected.append((f"{exc.__class__.__name__}: {str(exc)[:200]}", short(shown_input)))
        return
    if isinstance(reason, dict):
        tally.expected.update(reason)
    elif reason:
        tally.expected[reason] += 1


SHARES = {  # of --count
    "components: load_resources (files)": 0.10,
    "components: parse_components (text)": 0.20,
    "ids: parse_document_id": 0.15,
    "ids: document_id": 0.10,
    "values: decode_value + value_bytes_of": 0.25,
    "expiry: effective_expiry/countdown_text/ttl_to_keep_instant": 0.15,
    "ttl: TtlChoice.parse": 0.05,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=100_000, help="total inputs over all targets (default 100000)")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    rng = random.Random(args.seed)
    tallies = {name: Tally(name) for name in SHARES}
    quota = {name: max(1, round(args.count * share)) for name, share in SHARES.items()}
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="fuzz-components-") as tmp:
        workdir = Path(tmp)
        tally = tallies["components: load_resources (files)"]
        def load(files: object) -> object:
            return run_component_files(files, workdir)  # type: ignore[arg-type]

        while tally.inputs < quota[tally.name]:
            batch = [file_bytes(rng) for _ in range(min(20, quota[tally.name] - tally.inputs))]
            try:  # 20 files per folder keeps this fast; a failing folder is retried file by file
                tally.expected.update(load(batch) or {})
                tally.inputs += len(batch)
            except Exception:  # noqa: BLE001
                before = tally.unexpected_count
                for data in batch:
                    attempt(tally, load, [data], data)
                if tally.unexpected_count == before:  # only the files together fail (e.g. duplicates)
                    tally.inputs -= 1
                    attempt(tally, load, batch, batch)

    tally = tallies["components: parse_components (text)"]
    for _ in range(quota[tally.name]):
        text = component_text(rng)
        attempt(tally, run_component_text, text, text)

    tally = tallies["ids: parse_document_id"]
    for _ in range(quota[tally.name]):
        case = (doc_id(rng), prefix(rng))
        attempt(tally, run_parse_id, case, case)

    tally = tallies["ids: document_id"]
    for _ in range(quota[tally.name]):
        key = word(rng, 4) if rng.random() < 0.8 else word(rng) + "||" + word(rng)
        case = (key, prefix(rng))
        attempt(tally, run_document_id, case, case)

    tally = tallies["values: decode_value + value_bytes_of"]
    for _ in range(quota[tally.name]):
        doc = document(rng)
        attempt(tally, run_value, doc, doc)

    tally = tallies["expiry: effective_expiry/countdown_text/ttl_to_keep_instant"]
    for _ in range(quota[tally.name]):
        item_ttl = None if rng.random() < 0.2 else number(rng)
        default_ttl = None if rng.random() < 0.2 else number(rng)
        ts = rng.choice([1_700_000_000, 0, number(rng), number(rng)])
        now = rng.choice([1_700_000_100.25, 1_700_000_000, number(rng), number(rng)])
        choice = rng.choice([TtlChoice(), TtlChoice(TtlMode.RESTART), TtlChoice(TtlMode.NONE), TtlChoice(TtlMode.SET, 60)])
        case = (item_ttl, default_ttl, ts, now, choice)
        attempt(tally, run_expiry, case, case[:4])

    tally = tallies["ttl: TtlChoice.parse"]
    for _ in range(quota[tally.name]):
        text = ttl_text(rng)
        attempt(tally, run_ttl_text, text, text)

    width = max(len(name) for name in tallies)
    total_inputs = total_expected = total_unexpected = 0
    for tally in tallies.values():
        expected = sum(tally.expected.values())
        total_inputs += tally.inputs
        total_expected += expected
        total_unexpected += tally.unexpected_count
        detail = "; ".join(f"{reason} {n}" for reason, n in tally.expected.most_common())
        print(f"{tally.name:<{width}}  inputs {tally.inputs:>7}  expected errors {expected:>6}  "
              f"unexpected exceptions {tally.unexpected_count:>3}" + (f"  ({detail})" if detail else ""))
    print(f"{'total':<{width}}  inputs {total_inputs:>7}  expected errors {total_expected:>6}  "
          f"unexpected exceptions {total_unexpected:>3}  (seed {args.seed}, {time.perf_counter() - started:.0f} s)")
    if total_unexpected:
        print("\nfirst unexpected exceptions:")
        for tally in tallies.values():
            for error, shown in tally.unexpected:
                print(f"  [{tally.name}] {error}\n      input: {shown}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
