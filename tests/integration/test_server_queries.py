"""DISTINCT, DISTINCT VALUE, GROUP BY with its aggregates, and OFFSET…LIMIT on the local server
(stack/cosmos/query.js), each case held against what Cosmos DB documents — the page and, where
it has one, its own example (items, query and result from the docs' samples repository,
Azure-Samples/cosmos-db-nosql-query-samples, scripts/<name>/). Results whose order the docs leave
open are compared as multisets. Across partitions, GROUP BY and an aggregate without VALUE are
refused as the gateway refuses them (docs/local-stack.md). Large results page with continuations
through azure-cosmos, sync and async; Dapr's own query API (daprd QueryStateAlpha1, whose SQL
components-contrib builds) still works. Real server over HTTPS, real SDK, real daprd; own stack."""

from __future__ import annotations

import json
import urllib.request
import uuid

import orjson
import pytest
from azure.cosmos import PartitionKey
from azure.cosmos.exceptions import CosmosHttpResponseError

from explorer.backends.cosmos.connection import async_client

from .conftest import own_stack

pytestmark = pytest.mark.integration

DOCS = "https://learn.microsoft.com/azure/cosmos-db/nosql/query/"
CROSS_PARTITION_AGGREGATES = "Cross partition query only supports 'VALUE <AggregateFunc>' for aggregates"

# group-by/seed.json (the same items serve group-by-aggregate and group-by-multiple)
EMPLOYEES = [
    {"id": "3548979698", "name": "Jordan Mitchell", "capabilities": {"softwareDevelopment": "python", "mediaTrained": True}},
    {"id": "4228924547", "name": "Mikaela Lee", "capabilities": {"softwareDevelopment": "javascript", "mediaTrained": False}},
    {"id": "2941063066", "name": "Graham Barnes", "capabilities": {"softwareDevelopment": "c-sharp", "mediaTrained": True}},
    {"id": "9318573296", "name": "Hayden Cook", "capabilities": {"softwareDevelopment": "javascript", "mediaTrained": True}},
    {"id": "3601062997", "name": "Morgan Connors", "capabilities": {"mediaTrained": True}},
    {"id": "7074932233", "name": "Devon Torres", "capabilities": {"softwareDevelopment": "python", "mediaTrained": False}},
    {"id": "3798545532", "name": "Sam Centrell", "capabilities": {"softwareDevelopment": "javascript", "mediaTrained": True}},
]
ENGINEERING = "Cloud software engineering"
# offset-limit/seed.json ("In the original JSON data, the items are not sorted.")
LEADERS = ["Sawyer Miller", "Jennifer Wilkins", "Hannah Haynes", "Isaac Talbot", "Riley Johnson"]
LEADERSHIP = "Leadership team"
# keywords.md#distinct: two categories, and one item without the property
PRODUCTS = [("Accessories", "shop-a"), ("Tools", "shop-a"), ("Accessories", "shop-b"), ("Tools", "shop-b"), (None, "shop-b")]
MANY = 10_000  # groups / distinct values for the paging cases


def multiset(rows) -> list[str]:
    return sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS).decode() for r in rows)


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    with own_stack(tmp_path_factory, "queries", seeded=False, app_ids=("chat-api",)) as stack:
        yield stack


@pytest.fixture(scope="module")
def database(local):
    cosmos = local.cosmos_client()
    db = cosmos.create_database_if_not_exists(f"queries-{uuid.uuid4().hex[:6]}")
    yield db
    cosmos.delete_database(db.id)


@pytest.fixture(scope="module")
def employees(database):
    """The docs' employees, partitioned by team (so GROUP BY runs in one partition, as it must)."""
    container = database.create_container(id="employees", partition_key=PartitionKey(path="/team"))
    for item in EMPLOYEES:
        container.create_item({**item, "team": ENGINEERING})
    for n, name in enumerate(LEADERS):
        container.create_item({"id": f"lead-{n}", "name": name, "team": LEADERSHIP})
    return container


@pytest.fixture(scope="module")
def products(database):
    container = database.create_container(id="products", partition_key=PartitionKey(path="/shop"))
    for n, (category, shop) in enumerate(PRODUCTS):
        item = {"id": f"p{n}", "shop": shop, "size": n % 2, "tags": {"a": 1, "b": [n % 2]}}
        if category:
            item["category"] = category
        container.create_item(item)
    return container


@pytest.fixture(scope="module")
def measures(database):
    """One partition of values of every type, for the aggregates' documented rules."""
    container = database.create_container(id="measures", partition_key=PartitionKey(path="/pk"))
    rows = [("num", 3), ("num", 5), ("num", None), ("num", 10), ("mixed", 4), ("mixed", "text"), ("mixed", True),
            ("mixed", None), ("nulls", None), ("undef", ...)]
    for n, (kind, value) in enumerate(rows):
        item = {"id": f"m{n}", "pk": "m", "kind": kind, "deep": {"level": {"kind": kind}}}
        if value is not ...:
            item["v"] = value
        container.create_item(item)
    return container


@pytest.fixture(scope="module")
def many(database):
    """MANY groups in one partition (`g`, seeded in transactional batches of 100), and the same
    values spread over four partitions for DISTINCT across partitions."""
    container = database.create_container(id="many", partition_key=PartitionKey(path="/partitionKey"))
    for shard in range(4):
        values = range(shard, MANY, 4)
        operations = [("create", ({"id": f"i{v}", "partitionKey": f"s{shard}", "g": v, "x": 2 * v},)) for v in values]
        for start in range(0, len(operations), 100):
            container.execute_item_batch(operations[start:start + 100], partition_key=f"s{shard}")
    one = [("create", ({"id": f"j{v}", "partitionKey": "one", "g": v % MANY, "x": 1},)) for v in range(2 * MANY)]
    for start in range(0, len(one), 100):
        container.execute_item_batch(one[start:start + 100], partition_key="one")
    return container


def query(container, sql, parameters=None, **kwargs):
    if "partition_key" not in kwargs:
        kwargs["enable_cross_partition_query"] = True
    return list(container.query_items(sql, parameters=parameters or [], **kwargs))


def refused(container, sql, parameters=None, **kwargs) -> str:
    with pytest.raises(CosmosHttpResponseError) as caught:
        query(container, sql, parameters, **kwargs)
    assert caught.value.status_code == 400
    return str(caught.value)


# -- DISTINCT (keywords.md#distinct) ---------------------------------------------------------------

def test_distinct_value_returns_each_category_once(products):
    """DOCS keywords#distinct: SELECT DISTINCT VALUE p.category FROM products p -> ["Accessories", "Tools"];
    DISTINCT VALUE drops the item without a category (no undefined value is returned)."""
    rows = query(products, "SELECT DISTINCT VALUE p.category FROM products p")
    assert sorted(rows) == ["Accessories", "Tools"]


def test_distinct_projects_an_empty_object_for_a_missing_property(products):
    """DOCS keywords#distinct: SELECT DISTINCT p.category FROM products p ->
    [{}, {"category": "Accessories"}, {"category": "Tools"}] ("the query returns an empty object")."""
    rows = query(products, "SELECT DISTINCT p.category FROM products p")
    assert multiset(rows) == multiset([{}, {"category": "Accessories"}, {"category": "Tools"}])


def test_distinct_compares_whole_objects_and_arrays(products):
    """DOCS keywords#distinct ("eliminates duplicates in the projected query results"): two
    projected objects are duplicates when every property is equal, nested arrays included."""
    pairs = query(products, "SELECT DISTINCT p.category, p.size FROM p")
    assert multiset(pairs) == multiset([{"category": "Accessories", "size": 0}, {"category": "Tools", "size": 1}, {"size": 0}])
    tags = query(products, "SELECT DISTINCT VALUE p.tags FROM p")
    assert multiset(tags) == multiset([{"a": 1, "b": [0]}, {"a": 1, "b": [1]}])


def test_distinct_with_order_by_keeps_the_order(products):
    """DOCS keywords#distinct with order-by: the distinct values come in the ORDER BY's order."""
    assert query(products, "SELECT DISTINCT VALUE p.category FROM p ORDER BY p.category DESC") == ["Tools", "Accessories"]
    assert query(products, "SELECT DISTINCT VALUE p.category FROM p ORDER BY p.category", partition_key="shop-b") == [
        "Accessories", "Tools"]


def test_distinct_top_takes_from_the_distinct_values(products):
    """DOCS keywords#top and #distinct: TOP N counts results, and DISTINCT results are the
    de-duplicated ones, so TOP 2 of two categories with duplicates returns both categories."""
    assert query(products, "SELECT DISTINCT TOP 2 VALUE p.category FROM p ORDER BY p.category") == ["Accessories", "Tools"]
    assert query(products, "SELECT DISTINCT TOP @n VALUE p.category FROM p ORDER BY p.category",
                 [{"name": "@n", "value": 1}]) == ["Accessories"]


def test_distinct_in_one_partition_reads_only_that_partition(products):
    """DOCS keywords#distinct, with the partition key given: the values of that partition only."""
    assert sorted(query(products, "SELECT DISTINCT VALUE p.size FROM p", partition_key="shop-a")) == [0, 1]
    sql = "SELECT DISTINCT p.category FROM p WHERE p.size = 0"
    assert multiset(query(products, sql, partition_key="shop-b")) == multiset([{"category": "Accessories"}, {}])
    assert query(products, sql, partition_key="shop-a") == [{"category": "Accessories"}]  # its items all have one


# -- GROUP BY (group-by.md) ------------------------------------------------------------------------

def test_group_by_documented_example_with_an_undefined_group(employees):
    """DOCS group-by, first example (scripts/group-by): grouping by a property some items lack gives
    a group for the missing value, projected as {}."""
    rows = query(employees, "SELECT e.capabilities.softwareDevelopment AS developmentLang FROM employees e "
                            "WHERE e.team = @team GROUP BY e.capabilities.softwareDevelopment",
                 [{"name": "@team", "value": ENGINEERING}], partition_key=ENGINEERING)
    assert multiset(rows) == multiset([{}, {"developmentLang": "c-sharp"}, {"developmentLang": "javascript"},
                                       {"developmentLang": "python"}])


def test_group_by_with_count_documented_example(employees):
    """DOCS group-by, second example (scripts/group-by-aggregate): COUNT(1) per group; the group of
    items without the property is {"trainedEmployees": 1}."""
    rows = query(employees, "SELECT COUNT(1) AS trainedEmployees, e.capabilities.softwareDevelopment AS developmentLang "
                            'FROM employees e WHERE e.team = "Cloud software engineering" '
                            "GROUP BY e.capabilities.softwareDevelopment", partition_key=ENGINEERING)
    assert multiset(rows) == multiset([
        {"trainedEmployees": 1}, {"trainedEmployees": 1, "developmentLang": "c-sharp"},
        {"trainedEmployees": 3, "developmentLang": "javascript"}, {"trainedEmployees": 2, "developmentLang": "python"}])


def test_group_by_several_expressions_documented_example(employees):
    """DOCS group-by, final example (scripts/group-by-multiple): grouping by two nested properties."""
    rows = query(employees, "SELECT COUNT(1) AS employeesWithThisTraining, e.capabilities.softwareDevelopment AS developmentLang, "
                            "e.capabilities.mediaTrained AS mediaReady FROM employees e "
                            'WHERE e.team = "Cloud software engineering" '
                            "GROUP BY e.capabilities.softwareDevelopment, e.capabilities.mediaTrained",
                 partition_key=ENGINEERING)
    assert multiset(rows) == multiset([
        {"employeesWithThisTraining": 1, "developmentLang": "python", "mediaReady": True},
        {"employeesWithThisTraining": 1, "developmentLang": "javascript", "mediaReady": False},
        {"employeesWithThisTraining": 1, "developmentLang": "c-sharp", "mediaReady": True},
        {"employeesWithThisTraining": 2, "developmentLang": "javascript", "mediaReady": True},
        {"employeesWithThisTraining": 1, "mediaReady": True},
        {"employeesWithThisTraining": 1, "developmentLang": "python", "mediaReady": False}])


def test_aggregates_follow_their_documented_rules_per_group(measures):
    """DOCS aggregate-sum: "If any arguments in SUM are string, boolean, or null, the entire aggregate
    ... will return undefined. If any argument has an undefined value, it will be not impact the SUM".
    aggregate-min/max: undefined values are ignored; mixed types order null < boolean < number <
    string. aggregate-avg: the average of the numbers. COUNT(expr) counts defined values, COUNT(1) items."""
    rows = query(measures, "SELECT m.kind, COUNT(1) AS items, COUNT(m.v) AS defined, SUM(m.v) AS total, "
                           "AVG(m.v) AS mean, MIN(m.v) AS low, MAX(m.v) AS high FROM m GROUP BY m.kind", partition_key="m")
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["num"] == {"kind": "num", "items": 4, "defined": 4, "low": None, "high": 10}  # a null: no SUM, no AVG
    assert by_kind["mixed"] == {"kind": "mixed", "items": 4, "defined": 4, "low": None, "high": "text"}
    assert by_kind["nulls"] == {"kind": "nulls", "items": 1, "defined": 1, "low": None, "high": None}
    undefined = by_kind["undef"]  # nothing defined: no AVG, MIN or MAX (SUM of nothing is not documented)
    assert undefined["items"] == 1 and undefined["defined"] == 0 and not {"mean", "low", "high"} & set(undefined)
    numbers = query(measures, "SELECT SUM(m.v) AS total, AVG(m.v) AS mean, COUNT(m.v) AS n FROM m "
                              "WHERE m.kind = 'num' AND IS_NUMBER(m.v)", partition_key="m")
    assert numbers == [{"total": 18, "mean": 6, "n": 3}]
    grouped = query(measures, "SELECT m.kind, SUM(m.v) AS total, AVG(m.v) AS mean FROM m "
                              "WHERE IS_NUMBER(m.v) OR NOT IS_DEFINED(m.v) GROUP BY m.kind", partition_key="m")
    assert {"kind": "num", "total": 18, "mean": 6} in grouped and {"kind": "mixed", "total": 4, "mean": 4} in grouped


def test_count_one_counts_items_and_count_of_a_property_counts_where_it_is_defined(employees):
    """DOCS aggregate-count ("the parameter does not influence the result" for COUNT(1) and COUNT(2 + 3))
    and count.md (SELECT VALUE COUNT(p.name) counts the items that have a name)."""
    rows = query(employees, "SELECT COUNT(1) AS one, COUNT(2 + 3) AS expr, COUNT(e.capabilities.softwareDevelopment) AS dev "
                            "FROM e GROUP BY e.team", partition_key=ENGINEERING)
    assert rows == [{"one": 7, "expr": 7, "dev": 6}]


def test_select_list_must_hold_group_keys_aggregates_or_literals(employees):
    """DOCS group-by remarks: "the SELECT clause can only contain the subset of properties and system
    functions included in the GROUP BY clause", except aggregates, and "You can also always include
    literal values". Anything else is refused with 400."""
    message = refused(employees, "SELECT e.name FROM e GROUP BY e.team", partition_key=ENGINEERING)
    assert "e.name" in message and "GROUP BY" in message
    refused(employees, "SELECT e.team, UPPER(e.name) AS n FROM e GROUP BY e.team", partition_key=ENGINEERING)
    rows = query(employees, 'SELECT UPPER(e.team) AS t, "literal" AS l, 42, COUNT(1) AS n FROM e GROUP BY upper(e.team)',
                 partition_key=ENGINEERING)
    assert rows == [{"t": ENGINEERING.upper(), "l": "literal", "$1": 42, "n": 7}]


def test_group_by_with_where_and_value_count(employees):
    """DOCS group-by examples filter with WHERE before grouping; aggregate-functions: SELECT VALUE
    COUNT(1) returns the bare number — per group with GROUP BY, and across partitions without it."""
    assert sorted(query(employees, "SELECT VALUE COUNT(1) FROM e WHERE e.capabilities.mediaTrained = true "
                                   "GROUP BY e.capabilities.softwareDevelopment", partition_key=ENGINEERING)) == [1, 1, 1, 2]
    assert query(employees, "SELECT VALUE COUNT(1) FROM e") == [12]
    assert query(employees, "SELECT VALUE e.team FROM e GROUP BY e.team", partition_key=LEADERSHIP) == [LEADERSHIP]


def test_group_by_system_property_and_nested_path(measures):
    """DOCS group-by arguments: "Any scalar expression is allowed ... Each scalar expression must contain
    at least one property reference" — a system property (_ts) and a nested path both group."""
    by_ts = query(measures, "SELECT COUNT(1) AS n, MIN(m._ts) AS first, MAX(m._ts) AS last FROM m GROUP BY m.pk",
                  partition_key="m")
    assert len(by_ts) == 1 and by_ts[0]["n"] == 10 and by_ts[0]["first"] <= by_ts[0]["last"]
    assert sum(query(measures, "SELECT VALUE COUNT(1) FROM m GROUP BY m._ts", partition_key="m")) == 10
    nested = query(measures, "SELECT m.deep.level.kind, COUNT(1) AS n FROM m GROUP BY m.deep.level.kind", partition_key="m")
    assert multiset(nested) == multiset([{"kind": "num", "n": 4}, {"kind": "mixed", "n": 4}, {"kind": "nulls", "n": 1},
                                         {"kind": "undef", "n": 1}])


def test_group_by_refuses_order_by_and_aggregates_or_subqueries_in_its_keys(employees):
    """DOCS group-by remarks: "You can't use GROUP BY with an ORDER BY clause"; the GROUP BY clause
    allows no subqueries and no aggregate system functions."""
    refused(employees, "SELECT e.team FROM e GROUP BY e.team ORDER BY e.team", partition_key=ENGINEERING)
    refused(employees, "SELECT COUNT(1) AS n FROM e GROUP BY COUNT(1)", partition_key=ENGINEERING)
    refused(employees, "SELECT COUNT(1) AS n FROM e GROUP BY (SELECT VALUE 1)", partition_key=ENGINEERING)


def test_group_by_and_plain_aggregates_across_partitions_are_refused_as_the_gateway_does(employees):
    """What the gateway answers a query across partitions (docs/local-stack.md): GROUP BY, or an
    aggregate without VALUE, is 400 "Cross partition query only supports 'VALUE <AggregateFunc>' for
    aggregates"; the Python SDK lists GROUP BY as unsupported (azure-cosmos README, Limitations).
    SELECT VALUE COUNT(1) and a subquery's aggregate stay answered."""
    assert CROSS_PARTITION_AGGREGATES in refused(employees, "SELECT e.team, COUNT(1) AS n FROM e GROUP BY e.team")
    assert CROSS_PARTITION_AGGREGATES in refused(employees, "SELECT COUNT(1) AS n FROM e")
    refused(employees, "SELECT VALUE e.team FROM e GROUP BY e.team")  # refused too; the service's text was not recorded
    assert query(employees, "SELECT VALUE COUNT(1) FROM e") == [12]
    rows = query(employees, "SELECT e.id, (SELECT VALUE COUNT(1) FROM t IN e.tags) AS n FROM e")
    assert len(rows) == 12


# -- OFFSET LIMIT (offset-limit.md) ----------------------------------------------------------------

def test_offset_limit_documented_examples(employees):
    """DOCS offset-limit: ORDER BY e.name OFFSET 1 LIMIT 3 -> Isaac Talbot, Jennifer Wilkins, Riley
    Johnson (scripts/offset-limit); OFFSET 1 LIMIT 5 skips one and returns the remaining four
    (scripts/offset-limit-partial)."""
    sql = 'SELECT VALUE {name: e.name} FROM employees e WHERE e.team = "Leadership team" ORDER BY e.name OFFSET 1 LIMIT {}'
    assert query(employees, sql.replace("{}", "3"), partition_key=LEADERSHIP) == [
        {"name": "Isaac Talbot"}, {"name": "Jennifer Wilkins"}, {"name": "Riley Johnson"}]
    assert query(employees, sql.replace("{}", "5"), partition_key=LEADERSHIP) == [
        {"name": "Isaac Talbot"}, {"name": "Jennifer Wilkins"}, {"name": "Riley Johnson"}, {"name": "Sawyer Miller"}]
    assert query(employees, sql.replace("{}", "5")) == query(employees, sql.replace("{}", "5"), partition_key=LEADERSHIP)


def test_offset_limit_with_parameters_and_past_the_end(employees):
    """DOCS offset-limit (skip then take over the ordered values); a parameter for each count, as
    TOP takes one (keywords#top); an OFFSET past the end returns no rows, not an error."""
    sql = "SELECT VALUE e.name FROM e WHERE e.team = @team ORDER BY e.name OFFSET @offset LIMIT @limit"
    params = lambda o, l: [{"name": "@team", "value": LEADERSHIP}, {"name": "@offset", "value": o}, {"name": "@limit", "value": l}]
    assert query(employees, sql, params(2, 2), partition_key=LEADERSHIP) == ["Jennifer Wilkins", "Riley Johnson"]
    assert query(employees, sql, params(0, 0), partition_key=LEADERSHIP) == []
    assert query(employees, sql, params(5, 10), partition_key=LEADERSHIP) == []
    assert query(employees, sql, params(99, 1)) == []


def test_offset_needs_limit_and_counts_must_be_non_negative(employees):
    """DOCS offset-limit remarks: "Both the OFFSET count and the LIMIT count are required"; the
    arguments are the integer numbers of items to skip and take. The service's exact wording for a
    negative count is not documented; the local server answers 400."""
    refused(employees, "SELECT * FROM e OFFSET 1")
    refused(employees, "SELECT * FROM e LIMIT 1")
    refused(employees, "SELECT * FROM e OFFSET 1 LIMIT -1")
    refused(employees, "SELECT * FROM e OFFSET -1 LIMIT 1")
    refused(employees, "SELECT * FROM e OFFSET @o LIMIT 1", [{"name": "@o", "value": -3}])
    refused(employees, "SELECT * FROM e OFFSET 0 LIMIT @l", [{"name": "@l", "value": 1.5}])
    refused(employees, "SELECT * FROM e LIMIT 1 OFFSET 1")


def test_offset_limit_applies_to_distinct_values(products):
    """DOCS offset-limit with keywords#distinct: skip and take count the distinct results."""
    assert query(products, "SELECT DISTINCT VALUE p.category FROM p ORDER BY p.category OFFSET 1 LIMIT 5") == ["Tools"]
    assert query(products, "SELECT DISTINCT VALUE p.category FROM p ORDER BY p.category OFFSET 0 LIMIT 1") == ["Accessories"]


# -- paging ---------------------------------------------------------------------------------------

def pages(container, sql, page_size, **kwargs) -> tuple[list, list[str | None]]:
    rows, tokens = [], []
    pager = container.query_items(sql, max_item_count=page_size, **kwargs).by_page()
    for page in pager:
        rows.extend(page)
        tokens.append(pager.continuation_token)
    return rows, tokens


def test_distinct_across_partitions_pages_every_value_once(many):
    """DOCS pagination (continuation tokens): a DISTINCT VALUE over MANY values in four partitions
    comes in pages of the asked size, every value once. The page count is this server's: on the
    service the SDK runs such a query per partition-key range from a query plan, and its tokens
    cannot be resumed (docs/local-stack.md) — the explorer must stream it to its end."""
    rows, tokens = pages(many, "SELECT DISTINCT VALUE c.g FROM c", 1000, enable_cross_partition_query=True)
    assert sorted(rows) == list(range(MANY)) and len(tokens) == MANY // 1000 and tokens[-1] is None
    assert sorted(query(many, "SELECT DISTINCT VALUE c.partitionKey FROM c")) == ["one", "s0", "s1", "s2", "s3"]


def test_group_by_in_one_partition_pages_every_group_once_and_resumes_from_a_token(many):
    """DOCS pagination and group-by: MANY groups of a partition page with continuations; a saved
    token resumes where it was issued (by_page(token)), as for any other query."""
    sql = "SELECT c.g, COUNT(1) AS n, SUM(c.x) AS s FROM c GROUP BY c.g"
    rows, tokens = pages(many, sql, 750, partition_key="one")
    assert len(rows) == MANY and {r["g"] for r in rows} == set(range(MANY))
    assert all(r["n"] == 2 and r["s"] == 2 for r in rows) and len(tokens) == -(-MANY // 750)
    resumed = [row for page in many.query_items(sql, max_item_count=750, partition_key="one").by_page(tokens[2]) for row in page]
    assert resumed == rows[3 * 750:]


async def test_async_sdk_reads_every_page_of_distinct_and_group_by(local, database, many):
    """The same through azure.cosmos.aio: query_items(max_item_count=...).by_page() reads all pages."""
    cosmos = local.cosmos
    async with async_client(cosmos.url, cosmos.master_key, str(cosmos.ca_file)) as client:
        container = client.get_database_client(database.id).get_container_client(many.id)
        distinct = [v async for page in container.query_items("SELECT DISTINCT VALUE c.g FROM c", max_item_count=999).by_page()
                    async for v in page]
        groups = [r async for r in container.query_items("SELECT VALUE COUNT(1) FROM c GROUP BY c.g", partition_key="one",
                                                           max_item_count=500)]
    assert sorted(distinct) == list(range(MANY))
    assert groups == [2] * MANY


# -- query text: length and nesting (linear-parser.js) ---------------------------------------------

#: Every query below must be answered within this (the engine's parser took 3 s at 6 levels of
#: parentheses, 28 s at 7, and never finished at 50, answering no one meanwhile).
ANSWER_WITHIN = 20.0


def nested_where(depth: int) -> str:
    """A WHERE clause nesting AND inside AND `depth` times, as daprd's Cosmos store writes a nested
    filter (components-contrib visitFilters puts each nested AND/OR in parentheses)."""
    where = "c.team = @team"
    for _ in range(depth):
        where = f"c.name != @none AND ({where})"
    return where


def answered_in_time(container, sql, parameters):
    """The rows, or the 400 the server answered with, within ANSWER_WITHIN seconds."""
    import concurrent.futures
    import time

    pool = concurrent.futures.ThreadPoolExecutor(1)
    started = time.monotonic()
    future = pool.submit(query, container, sql, parameters)
    try:
        rows = future.result(timeout=ANSWER_WITHIN)
    except CosmosHttpResponseError as exc:
        rows = exc
    except concurrent.futures.TimeoutError:
        pytest.fail(f"no answer within {ANSWER_WITHIN} s to a query of {len(sql)} characters")
    finally:
        pool.shutdown(wait=False)
    return rows, time.monotonic() - started


@pytest.mark.parametrize("depth", [2, 4, 6, 50, 100])
def test_nested_query_is_answered_in_bounded_time(employees, depth):
    """A WHERE clause `depth` levels of parentheses deep answers with its rows, quickly (parsing is
    linear in the query's length), and the server answers the next query as before."""
    parameters = [{"name": "@team", "value": LEADERSHIP}, {"name": "@none", "value": "nobody"}]
    rows, took = answered_in_time(employees, f"SELECT VALUE c.name FROM c WHERE {nested_where(depth)}", parameters)
    assert not isinstance(rows, Exception), rows
    assert sorted(rows) == sorted(LEADERS) and took < ANSWER_WITHIN
    assert len(query(employees, "SELECT VALUE c.id FROM c")) == len(EMPLOYEES) + len(LEADERS)


def test_query_nested_past_what_the_server_can_compile_is_refused_and_the_server_goes_on(employees):
    """Thousands of levels (within Cosmos DB's length limit): 400 at once, never a stalled server."""
    parameters = [{"name": "@team", "value": LEADERSHIP}, {"name": "@none", "value": "nobody"}]
    answer, took = answered_in_time(employees, f"SELECT * FROM c WHERE {nested_where(5000)}", parameters)
    assert isinstance(answer, CosmosHttpResponseError) and answer.status_code == 400, answer
    assert "nested too deeply" in str(answer) and took < ANSWER_WITHIN
    assert len(query(employees, "SELECT VALUE c.id FROM c")) == len(EMPLOYEES) + len(LEADERS)


def test_two_thousand_ors_are_answered(employees):
    """2,000 ORs and 2,000 ANDs ("Maximum ORs/ANDs per query", Azure Cosmos DB service quotas until 2019;
    accounts now allow more): the engine compiled them to calls nested one level per operand, which V8
    could not compile past about 1,500 (400 "Maximum call stack size exceeded")."""
    ors = " OR ".join(f"c.name = @n{n}" for n in range(2001))
    parameters = [{"name": f"@n{n}", "value": LEADERS[n % len(LEADERS)]} for n in range(2001)]
    rows, took = answered_in_time(employees, f"SELECT VALUE c.name FROM c WHERE {ors}", parameters)
    assert not isinstance(rows, Exception), rows
    assert sorted(rows) == sorted(LEADERS) and took < ANSWER_WITHIN
    ands = " AND ".join(f"c.name != @n{n}" for n in range(2001))
    parameters = [{"name": f"@n{n}", "value": f"nobody {n}"} for n in range(2001)]
    rows, _ = answered_in_time(employees, f"SELECT VALUE c.id FROM c WHERE c.team = @t AND {ands}",
                               [*parameters, {"name": "@t", "value": LEADERSHIP}])
    assert not isinstance(rows, Exception), rows
    assert len(rows) == len(LEADERS)


def test_query_longer_than_cosmos_allows_is_refused_as_cosmos_refuses_it(employees):
    """Azure Cosmos DB service quotas, "SQL query limits": "Maximum length of SQL query: 512 KB", which
    the service's query engine counts in characters (maxSqlQueryInputLength 524288) and refuses with
    400 "The SQL query text exceeded the maximum limit of 524288 characters." One character less runs."""
    head = "SELECT VALUE c.id FROM c WHERE c.team = '"
    at_limit = head + "x" * (524288 - len(head) - 1) + "'"
    assert len(at_limit) == 524288 and query(employees, at_limit) == []
    message = refused(employees, at_limit[:-1] + "x'")
    assert "The SQL query text exceeded the maximum limit of 524288 characters." in message
    assert "BadRequest" in message  # Cosmos DB's error body names its code
    assert len(query(employees, "SELECT VALUE c.id FROM c")) == len(EMPLOYEES) + len(LEADERS)


def test_a_malformed_continuation_token_is_refused_as_cosmos_refuses_it(employees):
    """Cosmos DB answers a continuation it cannot read with 400 "The continuation token specified in
    the request is malformed…" (Azure/azure-cosmos-dotnet-v2#252, azure-cosmos-dotnet-v3#3416); the
    server read it as none and answered from the first page, so a mistyped token went unnoticed."""
    for token in ("garbage", "{}", '"+RID:x"'):
        pages = employees.query_items("SELECT * FROM c", enable_cross_partition_query=True,
                                      max_item_count=2).by_page(token)
        with pytest.raises(CosmosHttpResponseError) as caught:
            list(next(pages))
        assert caught.value.status_code == 400
        assert "The continuation token specified in the request is malformed" in str(caught.value)
    pages = employees.query_items("SELECT * FROM c", enable_cross_partition_query=True, max_item_count=2).by_page()
    first = [item["id"] for item in next(pages)]
    rest = [item["id"] for page in employees.query_items("SELECT * FROM c", enable_cross_partition_query=True,
                                                         max_item_count=2).by_page(pages.continuation_token)
            for item in page]
    assert len(first) == 2 and not set(first) & set(rest) and len(first + rest) == len(EMPLOYEES) + len(LEADERS)


def test_dapr_query_nested_fifty_deep_is_answered(local):
    """The filter of the issue, through daprd's own query API: AND inside AND, 50 levels."""
    sidecar = local.sidecars["chat-api"]
    store = "statestore-cache-cosmos"
    prefix = uuid.uuid4().hex[:6]
    post(sidecar.http_port, f"/v1.0/state/{store}", [{"key": f"{prefix}-{n}", "value": {"tag": prefix, "n": n}}
                                                     for n in range(3)])
    where = {"EQ": {"tag": prefix}}
    for _ in range(50):
        where = {"AND": [{"NEQ": {"tag": "none"}}, where]}
    answer = post(sidecar.http_port, f"/v1.0-alpha1/state/{store}/query", {"filter": where})
    assert sorted(r["key"].split("||")[-1] for r in answer.get("results", [])) == [f"{prefix}-{n}" for n in range(3)]


# -- Dapr's own query API -------------------------------------------------------------------------

def test_dapr_query_api_still_works(local):
    """daprd's QueryStateAlpha1 on a Cosmos store: components-contrib v1.18.3 state/azure/cosmosdb
    (cosmosdb_query.go) sends SELECT * FROM c WHERE c.value.<k> = @__param__0__ ... ORDER BY ..., and
    pages with the SDK's continuation; the server's new clause handling must not change its answer."""
    sidecar = local.sidecars["chat-api"]
    store = "statestore-cache-cosmos"
    prefix = uuid.uuid4().hex[:6]
    states = [{"key": f"{prefix}-{n}", "value": {"tag": prefix, "status": "active" if n % 3 else "idle", "rank": f"{n:02d}"}}
              for n in range(12)]
    post(sidecar.http_port, f"/v1.0/state/{store}", states)
    body = {"filter": {"AND": [{"EQ": {"tag": prefix}}, {"IN": {"status": ["active"]}}]},
            "sort": [{"key": "rank", "order": "DESC"}]}
    expected = [s["key"] for s in sorted(states, key=lambda s: s["value"]["rank"], reverse=True) if s["value"]["status"] == "active"]
    keys = lambda answer: [r["key"].split("||")[-1] for r in answer.get("results", [])]
    assert keys(post(sidecar.http_port, f"/v1.0-alpha1/state/{store}/query", body)) == expected and len(expected) == 8
    first = post(sidecar.http_port, f"/v1.0-alpha1/state/{store}/query", {**body, "page": {"limit": 3}})
    assert keys(first) == expected[:3]


def post(port: int, path: str, body) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        data = response.read()
    return json.loads(data) if data else {}
