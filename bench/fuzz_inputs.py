"""Reliability figure R6: feed the parsers of untrusted input many generated inputs and count crashes.

What it is for: a rerunnable check (not a test) that every parser of what a user types, a file holds
or a store returns never fails with anything but the errors it documents: the component loader, the
Cosmos id parser, the value decoder, the expiry functions and `--ttl` parsing; and, added since,
state query filters (`parse_search` and `to_cosmos`), `--sql` text and `--param` (`raw_sql`,
`parse_parameter`), export lines (`read_export`), contexts files (`read_contexts_file`), env files
and kubectl component lists, audit log lines (`read_records`) and `--since`, protobuf (`iter_fields`
and the workflow_state decoders) and dapr-agents documents (teams, runs, memory, approvals). Each
run is reproducible from `--seed`; `--count` is the total number of inputs, split over the targets.
Prints one line per target (inputs, expected errors, unexpected exceptions, seconds) and a total;
exits 1 if anything unexpected happened, showing the first few with their input (repr, truncated).

Expected: any `explorer.errors.ExplorerError`; `document_id`'s documented ValueErrors (a key
containing '||', name/custom prefix modes without a name/prefix), each counted by reason;
`ttl_to_keep_instant`'s documented ValueError for a NaN `now` or `_ts`; `BadLine` (import),
`WireError` and `WorkflowDecodeError` (protobuf), `--since`'s ValueError and `format_env_file`'s for
a value no env file can hold. For `load_resources` (which never raises) the expected errors are the
files it reported a problem for. Also counted as unexpected: a problem line from the component
loader that spans lines, echoes a metadata value (every generated `value` carries a canary) or leaves
a duplicate name among the usable components; any documented error that spans lines (bad input gets
one line); a contexts or env file error that echoes a value; an env file that does not read back as
written.

What it must never do: touch anything but temporary folders it deletes, or use the network.

    .venv/bin/python bench/fuzz_inputs.py --seed 1 --count 200000
    .venv/bin/python bench/fuzz_inputs.py --smoke        # every target, a few inputs each, seconds
"""

from __future__ import annotations

import argparse
import base64
import json
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

from bench.smoke import smoke_args  # noqa: E402
from explorer.components.files import load_resources, parse_components  # noqa: E402
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
    seconds: float = 0.0


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


def sprinkle(rng: random.Random, text: str, mutations: list[str]) -> str:
    """1 to 4 of `mutations` put in at random places, each replacing 0 to 3 characters."""
    for _ in range(rng.randint(1, 4)):
        cut = rng.randint(0, len(text))
        text = text[:cut] + rng.choice(mutations) + text[cut + rng.choice([0, 0, 1, 3]):]
    return text


def component_text(rng: random.Random) -> str:
    docs = [component_doc(rng) for _ in range(rng.randint(1, 3))]
    text = yaml.dump_all(docs, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                         default_flow_style=rng.choice([False, None, True]), allow_unicode=True)
    roll = rng.random()
    if roll < 0.5:
        text = sprinkle(rng, text, MUTATIONS)
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


# -- inputs added since: queries, SQL, export lines, contexts, audit lines, protobuf, agents --------
# Each target below is (generate, run): `generate(rng)` makes one input, `run(input)` feeds it to the
# parser and everything that reads the parser's result the way the CLI and the TUI do, returning the
# documented error's reason (counted as expected) or None.

def one_line(exc: BaseException) -> None:
    """A documented error is one line: what was wrong and what to do."""
    if "\n" in str(exc) or "\r" in str(exc):
        raise Unexpected(f"{exc.__class__.__name__} spans lines: {str(exc)[:200]!r}")


JSON_MUTATIONS = ["{", "}", "[", "]", ",", ":", '"', "\\", "\\u", "\\ud800", "\\udc00", "NaN", "Infinity", "-Infinity",
                  "1e999", "-0", "0x1", "\x00", " ", "\ufeff", "😀", "\ud800", "9" * 5000, "null", "true"]


def mutate(rng: random.Random, text: str, mutations: list[str] = JSON_MUTATIONS) -> str:
    roll = rng.random()
    if roll < 0.45:
        text = sprinkle(rng, text, mutations)
    elif roll < 0.55:
        text = text[: rng.randint(0, len(text))]
    return text


def dumps(rng: random.Random, value: object) -> str:
    """JSON text as a user or a program might write it (NaN and lone surrogates included)."""
    try:
        return json.dumps(value, ensure_ascii=rng.random() < 0.5, indent=rng.choice([None, None, 1]))
    except (ValueError, RecursionError):
        return "{}"


QUERY_KEYS = ["k", "status", "value.k", "a.b.c", "", " ", "id", "_ts", "value", "||", "a[0]", "a-b", "'", '"', "a\nb",
              "a..b", ".a", "a.", "person.org", "\u202e", "😀", "\ud800", "x" * 300, "@p", "c.id", "[\"a\"]"]
QUERY_OPS = ["EQ", "NEQ", "GT", "GTE", "LT", "LTE", "IN", "AND", "OR", "eq", "Eq", "NOT", "BETWEEN", "", "and"]


CLEAN_KEYS = ["k", "status", "value.k", "person.org", "a-b", "é", "n1"]


def clean_filter(rng: random.Random, depth: int = 0) -> object:
    """A filter Dapr takes: the parser's success path, and the SQL it becomes."""
    op = rng.choice(["EQ", "NEQ", "GT", "GTE", "LT", "LTE", "IN"] + (["AND", "OR"] if depth < 4 else []))
    key = rng.choice(CLEAN_KEYS)
    if op in ("AND", "OR"):
        return {op: [clean_filter(rng, depth + 1) for _ in range(rng.randint(2, 3))]}
    if op == "IN":
        return {op: {key: [word(rng, 2) for _ in range(rng.randint(1, 3))]}}
    if op in ("EQ", "NEQ"):  # Dapr's Cosmos store compares these with strings
        return {op: {key: word(rng, 2) if rng.random() < 0.95 else rng.randint(-10**6, 10**6)}}
    return {op: {key: rng.choice([rng.randint(-10**6, 10**6), 0.25, word(rng, 2)])}}


def query_filter(rng: random.Random, depth: int = 0) -> object:
    if rng.random() < 0.5:
        return clean_filter(rng, depth)
    if rng.random() < 0.05:
        return json_value(rng, 2)
    op = rng.choice(QUERY_OPS) if rng.random() < 0.95 else word(rng, 2)
    key = rng.choice(QUERY_KEYS) if rng.random() < 0.8 else word(rng, 3)
    if op.upper() in ("AND", "OR"):
        body: object = [query_filter(rng, depth + 1) for _ in range(rng.randint(0, 4 if depth < 4 else 2))]
    elif op.upper() == "IN":
        body = {key: [rng.choice([word(rng, 2), number(rng), None]) for _ in range(rng.randint(0, 4))]
                if rng.random() < 0.9 else json_value(rng, 3)}
    else:
        body = {key: rng.choice([word(rng, 2), number(rng), None, True, [], {}, json_value(rng, 3)])}
    if rng.random() < 0.05 and isinstance(body, dict):
        body[word(rng, 1)] = 1
    found = {op: body}
    if rng.random() < 0.03:
        found[rng.choice(QUERY_OPS)] = body
    return found


def deep_filter(rng: random.Random) -> object:
    """AND inside AND (issue 19, defect 2): far past any limit the explorer may set."""
    node: object = {"EQ": {"k": "v"}}
    for _ in range(rng.choice([10, 40, 60, 99, 150, 400, 2000])):
        node = {rng.choice(["AND", "OR"]): [node, {"EQ": {"k": "v"}}]}
    return node


def query_object(rng: random.Random) -> object:
    if rng.random() < 0.4:  # a query Dapr takes whole: filter, sort and page
        clean: dict = {"filter": clean_filter(rng)}
        if rng.random() < 0.5:
            clean["sort"] = [{"key": rng.choice(CLEAN_KEYS), "order": rng.choice(["ASC", "DESC"])}]
        if rng.random() < 0.5:
            clean["page"] = {"limit": rng.randint(1, 1000), **({"token": str(rng.randint(0, 99))} if rng.random() < 0.5 else {})}
        return clean["filter"] if rng.random() < 0.2 else clean
    query: dict = {}
    if rng.random() < 0.9:
        query["filter"] = deep_filter(rng) if rng.random() < 0.03 else query_filter(rng)
    if rng.random() < 0.4:
        query["sort"] = [{"key": rng.choice(QUERY_KEYS), "order": rng.choice(["ASC", "DESC", "asc", "", None, 1])}
                         for _ in range(rng.randint(0, 3))] if rng.random() < 0.9 else json_value(rng, 3)
    if rng.random() < 0.4:
        query["page"] = {"limit": rng.choice([number(rng), 10, 0, -1, "10", 2**63, 1.0]),
                         **({"token": rng.choice([word(rng, 2), "10", 5, None])} if rng.random() < 0.5 else {})}
    if rng.random() < 0.05:
        query[word(rng, 1)] = json_value(rng, 3)
    if rng.random() < 0.25 and "filter" in query:
        return query["filter"]  # the bare-filter shorthand of --query / the search box
    return query


def query_text(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.03:
        return rng.choice(["", " ", "null", "[]", "1"])
    text = dumps(rng, query_object(rng))
    return mutate(rng, text) if roll < 0.5 else text


def run_query(text: str) -> str | None:
    from explorer.core.state_query import QueryError, parse_search, to_cosmos

    try:
        query = parse_search(text)
        query.to_json()
        to_cosmos(query)
        query.with_token("1")
    except QueryError as exc:
        one_line(exc)
        raise
    return None


SQL_PARTS = ["SELECT", "select", " * ", "c.id", " FROM c", " WHERE ", "c.k = @k", "@x", "@", "@1", "'", '"', "'@k'",
             ";", "; DELETE", "--", "-- x\n", "/*", "*/", "/* @k */", "TOP 1", "VALUE", "(", ")", "\\", "\n", "\x00",
             "DELETE", "UPDATE", "😀", "\ud800", "ORDER BY c._ts", "OFFSET 0 LIMIT 1", " AND ", "IS_DEFINED(c.ttl)"]


def sql_case(rng: random.Random) -> tuple[str, list[str]]:
    if rng.random() < 0.5:  # a query --sql runs: the success path
        where = rng.choice(["", " WHERE c.k = @k", " WHERE c.value.n > @n AND c.k != '@not' -- @x\n",
                            " WHERE STARTSWITH(c.id, @k) /* ; */"])
        sql = f"{rng.choice(['SELECT', 'select', 'SELECT TOP 5'])} c.id, c.value FROM c{where}{rng.choice(['', ';', ' ; '])}"
        texts = [f"@k={dumps(rng, word(rng, 2))}"] if "@k" in where else []
        texts += [f"n={rng.choice(['1', '2.5', 'abc', 'true', '[1]'])}"] if "@n" in where else []
        return sql, texts
    sql = ("SELECT * FROM c " if rng.random() < 0.5 else "") + "".join(rng.choice(SQL_PARTS) for _ in range(rng.randint(0, 10)))
    params = [rng.choice(["@k", "k", "@x", "@", "", "@1", "@k@", word(rng, 1)]) + rng.choice(["=", "", "=="])
              + rng.choice([dumps(rng, json_value(rng, 2)), word(rng, 2), "", "NaN", "1e999", "[1,", '"x"'])
              for _ in range(rng.randint(0, 3))]
    return sql, params


def run_sql(case: tuple[str, list[str]]) -> str | None:
    from explorer.core.state_query import QueryError, parse_parameter, raw_sql

    sql, texts = case
    try:
        params = dict(parse_parameter(text) for text in texts)
        raw_sql(sql, params)
    except QueryError as exc:
        one_line(exc)
        raise
    return None


def export_record(rng: random.Random) -> object:
    if rng.random() < 0.05:
        return json_value(rng)
    binary = rng.random() < 0.3
    record: dict = {}
    for name, make in (("id", lambda: doc_id(rng)), ("partitionKey", lambda: word(rng, 3)),
                       ("isBinary", lambda: binary if rng.random() < 0.9 else rng.choice(["true", 1, None])),
                       ("value", lambda: {"base64": base64_text(rng)} if binary else json_value(rng)),
                       ("ttl", lambda: number(rng)), ("ts", lambda: number(rng)), ("etag", lambda: word(rng, 2))):
        if rng.random() < (0.97 if name in ("id", "partitionKey", "isBinary", "value") else 0.5):
            record[name] = make() if rng.random() < 0.95 else json_value(rng, 2)
    if rng.random() < 0.02:
        record["document"] = {}
    return record


def export_line(rng: random.Random) -> bytes | str:
    text = mutate(rng, dumps(rng, export_record(rng)))
    roll = rng.random()
    if roll < 0.05:
        return text.encode("utf-8", "surrogatepass") + b"\xff\xfe"
    if roll < 0.5:
        return text.encode("utf-8", "surrogatepass")
    return text


def run_export_lines(lines: list[bytes | str]) -> str | None:
    from explorer.core.import_plan import BadLine, read_export, side_key

    try:
        for exported in read_export(lines):
            side_key(exported)
    except BadLine as exc:
        one_line(exc)
        return "BadLine (documented)"
    return None


CONTEXT_FIELDS = ["description", "resources", "components", "sidecars", "api_token_env", "cosmos_ca_file", "env_file",
                  "read_only", "production", "color", "ru_per_second", "pid", "token", "masterKey", "prodution", "colour"]


def context_value(rng: random.Random, name: str) -> object:
    good = {
        "description": lambda: yaml_word(rng), "resources": lambda: rng.choice(["~/c", "c", ["/c", "~/d"], "", []]),
        "components": lambda: rng.choice(["k.yaml", ["a.yaml"], [], None]),
        "sidecars": lambda: [rng.choice([50001, "127.0.0.1:50002", "host:1", ":1", "x:99999", 0, -1, True,
                                         {"address": "127.0.0.1:1", "api_token_env": rng.choice(["TOK", "1X", "", "a b"])},
                                         {"address": 1}, {"port": 1}]) for _ in range(rng.randint(0, 3))],
        "api_token_env": lambda: rng.choice(["DAPR_API_TOKEN", "x-y", "", "T0K", f"{CANARY}=1"]),
        "color": lambda: rng.choice(["red", "#d70000", "#zzz", "dark_orange", "", "grey50", 3]),
        "ru_per_second": lambda: rng.choice([400, 0, -1, 1.5, "400", 10**30, float("nan"), True]),
        "pid": lambda: rng.choice([1, -1, 2**70, "1", None]),
    }.get(name, lambda: rng.choice([True, False, "yes", None, f"{CANARY}-{yaml_word(rng)}"]))
    return good() if rng.random() < 0.9 else yaml_any(rng)


def contexts_text(rng: random.Random) -> str:
    if rng.random() < 0.05:
        data: object = yaml_any(rng)
    else:
        contexts = {rng.choice(["prod", "local", "a.b", "x" * 64, "-x", "é", 1, True, yaml_word(rng) or "y"]):
                    {f: context_value(rng, f) for f in rng.sample(CONTEXT_FIELDS, rng.randint(0, 6))}
                    for _ in range(rng.randint(0, 4))}
        data = {"contexts": contexts} if rng.random() < 0.95 else {rng.choice(["context", "x"]): contexts}
    try:
        text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True,
                         default_flow_style=rng.choice([False, None]))
    except yaml.YAMLError:
        text = "contexts: {}\n"
    if rng.random() < 0.1:  # a map key twice: refused, never the last one kept
        text += rng.choice(["contexts:\n  a: {resources: x}\n", "  prod: {resources: y}\n"])
    return mutate(rng, text, MUTATIONS) if rng.random() < 0.4 else text


def run_contexts_file(case: tuple[str, Path]) -> str | None:
    from explorer.session.contexts import read_contexts_file
    from explorer.core.contexts import ContextTable

    text, path = case
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        found = read_contexts_file(path)
    except ExplorerError as exc:
        one_line(exc)
        if CANARY in str(exc):
            raise Unexpected(f"a contexts error echoes a value: {str(exc)[:200]!r}") from exc
        raise
    table = ContextTable(tuple(found))
    table.duplicates()
    for context in found:
        context.to_json()
        context.token_envs()
    return None


def env_text(rng: random.Random) -> str:
    lines = [rng.choice(["A=1", "export B='x y'", 'C="q\\"uote"', "# c", "", "D", "=x", "1X=1", "E = 2", f"S={CANARY}",
                         "F='unclosed", 'G="a\\nb"', "H=é😀", "export", "I=\ud800", "\x00=1", " J=2 # note"])
             for _ in range(rng.randint(0, 6))]
    return mutate(rng, "\n".join(lines), ["=", "'", '"', "\\", "\n", "#", " ", "export ", "\x00", "\r"])


def run_env_text(text: str) -> str | None:
    from explorer.core.contexts import format_env_file, parse_env_file

    try:
        values = parse_env_file(text, "fuzz.env")
    except ExplorerError as exc:
        one_line(exc)
        if CANARY in str(exc):
            raise Unexpected(f"an env file error echoes a value: {str(exc)[:200]!r}") from exc
        raise
    try:
        again = parse_env_file(format_env_file(values), "again.env")
    except ValueError as exc:
        if "cannot write variable" in str(exc) or "cannot quote variable" in str(exc):
            return "value an env file cannot hold (documented ValueError)"
        raise
    if again != values:
        raise Unexpected(f"env file round trip changed {values!r} into {again!r}")
    return None


def component_list(rng: random.Random) -> list[object]:
    docs = [component_doc(rng) for _ in range(rng.randint(0, 3))]
    roll = rng.random()
    if roll < 0.4:
        return [{"apiVersion": "v1", "kind": rng.choice(["List", "ComponentList", "Pod"]),
                 "items": docs if rng.random() < 0.9 else yaml_any(rng)}]
    if roll < 0.45:
        return [yaml_any(rng)]
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict) and rng.random() < 0.5:
            doc["metadata"].update(namespace="orders", uid="1", managedFields=[{}],
                                   annotations={"kubectl.kubernetes.io/last-applied-configuration": CANARY})
    return docs


def run_component_list(documents: list[object]) -> str | None:
    from explorer.core.contexts import component_documents, for_standalone_daprd

    try:
        found = component_documents(documents, "fuzz-list.yaml")
    except ExplorerError as exc:
        one_line(exc)
        raise
    for component in found:
        cleaned = for_standalone_daprd(component)
        yaml.safe_dump(cleaned)
    return None


AUDIT_FIELDS = ["time", "user", "host", "context", "identity", "store", "operation", "key", "doc_id", "app_id",
                "partition_key", "etag_before", "etag_after", "ttl_in_seconds", "ttl_choice", "outcome", "error",
                "value_before", "value_after", "diff", "diff_cut", "extra"]


def audit_value(rng: random.Random, name: str) -> object:
    if rng.random() < 0.1:
        return json_value(rng, 2)
    if name == "time":
        return rng.choice(["2026-12-07T22:00:00.000Z", "2026-12-07", "2026-13-40T25:00:00Z", "", "x", "2026-12-07T22:00:00+05:00",
                           "9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00Z", " 2026-12-07T22:00Z "])
    if name in ("value_before", "value_after"):
        return rng.choice([None, {}, {"sha256": "ab" * 32, "bytes": 3}, {"sha256": 1, "bytes": "x"}, [], "x"])
    if name == "diff_cut":
        return rng.choice([0, 5, -1, "3", None, 10**30])
    if name == "extra":
        return rng.choice([{}, {"bulk": "b1"}, [], None, "x"])
    if name == "diff":
        return rng.choice(["", "-a\n+b", word(rng, 3), None])
    return rng.choice([word(rng, 3), None, "done", "save"])


def clean_audit_value(rng: random.Random, name: str) -> object:
    """What the log writes for `name` (with hostile text where it holds text)."""
    if name == "time":
        return f"2026-12-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00.{rng.randint(0, 999):03d}Z"
    if name in ("value_before", "value_after"):
        return rng.choice([{"sha256": None, "bytes": None}, {"sha256": "ab" * 32, "bytes": rng.randint(0, 10**6)}])
    if name == "diff_cut":
        return rng.choice([0, 0, rng.randint(1, 10**6)])
    if name == "extra":
        return rng.choice([{}, {"bulk": word(rng, 2), "plan": rng.randint(0, 9)}])
    if name in ("context", "identity", "app_id", "etag_before", "etag_after", "ttl_in_seconds", "ttl_choice", "error"):
        return rng.choice([None, word(rng, 3)])
    return word(rng, 3) + rng.choice(["", "\n+b", "\x1b]0;x\x07", "\u202e"])


def audit_line(rng: random.Random) -> bytes | str:
    if rng.random() < 0.6:
        text = dumps(rng, {f: clean_audit_value(rng, f) for f in AUDIT_FIELDS})
        return text.encode("utf-8", "surrogatepass") if rng.random() < 0.5 else text
    record = {f: audit_value(rng, f) for f in AUDIT_FIELDS if rng.random() < 0.93}
    if rng.random() < 0.05:
        record[word(rng, 1)] = json_value(rng, 2)
    text = mutate(rng, dumps(rng, record)) if rng.random() < 0.3 else dumps(rng, record)
    return text.encode("utf-8", "surrogatepass") if rng.random() < 0.5 else text


def run_audit_lines(lines: list[bytes | str]) -> str | None:
    from explorer.core.audit import diff_lines, read_records, summary

    result = read_records(lines, since=None if len(lines) % 2 else 1_700_000_000.0)
    for record in result.records:
        summary(record)
        list(diff_lines(record))
        record.to_json_line()
        _ = record.epoch
    return {"line not a record (counted, skipped)": result.unreadable} if result.unreadable else None


def since_text(rng: random.Random) -> str:
    return rng.choice(["30m", "2h", "7d", "1w", "90s", "0s", "999999999d", "1y", "-1h", "2026-11-29", "2026-11-29T14:00:00Z",
                       "2026-02-30", "yesterday", "", " ", "\ud800", "٣h", "1 h", "10" * 40 + "h", "2026-11-29T14:00:00+99:00"])


def run_since(text: str) -> str | None:
    from explorer.core.audit import parse_since

    try:
        parse_since(text, 1_700_000_000.0)
    except ValueError as exc:
        if str(exc).startswith("--since "):
            one_line(exc)
            return "--since not a duration or a date (documented ValueError)"
        raise
    return None


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def pb_message(rng: random.Random, depth: int = 0) -> bytes:
    """A protobuf message of random fields (numbers the durabletask messages use, mostly), nested."""
    out = bytearray()
    for _ in range(rng.randint(0, 6)):
        number = rng.randint(1, 30) if rng.random() < 0.9 else rng.choice([0, 2**29 - 1, 2**29, 19000, rng.randint(31, 5000)])
        wire = rng.choice([0, 0, 1, 2, 2, 2, 5]) if rng.random() < 0.97 else rng.choice([3, 4, 6, 7])
        out += varint(number << 3 | wire)
        if wire == 0:
            out += varint(rng.choice([0, 1, 2, 5, 2**31, 2**63, 2**64 - 1, -1, rng.randint(0, 2**40)]))
        elif wire == 1:
            out += bytes(rng.randrange(256) for _ in range(8))
        elif wire == 5:
            out += bytes(rng.randrange(256) for _ in range(4))
        elif wire == 2:
            roll = rng.random()
            if roll < 0.4 and depth < 5:
                body = pb_message(rng, depth + 1)
            elif roll < 0.7:
                body = rng.choice([word(rng, 3), json.dumps(json_value(rng, 2)), "é😀"]).encode("utf-8", "surrogatepass")
            elif roll < 0.8:
                body = b"\xff\xfe\xc3" + bytes(rng.randrange(256) for _ in range(rng.randint(0, 8)))  # not UTF-8
            else:
                body = bytes(rng.randrange(256) for _ in range(rng.randint(0, 30)))
            length = len(body) if rng.random() < 0.95 else rng.choice([len(body) + 1, 2**31, 2**64 - 1])
            out += varint(length) + body
    return bytes(out)


def pb_bytes(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.03:  # nested far past the decoder's depth limit
        data = pb_message(rng, 5)
        for _ in range(rng.choice([70, 200, 1000])):
            data = varint(rng.randint(3, 20) << 3 | 2) + varint(len(data)) + data
        return data
    if roll < 0.1:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 64)))
    data = pb_message(rng)
    if rng.random() < 0.2 and data:  # a flipped, cut or inserted byte
        cut = rng.randrange(len(data))
        data = rng.choice([data[:cut], data[:cut] + bytes([rng.randrange(256)]) + data[cut + 1:],
                           data[:cut] + bytes([rng.randrange(256)]) + data[cut:]])
    return data


PART_KEYS = ["history-000001", "history-000000", "inbox-000003", "metadata", "customStatus", "signature-000000",
             "sigcert-000000", "ext-sigcert-000000", "propagated-history", "history-" + "9" * 30, "history-x", "other",
             "", "inbox-", "history--1"]


def pb_case(rng: random.Random) -> tuple[str, bytes]:
    return rng.choice(PART_KEYS), pb_bytes(rng)


def run_protobuf(case: tuple[str, bytes]) -> str | None:
    from explorer.core.workflows.protowire import WireError, iter_fields
    from explorer.core.workflows.decode import (
        decode_custom_status,
        decode_history_event,
        decode_metadata,
        decode_workflow_part,
    )
    from explorer.core.workflows.schema import WorkflowDecodeError
    from explorer.core.workflows.summary import runtime_status

    key, data = case
    part = decode_workflow_part(key, data)  # never raises
    _ = (part.key, part.label() if callable(getattr(part, "label", None)) else part.label)
    if hasattr(part, "to_json"):
        json.dumps(part.to_json(), default=str)
    reasons = []
    try:
        iter_fields(data)
    except WireError as exc:
        one_line(exc)
        reasons.append("WireError")
    events = []
    for decode in (decode_history_event, decode_metadata, decode_custom_status):
        try:
            value = decode(data)
        except WorkflowDecodeError as exc:
            one_line(exc)
            reasons.append("WorkflowDecodeError")
            continue
        if decode is decode_history_event:
            events.append(value)
    runtime_status(events)
    return f"{'+'.join(sorted(set(reasons)))} (documented)" if reasons else None


AGENT_WORDS = sorted({name for fields in __import__("explorer.core.agents.schema", fromlist=["SCHEMAS"]).SCHEMAS.values()
                      for name in fields} | {"role", "content", "tool_calls", "function", "arguments", "tool_call_id"})


def agent_value(rng: random.Random, depth: int = 0) -> object:
    """JSON shaped like dapr-agents' models: their field names, with any values."""
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([None, True, 1, 1.5, word(rng, 2), "", "2026-12-07T22:00:00Z", "2026-13-01", "user", "assistant",
                           "tool", "system", '{"city": "Lisbon"}', "{not json", json_value(rng, 3), 10**30, float("nan")])
    if roll < 0.6:
        return [agent_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(AGENT_WORDS) if rng.random() < 0.9 else word(rng, 1): agent_value(rng, depth + 1)
            for _ in range(rng.randint(0, 6))}


def agent_item(rng: random.Random) -> dict:
    kind = rng.choice(["agents:travel:Weather Bot", "agents:travel:_index", "weather-bot:_workflow_trip-0001",
                       "weather-bot:_memory_trip-0001", "weather bot:pending_approvals", word(rng, 3)])
    item: dict = {"id": rng.choice(["agent-registry||", "", "x||y||"]) + kind, "partitionKey": rng.choice([kind, "agents:travel", None])}
    value = agent_value(rng)
    if rng.random() < 0.2:
        item.update(value=base64.b64encode(dumps(rng, value).encode("utf-8", "surrogatepass")).decode()
                    if rng.random() < 0.7 else base64_text(rng), isBinary=True)
    elif rng.random() < 0.95:
        item.update(value=value, isBinary=rng.choice([False, False, False, "false", None]))
    return item


def run_agents(items: list[dict]) -> str | None:
    from explorer.core.agents.names import parse_registry_key, parse_run_key
    from explorer.core.agents.runs import decode_memory, decode_pending_approvals, decode_run
    from explorer.core.agents.teams import build_teams, index_names

    prefix = KeyPrefix.from_metadata(None)
    for team in build_teams(items, prefix, "agents"):
        json.dumps(team.to_json(), default=str)
    for item in items:
        run = decode_run(item, prefix, "agents")
        json.dumps(run.to_json(), default=str)
        json.dumps(decode_memory(item, prefix, "agents").to_json(), default=str)
        decode_pending_approvals(item, prefix, "agents")
        index_names(item.get("value"))
        parse_registry_key(str(item.get("id", "")).split("||")[-1], item.get("partitionKey"))
        parse_run_key(str(item.get("id", "")).split("||")[-1])
    return None


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
    "components: load_resources (files)": 0.05,
    "components: parse_components (text)": 0.10,
    "ids: parse_document_id": 0.075,
    "ids: document_id": 0.05,
    "values: decode_value + value_bytes_of": 0.125,
    "expiry: effective_expiry/countdown_text/ttl_to_keep_instant": 0.075,
    "ttl: TtlChoice.parse": 0.025,
    "queries: parse_search + to_cosmos": 0.10,
    "sql: raw_sql + parse_parameter": 0.06,
    "exports: read_export (lines)": 0.08,
    "contexts: read_contexts_file": 0.06,
    "contexts: parse_env_file + format_env_file": 0.04,
    "contexts: component_documents + for_standalone_daprd": 0.03,
    "audit: read_records (lines)": 0.06,
    "audit: parse_since": 0.01,
    "protobuf: iter_fields + workflow_state decoders": 0.04,
    "agents: build_teams + decode_run/memory/approvals (items)": 0.02,
}


def added_targets(workdir: Path) -> dict[str, tuple[Callable[[random.Random], object], Callable[[object], object], int]]:
    """The parsers added since the first R6: name -> (make one input, run it, inputs per call)."""
    contexts_path = workdir / "contexts.yaml"
    return {
        "queries: parse_search + to_cosmos": (query_text, run_query, 1),
        "sql: raw_sql + parse_parameter": (sql_case, run_sql, 1),
        "exports: read_export (lines)": (export_line, run_export_lines, 8),
        "contexts: read_contexts_file": (lambda rng: (contexts_text(rng), contexts_path), run_contexts_file, 1),
        "contexts: parse_env_file + format_env_file": (env_text, run_env_text, 1),
        "contexts: component_documents + for_standalone_daprd": (component_list, run_component_list, 1),
        "audit: read_records (lines)": (audit_line, run_audit_lines, 8),
        "audit: parse_since": (since_text, run_since, 1),
        "protobuf: iter_fields + workflow_state decoders": (pb_case, run_protobuf, 1),
        "agents: build_teams + decode_run/memory/approvals (items)": (agent_item, run_agents, 4),
    }


def lap(tally: Tally, since: float) -> float:
    """Add the time since `since` to `tally`; the time now."""
    now = time.perf_counter()
    tally.seconds += now - since
    return now


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=200_000, help="total inputs over all targets (default 200000)")
    args = smoke_args(parser, argv, count=1_700)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    rng = random.Random(args.seed)
    tallies = {name: Tally(name) for name in SHARES}
    quota = {name: max(1, round(args.count * share)) for name, share in SHARES.items()}
    started = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="fuzz-components-") as tmp:
        workdir = Path(tmp)
        tally = tallies["components: load_resources (files)"]
        clock = time.perf_counter()
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

    clock = lap(tally, clock)
    tally = tallies["components: parse_components (text)"]
    for _ in range(quota[tally.name]):
        text = component_text(rng)
        attempt(tally, run_component_text, text, text)

    clock = lap(tally, clock)
    tally = tallies["ids: parse_document_id"]
    for _ in range(quota[tally.name]):
        case = (doc_id(rng), prefix(rng))
        attempt(tally, run_parse_id, case, case)

    clock = lap(tally, clock)
    tally = tallies["ids: document_id"]
    for _ in range(quota[tally.name]):
        key = word(rng, 4) if rng.random() < 0.8 else word(rng) + "||" + word(rng)
        case = (key, prefix(rng))
        attempt(tally, run_document_id, case, case)

    clock = lap(tally, clock)
    tally = tallies["values: decode_value + value_bytes_of"]
    for _ in range(quota[tally.name]):
        doc = document(rng)
        attempt(tally, run_value, doc, doc)

    clock = lap(tally, clock)
    tally = tallies["expiry: effective_expiry/countdown_text/ttl_to_keep_instant"]
    for _ in range(quota[tally.name]):
        item_ttl = None if rng.random() < 0.2 else number(rng)
        default_ttl = None if rng.random() < 0.2 else number(rng)
        ts = rng.choice([1_700_000_000, 0, number(rng), number(rng)])
        now = rng.choice([1_700_000_100.25, 1_700_000_000, number(rng), number(rng)])
        choice = rng.choice([TtlChoice(), TtlChoice(TtlMode.RESTART), TtlChoice(TtlMode.NONE), TtlChoice(TtlMode.SET, 60)])
        case = (item_ttl, default_ttl, ts, now, choice)
        attempt(tally, run_expiry, case, case[:4])

    clock = lap(tally, clock)
    tally = tallies["ttl: TtlChoice.parse"]
    for _ in range(quota[tally.name]):
        text = ttl_text(rng)
        attempt(tally, run_ttl_text, text, text)

    clock = lap(tally, clock)

    with tempfile.TemporaryDirectory(prefix="fuzz-contexts-") as tmp:
        for name, (make, run, per_call) in added_targets(Path(tmp)).items():
            tally = tallies[name]
            while tally.inputs < quota[name]:
                n = min(per_call, quota[name] - tally.inputs)
                case = make(rng) if per_call == 1 else [make(rng) for _ in range(n)]
                attempt(tally, run, case, case, n)
            clock = lap(tally, clock)

    width = max(len(name) for name in tallies)
    total_inputs = total_expected = total_unexpected = 0
    for tally in tallies.values():
        expected = sum(tally.expected.values())
        total_inputs += tally.inputs
        total_expected += expected
        total_unexpected += tally.unexpected_count
        detail = "; ".join(f"{reason} {n}" for reason, n in tally.expected.most_common())
        print(f"{tally.name:<{width}}  inputs {tally.inputs:>7}  expected errors {expected:>6}  "
              f"unexpected exceptions {tally.unexpected_count:>3}  {tally.seconds:6.1f} s"
              + (f"  ({detail})" if detail else ""))
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
