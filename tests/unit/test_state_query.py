"""Dapr's state query language (explorer.core.state_query) against what components-contrib v1.18.3's
own Go code produced (tests/unit/recorded/dapr-query-cosmos-1.18.3.json, made by
record_dapr_query.py beside it), plus properties of the translation, Dapr's paging and the agreement
of two answers. Pure logic: no stack; the answers compared here are made up."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.cli.parser import parse_args
from explorer.core.query_answers import (
    Agreement,
    DaprItem,
    DirectItem,
    agree,
    dapr_answer_value,
    original_state_key,
    take_for_limit,
)
from explorer.core.state_query import (
    CosmosQuery,
    QueryError,
    dapr_property_path,
    parse_parameter,
    parse_query,
    parse_search,
    raw_sql,
    to_cosmos,
)
from explorer.errors import UsageError

RECORDED = json.loads((Path(__file__).parent / "recorded" / "dapr-query-cosmos-1.18.3.json").read_text())

#: Queries daprd runs but the explorer refuses, on purpose: what Dapr writes into the SQL for their key
#: is not a property path (invalid SQL, or a quote that lets the key rewrite the query).
REFUSED = {"sort no key", "sort item null", "key with quote", "key injection", "key empty", "key trailing dot",
           "key backslash"}


def translate(text: str):
    cosmos = to_cosmos(parse_query(text))
    return cosmos.sql, [(p["name"], p["value"]) for p in cosmos.parameters], cosmos.limit, cosmos.token


@pytest.mark.parametrize("case", [q for q in RECORDED["queries"] if not q.get("error") and q["name"] not in REFUSED],
                         ids=lambda q: q["name"])
def test_translation_is_what_daprs_cosmos_store_sends(case):
    expected = (case["sql"], [(p["name"], p["value"]) for p in case["parameters"]], case["limit"], case["token"])
    assert translate(case["query"]) == expected
    for parameter in case["parameters"]:  # Go sends numbers as float64: so do we (2^53 + 1 is 2^53 both ways)
        value = dict(translate(case["query"])[1])[parameter["name"]]
        assert type(value) is {"string": str, "float64": float}[parameter["goType"]]


@pytest.mark.parametrize("case", [q for q in RECORDED["queries"] if q.get("error")], ids=lambda q: q["name"])
def test_what_dapr_refuses_is_refused_in_one_line(case):
    with pytest.raises(QueryError) as caught:
        translate(case["query"])
    message = str(caught.value)
    assert message and "\n" not in message and len(message) < 400
    assert isinstance(caught.value, UsageError) and caught.value.exit_code == 2


@pytest.mark.parametrize("case", [q for q in RECORDED["queries"] if q["name"] in REFUSED], ids=lambda q: q["name"])
def test_keys_dapr_writes_into_sql_badly_are_refused_and_the_sql_shown(case):
    assert not case.get("error")  # daprd sends these
    with pytest.raises(QueryError) as caught:
        translate(case["query"])
    sql = case["sql"]
    path = (sql.split(" WHERE ", 1)[1].rsplit(" = @", 1)[0] if " WHERE " in sql
            else sql.split(" ORDER BY ", 1)[1].rsplit(" ", 1)[0])
    assert str(caught.value).endswith(path)


@pytest.mark.parametrize("case", RECORDED["paths"], ids=lambda p: repr(p["key"]))
def test_property_paths_are_replace_keywords(case):
    assert dapr_property_path(case["key"]) == case["path"]


@pytest.mark.parametrize("case", RECORDED["original_keys"], ids=lambda k: repr(k["id"]))
def test_keys_in_answers_are_get_original_state_key(case):
    assert original_state_key(case["id"]) == case["key"]


@pytest.mark.parametrize("case", [v for v in RECORDED["values"] if not v["document"]["isBinary"]],
                         ids=lambda v: v["document"]["id"])
def test_values_read_as_daprs_answer_carries_them(case):
    assert dapr_answer_value(case["document"]["value"]) == json.loads(base64.b64decode(case["base64"]))


def test_recorded_table_covers_every_operator_and_daprs_surprises():
    names = {q["name"] for q in RECORDED["queries"]}
    assert {"EQ", "NEQ", "IN", "GT int", "GTE float", "LT negative", "LTE exponent", "AND", "OR", "sort desc",
            "page limit and token", "filters typo", "sort desc lower"} <= names
    assert len(RECORDED["queries"]) >= 100


# -- notes on what Dapr does that a user would not expect ------------------------------------------


def test_ignored_field_is_noted_and_matches_everything():
    query = parse_query('{"filters": {"EQ": {"a": "1"}}}')
    assert query.filter is None and to_cosmos(query).sql == "SELECT * FROM c"
    assert any("'filters' is not part of Dapr's query language" in note for note in query.notes)


def test_lower_case_desc_sorts_ascending_with_a_note():
    query = parse_query('{"sort": [{"key": "a", "order": "desc"}]}')
    assert to_cosmos(query).sql.endswith("ASC")
    assert any("exact text \"DESC\"" in note for note in query.notes)


def test_negative_limit_is_noted():
    assert any("no items" in note for note in parse_query('{"page": {"limit": -1}}').notes)


def test_field_names_fold_as_go_does():
    assert to_cosmos(parse_query('{"FILTER": {"EQ": {"a": "1"}}, "ſort": [{"KEY": "b"}]}')).sql == \
        "SELECT * FROM c WHERE c['value']['a'] = @__param__0__ ORDER BY c['value']['b'] ASC"


def test_numbers_compare_as_float64():
    sql, params, _, _ = translate('{"filter": {"GT": {"n": 9007199254740993}}}')
    assert params == [("@__param__0__", 9007199254740992.0)]


def test_messages_name_what_is_wrong():
    cases = {
        '{"filter": {"EQ": {"turns": 3}}}': "'turns' is compared with a number",
        '{"filter": {"eq": {"a": "1"}}}': "operators are upper-case: EQ",
        '{"filter": {"EQ": {"a": "1"}, "IN": {"b": ["2"]}}}': "combine them with AND or OR",
        '{"page": {"limit": 1e2}}': "page.limit must be a whole number",
        '{"filter": {"AND": [{"EQ": {"a": "1"}}, {"EQ": {"b": 2}}]}}': "filter.AND[1].EQ",
        "": "the query is empty",
        "{": "not valid JSON at line 1 column 2",
    }
    for text, said in cases.items():
        with pytest.raises(QueryError, match=re.escape(said)):
            translate(text)


def test_a_bare_filter_is_taken_as_the_filter():
    assert parse_search('{"EQ": {"a": "1"}}').filter == parse_query('{"filter": {"EQ": {"a": "1"}}}').filter
    assert parse_search('{"page": {"limit": 2}}').limit == 2


@pytest.mark.parametrize("typo", ["eq", "Eq", "EQUALS", "equals", "EQ ", "and", "LIKE", "in"])
def test_a_typo_in_a_bare_filter_is_refused_as_under_filter(typo):
    """The shorthand was read as a whole query when its operator was misspelt: Dapr ignores the unknown
    field, so the search matched every item, with exit 0 — while the same typo under "filter" is refused."""
    bare = json.dumps({typo: {"state": "CA"}})
    with pytest.raises(QueryError) as under_filter:
        parse_search(json.dumps({"filter": {typo: {"state": "CA"}}}))
    with pytest.raises(QueryError) as alone:
        parse_search(bare)
    assert str(alone.value) == str(under_filter.value) and f"unknown operator {typo!r}" in str(alone.value)


@pytest.mark.parametrize("field", ["filters", "Filter", "FILTER", "sorts", "pages", "ſort"])
def test_a_query_field_or_its_misspelling_stays_a_query(field):
    """A whole query whose field is misspelt runs as daprd runs it (it ignores the field), with a note."""
    query = parse_search(json.dumps({field: {"EQ": {"state": "CA"}} if "il" in field.casefold() else []}))
    assert query.notes or field.casefold() in ("filter", "sort")


# -- limits: the work a query may ask for (Cosmos DB's documented query limits) ------------------------


def nested(depth: int, op: str = "AND") -> dict:
    """A filter of `depth` levels of AND/OR (1: one AND of two conditions)."""
    node = {"EQ": {"a": "x"}}
    for _ in range(depth):
        node = {op: [{"NEQ": {"b": "y"}}, node]}
    return node


def test_depth_up_to_the_limit_is_read_and_one_more_is_refused():
    from explorer.core.query_limits import MAX_DEPTH

    assert to_cosmos(parse_search(json.dumps({"filter": nested(MAX_DEPTH)}))).sql.count("(") == MAX_DEPTH - 1
    for depth in (MAX_DEPTH + 1, 50, 98, 5000):  # as text: json.dumps itself cannot write 5,000 levels
        text = '{"filter": ' + '{"AND": [{"NEQ": {"b": "y"}}, ' * depth + '{"EQ": {"a": "x"}}' + "]}" * depth + "}"
        with pytest.raises(QueryError) as caught:
            parse_search(text)
        said = str(caught.value)
        assert f"past the explorer's limit of {MAX_DEPTH} levels" in said and "flatten" in said and "\n" not in said
        assert len(said) < 400, said


def test_ands_ors_and_in_values_past_cosmos_limits_are_refused():
    from explorer.core.query_limits import MAX_ANDS, MAX_IN_VALUES, MAX_ORS

    def flat(op, n):
        return json.dumps({"filter": {op: [{"EQ": {"a": str(i)}} for i in range(n)]}})

    assert to_cosmos(parse_search(flat("AND", MAX_ANDS + 1))).sql.count(" AND ") == MAX_ANDS
    assert to_cosmos(parse_search(flat("OR", MAX_ORS + 1))).sql.count(" OR ") == MAX_ORS
    with pytest.raises(QueryError, match=f"more than {MAX_ANDS} conditions with AND, Cosmos DB's limit"):
        parse_search(flat("AND", MAX_ANDS + 2))
    with pytest.raises(QueryError, match=f"Cosmos DB's limit of {MAX_ORS} ORs per query"):
        parse_search(flat("OR", MAX_ORS + 2))
    # counted over the whole filter, not per AND
    spread = {"OR": [{"AND": [{"EQ": {"a": str(i)}}, {"EQ": {"b": str(i)}}]} for i in range(MAX_ANDS + 1)]}
    with pytest.raises(QueryError, match="with AND"):
        parse_search(json.dumps({"filter": spread}))
    assert parse_search(json.dumps({"IN": {"a": [str(i) for i in range(MAX_IN_VALUES)]}}))
    with pytest.raises(QueryError, match=f"past Cosmos DB's limit of {MAX_IN_VALUES} arguments per IN"):
        parse_search(json.dumps({"IN": {"a": [str(i) for i in range(MAX_IN_VALUES + 1)]}}))


def test_sql_and_request_past_cosmos_limits_are_refused():
    from explorer.core.query_limits import MAX_REQUEST_BYTES, MAX_SQL_LENGTH

    long_key = "k" * 400
    many = {"AND": [{"EQ": {long_key: str(i)}} for i in range(1500)]}  # 1,500 * ~430 characters of SQL
    with pytest.raises(QueryError, match=f"past Cosmos DB's limit of {MAX_SQL_LENGTH:,}.*512 KB"):
        to_cosmos(parse_search(json.dumps(many)))
    with pytest.raises(QueryError, match=f"past Cosmos DB's limit of {MAX_REQUEST_BYTES:,}.*2 MB"):
        to_cosmos(parse_search(json.dumps({"EQ": {"a": "x" * MAX_REQUEST_BYTES}})))
    head = "SELECT * FROM c WHERE c.id = '"
    at_limit = head + "x" * (MAX_SQL_LENGTH - len(head) - 1) + "'"
    assert raw_sql(at_limit).sql == at_limit
    with pytest.raises(QueryError, match="the SQL is 524,289 characters long, past Cosmos DB's limit of 524,288"):
        raw_sql(at_limit + " ")
    with pytest.raises(QueryError, match="the SQL is"):
        raw_sql("SELECT " + "/*" * MAX_SQL_LENGTH)  # refused before any of it is read


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 120), st.sampled_from(["AND", "OR"]), st.integers(2, 4))
def test_any_deep_filter_is_read_or_refused_in_one_line(depth, op, width):
    """Whatever the depth, reading is bounded: a filter within the limit translates, one past it is
    refused (never a RecursionError or a traceback); the SQL nests one pair of parentheses a level."""
    from explorer.core.query_limits import MAX_DEPTH

    node = {"EQ": {"a": "x"}}
    for _ in range(depth):
        node = {op: [*({"NEQ": {"b": str(i)}} for i in range(width - 1)), node]}
    text = json.dumps({"filter": node})
    if depth <= MAX_DEPTH:
        assert to_cosmos(parse_search(text)).sql.count("(") == depth - 1
    else:
        with pytest.raises(QueryError, match="levels deep"):
            parse_search(text)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet="'\\\"/*-@;x ", max_size=3000))
def test_raw_sql_reads_any_text_in_linear_time(tail):
    """Quotes, backslashes and comments in any order: checked at once (an unclosed string of escaped
    quotes once took ten minutes: every escaped quote started a scan of the rest)."""
    import time

    started = time.perf_counter()
    for text in ("SELECT * FROM c WHERE c.a = " + tail, "SELECT * FROM c WHERE c.a = " + tail * 60):
        try:
            raw_sql(text)
        except QueryError:
            pass
    assert time.perf_counter() - started < 2.0


def test_to_json_round_trips_and_sets_the_token():
    query = parse_query('{"Filter": {"IN": {"a": ["1", "2"]}}, "sort": [{"key": "a", "order": "DESC"}], '
                        '"page": {"limit": 3, "token": "old"}}')
    again = parse_query(query.with_token("new").to_json())
    assert (again.filter, again.sort, again.limit, again.token) == (query.filter, query.sort, 3, "new")
    assert "token" not in query.with_token("").to_json()
    assert parse_query(parse_query("{}").with_token("t").to_json()).token == "t"


# -- properties of the translation -------------------------------------------------------------------

KEYS = st.lists(st.text(st.characters(blacklist_characters=".'\\", blacklist_categories=("Cs",)), min_size=1,
                        max_size=8), min_size=1, max_size=3).map(".".join)
STRINGS = st.text(max_size=20)
NUMBERS = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=False, allow_infinity=False))


def conditions():
    return st.one_of(
        st.builds(lambda op, k, v: {op: {k: v}}, st.sampled_from(["EQ", "NEQ"]), KEYS, STRINGS),
        st.builds(lambda op, k, v: {op: {k: v}}, st.sampled_from(["GT", "GTE", "LT", "LTE"]), KEYS, NUMBERS),
        st.builds(lambda k, v: {"IN": {k: v}}, KEYS, st.lists(STRINGS, min_size=1, max_size=4)),
    )


FILTERS = st.recursive(conditions(), lambda inner: st.builds(lambda op, parts: {op: parts}, st.sampled_from(["AND", "OR"]),
                                                               st.lists(inner, min_size=2, max_size=3)), max_leaves=12)


def other_values(node):
    """The same filter with every value replaced by another of its kind."""
    ((op, body),) = node.items()
    if op in ("AND", "OR"):
        return {op: [other_values(part) for part in body]}
    ((key, value),) = body.items()
    if op == "IN":
        return {op: {key: ["@x" + v for v in value]}}
    return {op: {key: "@__param__9__" + value if isinstance(value, str) else (0.25 if value == 0.5 else 0.5)}}


@settings(max_examples=300, deadline=None)
@given(FILTERS, st.lists(st.tuples(KEYS, st.booleans()), max_size=2), st.integers(0, 500))
def test_any_valid_filter_translates_with_every_parameter_used_once(node, sort, limit):
    text = json.dumps({"filter": node, "sort": [{"key": k, "order": "DESC" if d else "ASC"} for k, d in sort],
                       "page": {"limit": limit}})
    cosmos = to_cosmos(parse_query(text))
    outside_paths = re.sub(r"\['[^']*'\]", "[]", cosmos.sql)  # property names are the user's text
    names = re.findall(r"@__param__\d+__", outside_paths)
    assert names == [p["name"] for p in cosmos.parameters] == [f"@__param__{i}__" for i in range(len(names))]
    assert outside_paths.count("(") == outside_paths.count(")") and cosmos.limit == limit
    # Values never reach the SQL text: other values, the same SQL.
    changed = to_cosmos(parse_query(json.dumps({**json.loads(text), "filter": other_values(node)})))
    assert changed.sql == cosmos.sql


# -- Dapr's paging (Query.execute) ---------------------------------------------------------------------


def test_limit_takes_from_a_page_and_counts_what_it_drops():
    page = [{"id": str(i)} for i in range(5)]
    cut = take_for_limit(0, page, 2)
    assert [i["id"] for i in cut.items] == ["0", "1"] and cut.done and cut.skipped == 3
    assert take_for_limit(1, page[:1], 3) == take_for_limit(1, page[:1], 3)
    partial = take_for_limit(1, page[:1], 3)
    assert len(partial.items) == 1 and not partial.done and partial.skipped == 0
    whole = take_for_limit(0, page, 0)
    assert len(whole.items) == 5 and not whole.done
    negative = take_for_limit(0, page, -1)
    assert negative.items == () and negative.done and negative.skipped == 5


# -- agreement of two answers (made-up answers) ---------------------------------------------------------


def test_made_up_answers_that_agree():
    direct = [DirectItem("app||a", "e1", False, {"x": "1"}), DirectItem("app||b", "e2", True, b"\x00\x01")]
    dapr = [DaprItem("b", "e2", b"\x00\x01"), DaprItem("a", "e1", b'{"x":"1"}')]
    result = agree(direct, dapr)
    assert result.same and result.compared == 2 and result.lines()[0].startswith("agree:")
    assert not agree(direct, dapr, ordered=True).same  # the order is the query's when it sorts
    assert agree(direct, dapr, ordered=True).order_differs


def test_made_up_answers_that_disagree_say_how():
    direct = [DirectItem("app||a", "e1", False, {"x": "1"}), DirectItem("app||c", "e3", False, {})]
    dapr = [DaprItem("a", "e1", b'{"x":"2"}'), DaprItem("d", "e4", b"{}")]
    result = agree(direct, dapr)
    assert not result.same
    assert result.only_direct == ("c",) and result.only_dapr == ("d",) and result.different_values == ("a",)
    text = "\n".join(result.lines())
    assert "DISAGREE" in text and "'c'" in text and "'d'" in text
    assert result.to_json()["agree"] is False


def test_same_key_of_two_apps_counts_twice():
    direct = [DirectItem("one||k", "e1", False, {}), DirectItem("two||k", "e2", False, {})]
    assert agree(direct, [DaprItem("k", "e1", b"{}")]).only_direct == ("k",)


def test_rounded_numbers_agree_and_are_named():
    direct = [DirectItem("app||pi", "e", False, {"pi": 3.14159265})]
    result = agree(direct, [DaprItem("pi", "e", b'{"pi":3.141593}')])
    assert result.same and result.rounded == ("pi",)
    assert isinstance(result, Agreement) and "six decimals" in result.lines()[-1]


def test_an_etag_that_differs_is_a_different_item():
    result = agree([DirectItem("app||a", "e1", False, {})], [DaprItem("a", "e2", b"{}")])
    assert result.only_direct == ("a",) and result.only_dapr == ("a",)


# -- raw SQL ---------------------------------------------------------------------------------------


def test_raw_sql_passes_a_select_with_its_parameters():
    query = raw_sql("  select c.id from c where c['value'].n > @n; ", {"@n": 3})
    assert isinstance(query, CosmosQuery) and query.sql == "select c.id from c where c['value'].n > @n"
    assert query.parameter_list == [{"name": "@n", "value": 3}]
    assert raw_sql("/* hi */ SELECT * FROM c WHERE c.id = '@not;a param'").parameters == ()


@pytest.mark.parametrize(("sql", "params", "said"), [
    ("DELETE FROM c", {}, "starts with 'DELETE'"),
    ("", {}, "starts with 'nothing'"),
    ("-- SELECT\nUPSERT c", {}, "starts with 'UPSERT'"),
    ("SELECT * FROM c; SELECT 1", {}, "remove the ';'"),
    ("SELECT * FROM c WHERE c.id = @id", {}, "no value is given for it"),
    ("SELECT * FROM c", {"@x": 1}, "the SQL does not use it"),
    ("SELECT * FROM c WHERE c.id = @a", {"@a": 1, "bad name": 2}, "must look like @name"),
])
def test_raw_sql_refuses_what_is_not_one_select(sql, params, said):
    with pytest.raises(QueryError, match=re.escape(said)):
        raw_sql(sql, params)


def test_parameters_as_typed():
    assert parse_parameter("@n=42") == ("@n", 42)
    assert parse_parameter("pk=team-a") == ("@pk", "team-a")
    assert parse_parameter('@s="x=y"') == ("@s", "x=y")
    assert parse_parameter("@t=NaN") == ("@t", "NaN")
    with pytest.raises(QueryError):
        parse_parameter("@n")


# -- the command line -----------------------------------------------------------------------------------


def test_search_options_before_and_after_the_subcommand():
    args = parse_args(["--json", "search", "S", '{"EQ": {"a": "1"}}', "--via", "both", "--partition", "p",
                       "--read-only", "--token", "t"])
    assert (args.command, args.store, args.via, args.partition, args.token, args.json, args.read_only) == \
        ("search", "S", "both", "p", "t", True, True)
    sql = parse_args(["search", "S", "SELECT * FROM c WHERE c.x = @x", "--sql", "--param", "@x=1", "--param", "@y=2"])
    assert sql.sql and sql.param == ["@x=1", "@y=2"] and sql.via == "cosmos"
    with pytest.raises(SystemExit):
        parse_args(["search", "S", "{}", "--via", "redis"])


def test_a_filter_with_two_operators_names_them_on_one_line():
    """Found by bench/fuzz_inputs.py: the keys of a filter object with several operators were named raw,
    so a key holding a newline split the refusal over two lines."""
    with pytest.raises(QueryError, match=r"exactly one operator, not 2 \('EQ', 'a\\nb'\)") as refused:
        parse_query({"filter": {"EQ": {"k": 1}, "a\nb": 1}})
    assert "\n" not in str(refused.value)


def test_a_refused_key_with_a_newline_is_named_on_one_line():
    """Found by bench/fuzz_inputs.py: the SQL path Dapr would write was shown raw after the key's repr."""
    with pytest.raises(QueryError, match="holds a quote or a backslash") as refused:
        to_cosmos(parse_query({"filter": {"GTE": {"\\a\n": 1}}}))
    assert "\n" not in str(refused.value)


def test_half_a_surrogate_pair_in_a_value_is_measured_not_a_crash():
    """Found by bench/fuzz_inputs.py after the request-size limit came in: measuring the request's bytes
    raised UnicodeEncodeError on a value holding half a surrogate pair (a JSON escape anyone can type)."""
    query = to_cosmos(parse_search('{"EQ": {"k": "\\udfff"}}'))
    assert query.parameter_list[0]["value"] == "\udfff"
    assert raw_sql("SELECT * FROM c WHERE c.k = '\ud800'").sql.endswith("'\ud800'")
