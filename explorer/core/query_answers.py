"""What a search answers, and whether the two answers agree: daprd's QueryStateAlpha1 answer as it gives it,
the paging daprd's Cosmos store does (`take_for_limit`), and the comparison of the direct answer with
Dapr's (`agree`), values read the way daprd's Go code writes them. Pure: no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any



@dataclass(frozen=True)
class QueryAnswer:
    """One answer of QueryStateAlpha1 as daprd gives it: (key, data, etag, error) per item, and the
    token for the next page ("" when daprd gave none)."""

    results: tuple[tuple[str, bytes, str, str], ...]
    token: str
    metadata: Mapping[str, str] = field(default_factory=dict)


# -- answers (dapr/dapr pkg/api/universal/state_query.go, cosmosdb_query.go Query.execute) -----------


def original_state_key(doc_id: str) -> str:
    """The key daprd puts in a query answer for an item id: GetOriginalStateKey (dapr/dapr
    pkg/components/state/state_config.go) — the text between the first and second '||', the whole
    id when it has none. So an actor key `app||type||id||key` comes back as just `type`, and the
    same key of two apps comes back twice under one name."""
    parts = doc_id.split("||", 2)
    return doc_id if len(parts) <= 1 else parts[1]


@dataclass(frozen=True)
class LimitedPage:
    """What Query.execute keeps of the Cosmos pages it read for one answer."""

    items: tuple[Mapping[str, Any], ...]
    done: bool  # the answer is complete: stop reading Cosmos pages
    skipped: int  # items of the last page read that the answer leaves out although its token is past them


def take_for_limit(kept: int, page: Sequence[Mapping[str, Any]], limit: int) -> LimitedPage:
    """Query.execute's loop over one Cosmos page when `kept` items are already in the answer: items
    are appended until `limit` (when not 0) is reached; the rest of the page is dropped, and the
    answer's token is the one after this page — so those dropped items are in no page of Dapr's."""
    if limit == 0:
        return LimitedPage(tuple(page), False, 0)
    room = max(limit - kept, 0)
    taken = tuple(page[:room])
    done = kept + len(taken) >= limit
    return LimitedPage(taken, done, len(page) - len(taken) if done else 0)


def _go_float(value: Any) -> Any:
    """A decoded JSON value as encoding/json decodes it into interface{}: every number a float64."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, Mapping):
        return {k: _go_float(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_go_float(v) for v in value]
    return value


def _jsoniter_float(value: float) -> str:
    """json-iterator's WriteFloat64Lossy (ConfigFastest: MarshalFloatWith6Digits): at most six
    decimals, rounded half up; beyond 0x4ffffff its WriteFloat64 (shortest digits, 'e' form below
    1e-6 or from 1e21)."""
    sign = ""
    if value < 0:
        sign, value = "-", -value
    if value > 0x4FFFFFF:
        if value >= 1e21:
            mantissa, _, exponent = repr(value).partition("e")
            exponent = exponent or "0"
            return f"{sign}{mantissa.removesuffix('.0')}e{'+' if not exponent.startswith('-') else '-'}" \
                   f"{exponent.lstrip('+-').lstrip('0') or '0'}"
        return sign + format(Decimal(repr(value)), "f").removesuffix(".0")
    scaled = int(value * 1_000_000 + 0.5)
    whole, fraction = divmod(scaled, 1_000_000)
    if fraction == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}." + f"{fraction:06d}".rstrip("0")


def _jsoniter(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return _jsoniter_float(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_jsoniter(v)}" for k, v in value.items()) + "}"
    return "[" + ",".join(_jsoniter(v) for v in value) + "]"


def dapr_answer_value(value: Any) -> Any:
    """A stored JSON value as a query answer through daprd carries it, decoded again: Query.execute
    marshals the value with jsoniter.ConfigFastest, which keeps six decimals of a number and turns
    integers beyond 2^53 into float64 (so 3.14159265 comes back 3.141593, 1e-7 as 0). Key order
    is not kept by Dapr either (a Go map); compare the result as JSON."""
    return json.loads(_jsoniter(_go_float(value)))


# -- agreement of the two answers ----------------------------------------------------------------


@dataclass(frozen=True)
class DirectItem:
    """An item of the direct answer as Dapr would answer it: the document's id, etag and value."""

    doc_id: str
    etag: str
    is_binary: bool
    value: Any  # the document's JSON value, or bytes for isBinary


@dataclass(frozen=True)
class DaprItem:
    key: str
    etag: str
    data: bytes
    error: str = ""


@dataclass(frozen=True)
class Agreement:
    """Whether the sidecar's answer is the direct one: the same (key, etag) pairs — in the same order
    when the query sorts — and the same values, read as Dapr returns them (six decimals, see
    `dapr_answer_value`)."""

    compared: int
    only_direct: tuple[str, ...] = ()
    only_dapr: tuple[str, ...] = ()
    different_values: tuple[str, ...] = ()
    order_differs: bool = False
    rounded: tuple[str, ...] = ()  # keys whose value Dapr's answer rounds (counted as agreeing)

    @property
    def same(self) -> bool:
        return not (self.only_direct or self.only_dapr or self.different_values or self.order_differs)

    def lines(self) -> list[str]:
        """The agreement in words, one fact a line."""
        def some(keys: tuple[str, ...]) -> str:
            shown = ", ".join(repr(k) for k in keys[:5])
            return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")

        if self.same:
            lines = [f"agree: Dapr and Cosmos DB return the same {self.compared} keys, etags and values"]
        else:
            lines = ["DISAGREE: Dapr's answer is not what Cosmos DB holds for this query"]
        for label, keys in (("only in Cosmos DB's answer", self.only_direct), ("only in Dapr's answer", self.only_dapr),
                            ("different values", self.different_values)):
            if keys:
                lines.append(f"{label}: {some(keys)}")
        if self.order_differs:
            lines.append("same keys, in another order")
        if self.rounded:
            lines.append(f"Dapr's answer rounds numbers to six decimals in {some(self.rounded)} "
                         "(jsoniter's ConfigFastest in Query.execute); the stored values are exact")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {"agree": self.same, "compared": self.compared, "onlyCosmos": list(self.only_direct),
                "onlyDapr": list(self.only_dapr), "differentValues": list(self.different_values),
                "orderDiffers": self.order_differs, "rounded": list(self.rounded)}


def _dapr_value(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def agree(direct: Sequence[DirectItem], via_dapr: Sequence[DaprItem], ordered: bool = False) -> Agreement:
    """Compare the direct answer with the sidecar's: keys as daprd names them (original_state_key),
    etags, values as daprd marshals them, and the order when `ordered` (the query sorts)."""
    from collections import Counter

    mine = [(original_state_key(item.doc_id), item.etag) for item in direct]
    theirs = [(item.key, item.etag) for item in via_dapr]
    mine_count, their_count = Counter(mine), Counter(theirs)
    only_direct = tuple(k for (k, _), n in (mine_count - their_count).items() for _ in range(n))
    only_dapr = tuple(k for (k, _), n in (their_count - mine_count).items() for _ in range(n))
    data = {}
    for item in via_dapr:
        data.setdefault((item.key, item.etag), item)
    different: list[str] = []
    rounded: list[str] = []
    compared = 0
    for item, pair in zip(direct, mine):
        answer = data.get(pair)
        if answer is None:
            continue
        compared += 1
        if item.is_binary:
            same = isinstance(item.value, (bytes, bytearray)) and bytes(item.value) == answer.data
        else:
            expected = dapr_answer_value(item.value)
            same = not answer.error and _dapr_value(answer.data) == expected
            if same and expected != item.value:
                rounded.append(pair[0])
        if not same:
            different.append(pair[0])
    order_differs = ordered and not only_direct and not only_dapr and mine != theirs
    return Agreement(compared, only_direct, only_dapr, tuple(different), order_differs, tuple(rounded))
