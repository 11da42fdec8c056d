"""Dapr's state query language (the body of QueryStateAlpha1), read and translated into Cosmos DB SQL
exactly as Dapr's Cosmos DB state store translates it; and raw Cosmos SQL, checked to be a SELECT.

What it is for: `search` runs the same filter directly against Cosmos DB and through a sidecar, and
the two answers can only be compared if the direct query is the one daprd sends. Every rule here
names the Go function of components-contrib v1.18.3 (state/query, state/azure/cosmosdb/
cosmosdb_query.go) or dapr/dapr v1.18.2 it follows; tests/unit/recorded/dapr-query-cosmos-1.18.3.json
holds what that Go code itself produced for a table of queries, and the unit tests hold this module
to it. Where Dapr does something a user would not expect, the parsed query carries a `note` saying
so (printed by the CLI), or — where what daprd would send is not valid SQL or would let a property
name rewrite the SQL — a `QueryError` says why, and nothing is sent.

Pure: no I/O, no clock; never builds SQL by putting a value into its text (values are always
parameters, as Dapr does); property paths are written into the SQL as Dapr writes them, and refused
when Dapr's writing of them would not be a plain property path. Bounded: a query past Cosmos DB's
documented query limits, or nested past MAX_DEPTH, is refused (QueryError naming the limit) before
it is read further, and every text is read in time linear in its length (docs/search.md, "Limits").
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Union

from explorer.core.query_limits import MAX_ANDS, MAX_DEPTH, MAX_IN_VALUES, MAX_ORS, MAX_REQUEST_BYTES, MAX_SQL_LENGTH
from explorer.errors import UsageError


#: The comparison operators of Dapr's query language (query.ParseFilter) and the SQL operator the
#: Cosmos store writes for each (cosmosdb_query.go Visit*).
STRING_OPERATORS = {"EQ": "=", "NEQ": "!="}
NUMBER_OPERATORS = {"GT": ">", "GTE": ">=", "LT": "<", "LTE": "<="}
COMBINATIONS = ("AND", "OR")
OPERATORS = (*STRING_OPERATORS, *NUMBER_OPERATORS, "IN", *COMBINATIONS)

#: Go's int (Pagination.Limit): 64 bits.
_INT64 = (-(2**63), 2**63 - 1)


class QueryError(UsageError):
    """The query is not one Dapr's Cosmos store would run (or not one to send); nothing was sent."""

    title = "Query"


@dataclass(frozen=True)
class Condition:
    """One comparison: `key` (a dotted path inside the value) `op` `value` (IN: a tuple of values)."""

    op: str
    key: str
    value: Any


@dataclass(frozen=True)
class Combination:
    """AND / OR of at least two parts."""

    op: str
    parts: tuple[Filter, ...]


Filter = Union[Condition, Combination]


@dataclass(frozen=True)
class SortKey:
    key: str
    descending: bool  # only the exact text "DESC" sorts descending (cosmosdb_query.go Finalize)


@dataclass(frozen=True)
class StateQuery:
    """A Dapr state query as daprd reads it (query.Query.UnmarshalJSON), with notes on its surprises."""

    filter: Filter | None
    sort: tuple[SortKey, ...] = ()
    limit: int = 0  # 0: no limit (Dapr then returns every match in one answer)
    token: str = ""
    notes: tuple[str, ...] = ()
    document: Mapping[str, Any] = field(default_factory=dict)  # the JSON object as given

    def to_json(self) -> str:
        """The query as JSON text for daprd: the object as given, with page.token set to `token`."""
        obj = dict(self.document)
        page_key = next((k for k in obj if k.casefold() == "page"), "page")
        page = dict(obj.get(page_key) or {})
        token_key = next((k for k in page if k.casefold() == "token"), "token")
        if self.token:
            page[token_key] = self.token
        else:
            page.pop(token_key, None)
        if page:
            obj[page_key] = page
        else:
            obj.pop(page_key, None)
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    def with_token(self, token: str) -> StateQuery:
        return replace(self, token=token)


@dataclass(frozen=True)
class CosmosQuery:
    """What daprd's Cosmos store sends: the SQL, its parameters, and how it pages (Query.execute)."""

    sql: str
    parameters: tuple[Mapping[str, Any], ...]
    limit: int = 0
    token: str = ""

    @property
    def parameter_list(self) -> list[dict[str, Any]]:
        return [dict(p) for p in self.parameters]


# -- reading the query (state/query/query.go Query.UnmarshalJSON, filter.go ParseFilter) ------------


def _refuse_constant(name: str):
    raise QueryError(f"not valid JSON: {name} is not a JSON number")


def _loads(text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except QueryError:
        raise
    except RecursionError:
        raise _too_deep(json_levels=True) from None
    except ValueError as exc:
        detail = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        where = f" at line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise QueryError(f"not valid JSON{where}: {detail}") from None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _fold_fields(obj: Mapping[str, Any], known: Sequence[str], where: str, notes: list[str]) -> dict[str, Any]:
    """A JSON object's fields as Go's encoding/json fills a struct: names match case-insensitively
    (Unicode folding: 'ſort' is 'sort'), a later duplicate wins, unknown fields are ignored — each
    ignored field gets a note, since a typo ('filters') silently matches every item."""
    fields: dict[str, Any] = {}
    for name, value in obj.items():
        folded = name.casefold()
        match = next((k for k in known if k == folded), None)
        if match is None:
            notes.append(f"{where}field {name!r} is not part of Dapr's query language: Dapr ignores it")
            continue
        fields[match] = value
    return fields


def _string_field(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise QueryError(f"{what} must be a string, not {_shown(value)}")
    return value


#: JSON levels read at all (a filter within MAX_DEPTH has at most 2 * MAX_DEPTH + 3: an AND/OR level
#: is an object and an array): deeper JSON is refused before it is walked, so that walking it stays
#: far from Python's recursion limit; a filter between the two gets the message of MAX_DEPTH.
_MAX_JSON_DEPTH = 200


def _too_deep(json_levels: bool = False) -> QueryError:
    what = (f"the query nests JSON more than {_MAX_JSON_DEPTH} levels deep" if json_levels
            else f"filter: AND/OR nested more than {MAX_DEPTH} levels deep")
    return QueryError(f"{what}: past the explorer's limit of {MAX_DEPTH} levels (Cosmos DB "
                      "documents none; it keeps the work of every query bounded). An AND inside an AND is one AND of "
                      "all their parts, so flatten the filter")


@dataclass
class _Size:
    """What a filter asks of Cosmos DB so far, counted while it is read (the limits above)."""

    ands: int = 0
    ors: int = 0


def _parse_filter(obj: Any, where: str = "filter", depth: int = 1, size: _Size | None = None) -> Filter:
    """query.ParseFilter: a map of exactly one operator; refused (QueryError) past MAX_DEPTH levels
    of AND/OR, MAX_ANDS, MAX_ORS or MAX_IN_VALUES, before any deeper part is read."""
    size = size if size is not None else _Size()
    if not isinstance(obj, dict):
        raise QueryError(f"{where}: each filter is an object with one operator ({', '.join(OPERATORS)}), "
                         f"not {_shown(obj)}")
    if len(obj) != 1:
        raise QueryError(f"{where}: a filter object holds exactly one operator, not {len(obj)} "
                         f"({', '.join(map(repr, obj)) or 'none'}); combine them with AND or OR")
    ((op, body),) = obj.items()
    if op not in OPERATORS:
        hint = f" (operators are upper-case: {op.upper()})" if op.upper() in OPERATORS else ""
        raise QueryError(f"{where}: unknown operator {op!r}{hint}; Dapr's query language has "
                         f"{', '.join(OPERATORS)}")
    here = f"{where}.{op}"
    if op in COMBINATIONS:  # filter.go parseFilters
        if not isinstance(body, list):
            raise QueryError(f"{here} must be an array of filters, not {_shown(body)}")
        if len(body) < 2:
            raise QueryError(f"{here} must hold at least two filters (Dapr refuses {len(body)})")
        if depth > MAX_DEPTH:
            raise _too_deep()
        if op == "AND":
            size.ands += len(body) - 1
        else:
            size.ors += len(body) - 1
        for count, limit in ((size.ands, MAX_ANDS), (size.ors, MAX_ORS)):
            if count > limit:
                raise QueryError(f"{here}: the filter joins more than {limit} conditions with {op}, Cosmos DB's limit "
                                 f"of {limit} {op}s per query (Azure Cosmos DB service quotas); use IN for many "
                                 "values of one key, or split the search")
        return Combination(op, tuple(_parse_filter(part, f"{here}[{i}]", depth + 1, size)
                                     for i, part in enumerate(body)))
    if not isinstance(body, dict):  # EQ.Parse and the others
        raise QueryError(f"{here} must be an object {{\"<key>\": <value>}}, not {_shown(body)}")
    if len(body) != 1:
        raise QueryError(f"{here} must hold exactly one key and its value, not {len(body)}")
    ((key, value),) = body.items()
    if op == "IN":  # IN.Parse, then cosmosdb_query.go VisitIN
        if not isinstance(value, list):
            raise QueryError(f"{here}: the value of {key!r} must be an array of strings, not {_shown(value)}")
        if not value:
            raise QueryError(f"{here}: the array for {key!r} is empty (Dapr's Cosmos store refuses an empty IN)")
        if len(value) > MAX_IN_VALUES:
            raise QueryError(f"{here}: {len(value)} values for {key!r}, past Cosmos DB's limit of {MAX_IN_VALUES} "
                             "arguments per IN expression (Azure Cosmos DB service quotas); split the search")
        for item in value:
            _check_string(op, key, item, here)
        return Condition(op, key, tuple(value))
    if op in STRING_OPERATORS:  # VisitEQ / VisitNEQ: `f.Val.(string)`
        _check_string(op, key, value, here)
        return Condition(op, key, value)
    # VisitGT/GTE/LT/LTE: int or float64; encoding/json always decodes a number as float64.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QueryError(f"{here}: {key!r} is compared with {_shown(value)}, but Dapr's Cosmos store compares "
                         f"{op} with numbers only")
    try:
        number = float(value)  # a whole number too: Dapr compares with the float64 it decoded
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise QueryError(f"{here}: {_shown(value)} is out of range for a number (Dapr refuses it)")
    return Condition(op, key, number)


def _check_string(op: str, key: str, value: Any, where: str) -> None:
    if not isinstance(value, str):
        kind = ("a number" if isinstance(value, (int, float)) and not isinstance(value, bool) else _shown(value))
        raise QueryError(f"{where}: {key!r} is compared with {kind}, but Dapr's Cosmos store compares {op} with "
                         "strings only (a number or true/false stored in the value can only be found with "
                         "GT/GTE/LT/LTE, or with --sql)")


def parse_query(query: str | Mapping[str, Any] | None) -> StateQuery:
    """Read a Dapr state query (JSON text or an already parsed object) as daprd does; QueryError
    (one line, naming what is wrong) when daprd would refuse it."""
    if isinstance(query, str):
        if not query.strip():
            raise QueryError("the query is empty: give a JSON object such as '{\"filter\": {\"EQ\": {\"k\": \"v\"}}}' "
                             "('{}' matches every item)")
        query = _loads(query)
        if isinstance(query, float) and not math.isfinite(query):
            raise QueryError("not valid JSON: the number is out of range")
    if query is None:  # JSON null: encoding/json leaves the struct empty
        query = {}
    if not isinstance(query, Mapping):
        raise QueryError(f"the query must be a JSON object with filter, sort and page, not {_shown(query)}")
    _check_numbers(query)
    notes: list[str] = []
    fields = _fold_fields(query, ("filter", "sort", "page"), "", notes)

    raw_filter = fields.get("filter")
    if raw_filter is not None and not isinstance(raw_filter, dict):
        raise QueryError(f"filter must be an object such as {{\"EQ\": {{\"k\": \"v\"}}}}, not {_shown(raw_filter)}")
    parsed = _parse_filter(raw_filter) if raw_filter else None  # UnmarshalJSON: an empty filter is none

    raw_sort = fields.get("sort")
    if raw_sort is not None and not isinstance(raw_sort, list):
        raise QueryError(f"sort must be an array of {{\"key\": …, \"order\": \"ASC\"|\"DESC\"}}, not {_shown(raw_sort)}")
    sort: list[SortKey] = []
    for i, item in enumerate(raw_sort or ()):
        if item is None:
            item = {}
        if not isinstance(item, dict):
            raise QueryError(f"sort[{i}] must be an object {{\"key\": …, \"order\": …}}, not {_shown(item)}")
        entry = _fold_fields(item, ("key", "order"), f"sort[{i}]: ", notes)
        key = _string_field(entry.get("key"), f"sort[{i}].key")
        order = _string_field(entry.get("order"), f"sort[{i}].order")
        if order not in ("", "ASC", "DESC"):
            notes.append(f"sort[{i}].order {order!r} sorts ascending: Dapr sorts descending only for the exact "
                         "text \"DESC\"")
        sort.append(SortKey(key, order == "DESC"))

    raw_page = fields.get("page")
    if raw_page is None:
        raw_page = {}
    if not isinstance(raw_page, dict):
        raise QueryError(f"page must be an object {{\"limit\": N, \"token\": \"…\"}}, not {_shown(raw_page)}")
    page = _fold_fields(raw_page, ("limit", "token"), "page: ", notes)
    limit = page.get("limit")
    if limit is None:
        limit = 0
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise QueryError(f"page.limit must be a whole number written without a point or exponent, not {_shown(limit)}")
    if not _INT64[0] <= limit <= _INT64[1]:
        raise QueryError(f"page.limit {limit} is out of range (Dapr reads it as a 64-bit integer)")
    if limit < 0:
        notes.append(f"page.limit {limit} is negative: Dapr's Cosmos store then answers with no items")
    token = _string_field(page.get("token"), "page.token")
    return StateQuery(parsed, tuple(sort), limit, token, tuple(notes), dict(query))


def _check_numbers(value: Any, depth: int = 0) -> None:
    """encoding/json refuses a number beyond float64 (json.loads reads 1e400 as inf)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise QueryError("a number in the query is out of range (Dapr refuses it)")
    if depth > _MAX_JSON_DEPTH:
        raise _too_deep(json_levels=True)
    if isinstance(value, dict):
        for item in value.values():
            _check_numbers(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_numbers(item, depth + 1)


# -- property paths (cosmosdb_query.go replaceKeywords / replaceKeyword) ---------------------------


def _is_letter(ch: str) -> bool:
    return ("a" <= ch <= "z") or ("A" <= ch <= "Z")


def _replace_keyword(key: str, keyword: str) -> str:
    """cosmosdb_query.go replaceKeyword, step for step (Go indexes bytes; every match it makes is at
    an ASCII position — 'c.value' first, then the start of the rest — so code points give the same)."""
    index = key.upper().find("." + keyword.upper())
    if index == -1:
        return key
    after = index + len(keyword) + 1
    if after == len(key) or not _is_letter(key[after]):
        new_keyword = keyword
        if after < len(key) - 1:
            period = key[after + 1:].find(".")
            new_keyword = key[after + 1:after + period + 1] if period != -1 else key[after + 1:]
        return f"{key[:index]}['{key[index + 1:after]}']{_replace_keyword(key[after:], new_keyword)}"
    return key


def dapr_property_path(key: str) -> str:
    """The SQL Dapr writes for a key of the query language: replaceKeywords("c.value." + key)."""
    return _replace_keyword("c.value." + key, "value")


_PLAIN_SEGMENT = re.compile(r"\['([^'\\]*)'\]")


def property_path(key: str, where: str) -> str:
    """dapr_property_path, refused (QueryError) when what Dapr writes is not a plain property path:
    an empty key or one ending in '.', which Dapr turns into invalid SQL, or a key holding a quote or
    a backslash, which Dapr writes into the SQL unescaped (so the key would rewrite the query)."""
    path = dapr_property_path(key)
    rest = path[len("c"):]
    segments = _PLAIN_SEGMENT.findall(rest)
    if "".join(f"['{s}']" for s in segments) != rest:
        if "'" in key or "\\" in key:
            why = ("holds a quote or a backslash, which Dapr's Cosmos store writes into the SQL unescaped "
                   "(it would change the query, or Cosmos DB refuses it)")
        else:
            why = "is empty or ends with '.', which Dapr's Cosmos store turns into invalid SQL"
        raise QueryError(f"{where}: the key {key!r} {why}: {path if path.isprintable() else _shown(path)}")
    return path


# -- translation (cosmosdb_query.go Query.Visit*, visitFilters, Finalize, setNextParameter*) ---------


class _Translation:
    def __init__(self) -> None:
        self.parameters: list[dict[str, Any]] = []

    def parameter(self, value: Any) -> str:
        """setNextParameter: @__param__<n>__, numbered in the order the visitor meets the values."""
        name = f"@__param__{len(self.parameters)}__"
        self.parameters.append({"name": name, "value": value})
        return name

    def visit(self, node: Filter, where: str) -> str:
        if isinstance(node, Combination):  # VisitAND / VisitOR → visitFilters
            texts = []
            for i, part in enumerate(node.parts):
                text = self.visit(part, f"{where}.{node.op}[{i}]")
                texts.append(f"({text})" if isinstance(part, Combination) else text)
            return f" {node.op} ".join(texts)
        path = property_path(node.key, f"{where}.{node.op}")
        if node.op == "IN":  # VisitIN
            return f"{path} IN ({', '.join(self.parameter(v) for v in node.value)})"
        operator = STRING_OPERATORS.get(node.op) or NUMBER_OPERATORS[node.op]
        return f"{path} {operator} {self.parameter(node.value)}"


def to_cosmos(query: StateQuery) -> CosmosQuery:
    """The SQL, parameters, limit and token daprd's Cosmos store runs for `query` (Query.Finalize)."""
    translation = _Translation()
    where = translation.visit(query.filter, "filter") if query.filter is not None else ""
    order = [f"{property_path(s.key, f'sort[{i}]')} {'DESC' if s.descending else 'ASC'}"
             for i, s in enumerate(query.sort)]
    sql = "SELECT * FROM c" + (f" WHERE {where}" if where else "") + (f" ORDER BY {', '.join(order)}" if order else "")
    return _within_limits(CosmosQuery(sql, tuple(translation.parameters), query.limit, query.token),
                          "the SQL daprd's Cosmos store writes for this query")


def _within_limits(query: CosmosQuery, what: str) -> CosmosQuery:
    """`query`, or QueryError when its SQL or its request is past Cosmos DB's limits."""
    if len(query.sql) > MAX_SQL_LENGTH:
        raise QueryError(f"{what} is {len(query.sql):,} characters long, past Cosmos DB's limit of {MAX_SQL_LENGTH:,} "
                         "(\"Maximum length of SQL query: 512 KB\", Azure Cosmos DB service quotas); shorten it")
    body = len(json.dumps({"query": query.sql, "parameters": query.parameter_list},  # half a surrogate pair: 3 bytes
                          ensure_ascii=False).encode("utf-8", "surrogatepass"))
    if body > MAX_REQUEST_BYTES:
        raise QueryError(f"the query's request (its SQL and parameter values) is {body:,} bytes, past Cosmos DB's "
                         f"limit of {MAX_REQUEST_BYTES:,} (\"Maximum request size: 2 MB\", Azure Cosmos DB service "
                         "quotas); search for shorter values")
    return query


# -- raw SQL ---------------------------------------------------------------------------------------


#: A comment; one never closed runs to the end (so the search for its end is made once, not once per
#: '/*': unclosed, each '/*' scanned the rest of the text — quadratic in the text's length).
_SQL_COMMENT = re.compile(r"--[^\n]*|/\*.*?(?:\*/|\Z)", re.S)
_PARAMETER = re.compile(r"@[A-Za-z_][A-Za-z0-9_]*")


def raw_sql(sql: str, parameters: Mapping[str, Any] | None = None) -> CosmosQuery:
    """A Cosmos SQL query to run as it is, with `parameters` ({"@name": value}); QueryError unless it
    is one SELECT (Cosmos SQL has no statement that writes, but anything else is not ours to send),
    or when a parameter it names is not given (or one given is not named)."""
    if len(sql) > MAX_SQL_LENGTH:  # before reading it at all
        _within_limits(CosmosQuery(sql, ()), "the SQL")
    text = sql.strip()
    bare = _SQL_COMMENT.sub(" ", text).strip()
    first = bare.split(None, 1)[0].upper() if bare else ""
    if first != "SELECT":
        shown = bare.split(None, 1)[0] if bare else "nothing"
        raise QueryError(f"--sql runs one SELECT query only (Cosmos DB SQL reads; writes go through Dapr); "
                         f"this starts with {shown!r}")
    if ";" in _strip_strings(bare).rstrip().rstrip(";"):
        raise QueryError("--sql runs one SELECT query only: remove the ';' and what follows it")
    given = dict(parameters or {})
    for name in given:
        if not _PARAMETER.fullmatch(name):
            raise QueryError(f"parameter name {name!r} must look like @name")
    named = set(_PARAMETER.findall(_strip_strings(bare)))
    missing = sorted(named - set(given))
    if missing:
        raise QueryError(f"the SQL names {', '.join(missing)} but no value is given for it: pass --param "
                         f"{missing[0]}=VALUE")
    unused = sorted(set(given) - named)
    if unused:
        raise QueryError(f"parameter {', '.join(unused)} is given but the SQL does not use it")
    return _within_limits(CosmosQuery(text.rstrip().rstrip(";").rstrip(),
                                      tuple({"name": k, "value": v} for k, v in given.items())), "the SQL")


def _strip_strings(sql: str) -> str:
    """The SQL with its string literals blanked (so '@x' or ';' inside a string do not count)."""
    return _STRING.sub("''", sql)


#: A string literal; one never closed runs to the end, and a backslash escapes the next character or
#: ends the text. So a match can never fail once it has started: the scan is linear (a pattern that
#: could fail made `'\'\'\'…` of 200,000 characters take ten minutes, every escaped quote starting a
#: scan of the rest).
_STRING = re.compile(r"'(?:[^'\\]|\\(?:.|\Z))*(?:'|\Z)|\"(?:[^\"\\]|\\(?:.|\Z))*(?:\"|\Z)", re.S)


def parse_parameter(text: str) -> tuple[str, Any]:
    """--param @name=VALUE: VALUE as JSON when it parses (42, true, "x", [..]), else the text itself."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise QueryError(f"--param {text!r}: write it as @name=VALUE")
    if not name.startswith("@"):
        name = "@" + name
    try:
        parsed = json.loads(value, parse_constant=_refuse_constant)
    except (ValueError, QueryError):
        parsed = value
    return name, parsed


_QUERY_FIELDS = ("filter", "sort", "page")


def _is_bare_filter(obj: Any) -> bool:
    """Whether a typed object is the filter alone: one field, neither a field of a Dapr query nor a
    misspelling of one ('filters', 'Sort ', 'pages' stay a query, whose unknown field Dapr ignores).
    So a misspelt operator ('eq', 'EQUALS') is refused as it is under "filter" — never read as a
    query with an unknown field, which Dapr would run as `{}`, matching every item."""
    import difflib

    if not isinstance(obj, dict) or len(obj) != 1:
        return False
    (name,) = obj
    if name in OPERATORS:
        return True
    folded = name.casefold().strip()
    return folded not in _QUERY_FIELDS and not difflib.get_close_matches(folded, _QUERY_FIELDS, n=1, cutoff=0.75)


def parse_search(text: str) -> StateQuery:
    """A query as typed on the command line: a whole Dapr query, or just its filter object
    ('{"EQ": {"k": "v"}}' — which Dapr itself would ignore as an unknown field and match every item)."""
    if isinstance(text, str) and text.strip():
        obj = _loads(text)
        if _is_bare_filter(obj):
            obj = {"filter": obj}
        return parse_query(obj)
    return parse_query(text)
