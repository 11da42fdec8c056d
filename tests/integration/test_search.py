"""`dapr-explorer search` against the real stack: keys written through daprd with varied values, then
a table of Dapr state queries run directly on Cosmos DB (the SQL daprd's Cosmos store sends) and
through daprd's own QueryStateAlpha1 — the two must return the same keys, etags and values; plus
--partition, --sql, bad filters and JSON lines. Real daprd, real local Cosmos-compatible server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from explorer.localstack.seed import CACHE_APP, CACHE_STORE
from explorer.dapr.sidecar import SidecarClient, StateWrite
from tests.support import no_traceback, run_cli

from .conftest import own_stack

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

#: The keys of this module: people of three orgs in two partitions, nested fields, numbers, a value
#: whose float Dapr's query answer rounds, one binary value (never found by a filter: Dapr's Cosmos
#: store filters on c.value, which is base64 text for bytes).
PEOPLE = {
    "person:1": ({"person": {"org": "Dev Ops", "name": "Ana"}, "state": "CA", "age": 31}, "team-a"),
    "person:2": ({"person": {"org": "Dev Ops", "name": "Bruno"}, "state": "WA", "age": 45}, "team-a"),
    "person:3": ({"person": {"org": "Finance", "name": "Chen"}, "state": "CA", "age": 28}, "team-b"),
    "person:4": ({"person": {"org": "Finance", "name": "Dara"}, "state": "NY", "age": 52.5}, "team-b"),
    "person:5": ({"person": {"org": "Sales", "name": "Émile"}, "state": "WA", "age": 39}, "team-a"),
    "person:6": ({"person": {"org": "Sales", "name": "Fay"}, "state": "OR", "age": 3.14159265}, "team-b"),
}
BINARY_KEY = "person:blob"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """A stack of this module's own, without the apps; the keys are written through daprd's gRPC API,
    as an app writes them (JSON objects are stored as JSON, the bytes base64 with isBinary)."""
    with own_stack(tmp_path_factory, "search", seeded=False) as local:
        async def write() -> None:
            async with SidecarClient(local.sidecars[CACHE_APP].grpc_address) as client:
                writes = [StateWrite(key, orjson.dumps(value), metadata={"partitionKey": pk})
                          for key, (value, pk) in PEOPLE.items()]
                writes.append(StateWrite(BINARY_KEY, b"\x00\x01 not json", metadata={"partitionKey": "team-a"}))
                await client.save(CACHE_STORE, writes)
        asyncio.run(write())
        yield local


def cli(stack, *args: str):
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    return run_cli(["search", *args, "--resources-path", str(REPO / "components"),
                    "--dapr-grpc-port", str(stack.sidecars[CACHE_APP].grpc_port)], env)


def lines(result) -> list[dict]:
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]


def keys_of(result) -> list[str]:
    return [line["key"] for line in lines(result) if "key" in line]


FILTERS = [
    # (the query, the keys it finds, whether their order is the query's)
    ('{"filter": {"EQ": {"state": "CA"}}}', {"person:1", "person:3"}),
    ('{"filter": {"EQ": {"person.org": "Dev Ops"}}}', {"person:1", "person:2"}),
    ('{"filter": {"NEQ": {"person.org": "Dev Ops"}}}', {"person:3", "person:4", "person:5", "person:6"}),
    ('{"filter": {"IN": {"state": ["WA", "NY"]}}}', {"person:2", "person:4", "person:5"}),
    ('{"filter": {"GT": {"age": 40}}}', {"person:2", "person:4"}),
    ('{"filter": {"LTE": {"age": 31}}}', {"person:1", "person:3", "person:6"}),
    ('{"filter": {"AND": [{"EQ": {"person.org": "Finance"}}, {"IN": {"state": ["CA", "WA"]}}]}}', {"person:3"}),
    ('{"filter": {"OR": [{"EQ": {"person.name": "Ana"}}, {"AND": [{"EQ": {"person.org": "Sales"}}, '
     '{"GTE": {"age": 39}}]}]}}', {"person:1", "person:5"}),
    ('{"EQ": {"person.org": "Sales"}}', {"person:5", "person:6"}),  # just the filter, as the CLI allows
]


@pytest.mark.parametrize(("query", "expected"), FILTERS, ids=[q for q, _ in FILTERS])
def test_filter_finds_the_same_keys_via_dapr_and_cosmos(stack, query, expected):
    direct = cli(stack, CACHE_STORE, query, "--json")
    via_dapr = cli(stack, CACHE_STORE, query, "--json", "--via", "dapr")
    assert direct.returncode == 0 and via_dapr.returncode == 0, direct.stderr + via_dapr.stderr
    assert set(keys_of(direct)) == expected
    assert sorted(keys_of(via_dapr)) == sorted(keys_of(direct))
    both = cli(stack, "--json", CACHE_STORE, query, "--via", "both")
    agreement = lines(both)[-1]["agreement"]
    assert both.returncode == 0 and agreement["agree"] and agreement["compared"] == len(expected), both.stdout


def test_direct_lines_carry_the_document(stack):
    (line,) = lines(cli(stack, CACHE_STORE, '{"filter": {"EQ": {"person.name": "Émile"}}}', "--json"))
    assert line["id"] == f"{CACHE_APP}||person:5" and line["appId"] == CACHE_APP
    assert line["partitionKey"] == "team-a" and line["etag"] and line["isBinary"] is False
    assert line["value"]["person"] == {"org": "Sales", "name": "Émile"}


@pytest.mark.parametrize("order", ["ASC", "DESC"])
def test_sort_orders_both_answers_alike(stack, order):
    query = f'{{"filter": {{"IN": {{"state": ["CA", "WA", "NY", "OR"]}}}}, "sort": [{{"key": "age", "order": "{order}"}}]}}'
    by_age = sorted(PEOPLE, key=lambda k: PEOPLE[k][0]["age"], reverse=order == "DESC")
    direct = cli(stack, CACHE_STORE, query, "--json")
    via_dapr = cli(stack, CACHE_STORE, query, "--json", "--via", "dapr")
    assert keys_of(direct) == by_age, direct.stderr
    assert keys_of(via_dapr) == by_age, via_dapr.stderr
    both = cli(stack, CACHE_STORE, query, "--json", "--via", "both")
    assert both.returncode == 0 and lines(both)[-1]["agreement"]["agree"], both.stdout


def test_page_limit_gives_the_same_first_page_and_says_what_dapr_skips(stack):
    query = '{"sort": [{"key": "person.name"}], "page": {"limit": 2}, "filter": {"NEQ": {"state": "none"}}}'
    direct = cli(stack, CACHE_STORE, query, "--json")
    via_dapr = cli(stack, CACHE_STORE, query, "--json", "--via", "dapr")
    assert keys_of(direct) == keys_of(via_dapr) == ["person:1", "person:2"], direct.stderr + via_dapr.stderr
    # The local server answers a query without x-ms-max-item-count in one page (Cosmos DB: 100 items),
    # so Dapr's limit cut that page and its answer has no token: the other four are in no page.
    assert "leaves out 4 more matching items" in direct.stderr, direct.stderr
    assert "more: --token" not in direct.stderr + via_dapr.stderr


def test_page_token_continues_where_the_token_points(stack):
    """A token of the local server's own, asked for with a page size of 2 through the SDK (daprd sends
    no page size, so on the local server its answers never carry one): both ways start there."""
    client = stack.cosmos_client()
    container = client.get_database_client("dapr-cache").get_container_client("session-cache")
    sql = "SELECT * FROM c WHERE c['value']['state'] != @__param__0__"
    pages = container.query_items(sql, parameters=[{"name": "@__param__0__", "value": "none"}],
                                  enable_cross_partition_query=True, max_item_count=2).by_page()
    first = [item["id"] for item in next(pages)]
    token = pages.continuation_token
    assert token and len(first) == 2
    query = '{"filter": {"NEQ": {"state": "none"}}, "page": {"limit": 3}}'
    direct = cli(stack, CACHE_STORE, query, "--json", "--token", token)
    via_dapr = cli(stack, CACHE_STORE, query, "--json", "--via", "dapr", "--token", token)
    assert direct.returncode == 0 and via_dapr.returncode == 0, direct.stderr + via_dapr.stderr
    assert keys_of(direct) == keys_of(via_dapr) and len(keys_of(direct)) == 3
    assert not {f"{CACHE_APP}||{k}" for k in keys_of(direct)} & set(first)


def test_partition_keeps_to_one_partition_both_ways(stack):
    query = '{"filter": {"IN": {"state": ["CA", "WA", "NY", "OR"]}}}'
    direct = cli(stack, CACHE_STORE, query, "--partition", "team-b", "--json")
    via_dapr = cli(stack, CACHE_STORE, query, "--json", "--via", "dapr", "--partition", "team-b")
    team_b = {k for k, (_, pk) in PEOPLE.items() if pk == "team-b"}
    assert set(keys_of(direct)) == team_b and {line["partitionKey"] for line in lines(direct)} == {"team-b"}
    assert set(keys_of(via_dapr)) == team_b, via_dapr.stderr


def test_values_dapr_rounds_still_agree_and_are_named(stack):
    both = cli(stack, CACHE_STORE, '{"filter": {"EQ": {"person.org": "Sales"}}}', "--via", "both")
    assert both.returncode == 0, both.stdout + both.stderr
    assert "agree: Dapr and Cosmos DB return the same 2 keys" in both.stdout
    assert "rounds numbers to six decimals in 'person:6'" in both.stdout
    via_dapr = lines(cli(stack, CACHE_STORE, '{"filter": {"EQ": {"person.name": "Fay"}}}', "--json", "--via", "dapr"))
    direct = lines(cli(stack, CACHE_STORE, '{"filter": {"EQ": {"person.name": "Fay"}}}', "--json"))
    assert direct[0]["value"]["age"] == 3.14159265 and via_dapr[0]["value"]["age"] == 3.141593


def test_empty_query_returns_every_key_including_bytes(stack):
    direct = cli(stack, CACHE_STORE, "{}", "--json")
    via_dapr = cli(stack, CACHE_STORE, "{}", "--json", "--via", "dapr")
    assert set(keys_of(direct)) == set(PEOPLE) | {BINARY_KEY}
    assert sorted(keys_of(via_dapr)) == sorted(keys_of(direct))
    blob = next(line for line in lines(direct) if line["key"] == BINARY_KEY)
    assert blob["isBinary"] is True and blob["value"]["size"] == 11


def test_human_table(stack):
    result = cli(stack, CACHE_STORE, '{"filter": {"EQ": {"state": "NY"}}}')
    assert result.returncode == 0, result.stderr
    assert "person:4" in result.stdout and "team-b" in result.stdout and "Finance" in result.stdout
    assert "1 keys via cosmos" in result.stderr and "RU" in result.stderr


def test_sql_mode_with_parameters(stack):
    result = cli(stack, CACHE_STORE, "SELECT * FROM c WHERE c['value'].age > @age", "--sql", "--param", "@age=40",
                 "--json")
    assert result.returncode == 0, result.stderr
    assert set(keys_of(result)) == {"person:2", "person:4"}
    ages = lines(cli(stack, CACHE_STORE, "SELECT c.id, c['value'].age FROM c WHERE c['value'].age < 30", "--sql",
                     "--json"))
    assert sorted((line["key"], line["value"]["age"], "partitionKey" in line) for line in ages) == \
        [("person:3", 28, False), ("person:6", 3.14159265, False)]
    projection = cli(stack, CACHE_STORE, "SELECT VALUE c['value'].state FROM c WHERE c.partitionKey = @pk", "--sql",
                     "--param", "@pk=team-a", "--json")
    assert projection.returncode == 0, projection.stderr
    assert sorted(line["value"] for line in lines(projection)) == ["CA", "WA", "WA"]


@pytest.mark.parametrize(("args", "said"), [
    (['{"filter": {"EQ": {"age": 31}}}'], "compares EQ with strings only"),
    (['{"filter": {"LIKE": {"state": "C%"}}}'], "unknown operator 'LIKE'"),
    (['{"filter": {"AND": [{"EQ": {"state": "CA"}}]}}'], "at least two filters"),
    (['{"filter": {"EQ": {"state": "CA"}'], "not valid JSON"),
    (['{"filter": {"EQ": {"a\' OR 1=1 --": "x"}}}'], "writes into the SQL unescaped"),
    (['{"page": {"limit": 2.5}}'], "page.limit must be a whole number"),
    (["DELETE FROM c", "--sql"], "one SELECT query only"),
    (["SELECT * FROM c WHERE c.id = @id", "--sql"], "no value is given for it"),
    (["SELECT * FROM c", "--sql", "--via", "dapr"], "Dapr's query API takes only its own query language"),
    # a misspelt operator in the filter alone is refused as under "filter" (it matched every item, exit 0)
    (['{"eq": {"state": "CA"}}'], "unknown operator 'eq' (operators are upper-case: EQ)"),
    (['{"EQUALS": {"state": "CA"}}'], "unknown operator 'EQUALS'"),
    # --token where there is no page to continue (it was ignored)
    (["SELECT * FROM c", "--sql", "--token", "x"], "--sql reads every page to the end itself"),
    (['{"filter": {"EQ": {"state": "CA"}}}', "--token", "x"], "this query has no page.limit"),
    # a mistyped token: Cosmos DB refuses it (the local server read it as none and started again)
    (['{"page": {"limit": 2}}', "--token", "x"], "The continuation token specified in the request is malformed"),
    # SQL Cosmos DB refuses: the user's mistake, one line, not "wrote 0 keys … INCOMPLETE"
    (["SELECT * FRM c", "--sql"], "Cosmos DB refused the query as malformed (400 BadRequest: Expected"),
    (["SELECT * FROM c WHERE c.a = 'x", "--sql"], "Cosmos DB refused the query as malformed (400 BadRequest: "),
    # past the limits of docs/search.md
    (['{"filter": ' + '{"AND": [{"EQ": {"state": "CA"}}, ' * 40 + '{"EQ": {"age": "1"}}' + "]}" * 40 + "}"],
     "AND/OR nested more than 32 levels deep: past the explorer's limit of 32 levels"),
    (['{"OR": [' + ", ".join(f'{{"EQ": {{"state": "{n}"}}}}' for n in range(2002)) + "]}"],
     "Cosmos DB's limit of 2000 ORs per query"),
])
def test_bad_filter_exits_2_with_one_line(stack, args, said):
    result = cli(stack, CACHE_STORE, *args)
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert said in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "INCOMPLETE" not in result.stderr and "wrote" not in result.stderr


def test_sql_longer_than_cosmos_allows_exits_2_before_it_is_sent(stack):
    """"Maximum length of SQL query: 512 KB" (Azure Cosmos DB service quotas): refused by the explorer
    with the limit named (FILTER from stdin: one argument of a command line holds at most 128 KB)."""
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    sql = "SELECT * FROM c WHERE c.id = '" + "x" * 600_000 + "'"
    result = run_cli(["search", CACHE_STORE, "-", "--sql", "--resources-path", str(REPO / "components")], env,
                     stdin=sql)
    no_traceback(result)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "the SQL is 600,031 characters long, past Cosmos DB's limit of 524,288" in result.stderr


def test_filter_at_the_depth_limit_runs_both_ways_and_agrees(stack):
    """32 levels of AND (the explorer's limit), run directly and through daprd: answered, the same."""
    import time

    node = {"EQ": {"state": "CA"}}
    for _ in range(32):
        node = {"AND": [{"NEQ": {"state": "none"}}, node]}
    started = time.monotonic()
    both = cli(stack, CACHE_STORE, orjson.dumps({"filter": node}).decode(), "--via", "both", "--json")
    assert both.returncode == 0, both.stderr
    assert lines(both)[-1]["agreement"]["agree"] and set(keys_of(both)) == {"person:1", "person:3"}
    assert time.monotonic() - started < 60


def test_ignored_field_is_a_note(stack):
    result = cli(stack, CACHE_STORE, '{"filters": {"EQ": {"state": "CA"}}}', "--json")
    assert result.returncode == 0
    assert "field 'filters' is not part of Dapr's query language: Dapr ignores it" in result.stderr
    assert len(keys_of(result)) == len(PEOPLE) + 1  # as through Dapr: every item


def test_unknown_store_and_no_sidecar(stack):
    unknown = cli(stack, "no-such-store", "{}")
    assert unknown.returncode == 3 and "no-such-store" in unknown.stderr
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    alone = run_cli(["search", CACHE_STORE, "{}", "--via", "dapr", "--resources-path", str(REPO / "components"),
                     "--dapr-grpc-port", "1"], env)
    no_traceback(alone)
    assert alone.returncode == 1 and f"no reachable sidecar has loaded '{CACHE_STORE}'" in alone.stderr, alone.stderr


def test_global_options_before_the_subcommand(stack):
    env = stack.client_env()
    env.pop("DAPR_GRPC_PORT", None)
    result = run_cli(["--json", "--read-only", "--dapr-grpc-port", str(stack.sidecars[CACHE_APP].grpc_port),
                      "--resources-path", str(REPO / "components"), "search", CACHE_STORE,
                      '{"filter": {"EQ": {"person.name": "Émile"}}}', "--via", "both"], env)
    assert result.returncode == 0, result.stderr
    first, agreement = lines(result)
    assert first["key"] == "person:5" and agreement["agreement"]["agree"] is True


# -- the TUI's search view (s in the browser) ---------------------------------------------------


async def test_tui_search_finds_by_value_both_ways_says_they_agree_and_opens_a_key(stack):
    """`s` on a store: a Dapr filter typed and run directly lists the matching keys as they arrive,
    with the request charge; both ways compared says the answers agree; Enter opens the key."""
    from explorer.tui.app import ExplorerApp
    from explorer.components.files import load_components
    from explorer.tui.screens.key_editor import KeyEditor
    from explorer.tui.screens.search import SearchView

    from .conftest import stack_env
    from .test_tui import browse_to, until

    with stack_env(stack):
        paths = [stack.resources_path]
        app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
        async with app.run_test(size=(110, 30)) as pilot:
            await browse_to(pilot, CACHE_STORE, "team-a")  # a partition open: ctrl+o can narrow to it
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, SearchView), "the search view")
            view = app.screen
            assert f"Search {CACHE_STORE} ·" in str(view.query_one("#search-scope").render())  # the whole store
            view.query_one("#search-query").value = '{"EQ": {"person.org": "Dev Ops"}}'
            await pilot.press("enter")
            await until(pilot, lambda: not view.running and len(view.hits) == 2, "two keys found")
            assert sorted(h.shown_key for h in view.hits) == ["person:1", "person:2"]
            status = str(view.query_one("#search-status").render())
            assert "2 keys" in status and "RU" in status
            await pilot.press("ctrl+t", "ctrl+t")  # through Dapr, then both ways
            assert view.mode == "both"
            view.query_one("#search-query").focus()
            await pilot.press("enter")
            await until(pilot, lambda: view.agreement is not None, "both answers compared")
            assert view.agreement.same, view.agreement.lines()
            assert "agree" in str(view.query_one("#search-status").render())
            view.query_one("#search-query").value = '{"EQ": {"nope": 1}}'  # Dapr's EQ takes strings only
            view.query_one("#search-query").focus()
            await pilot.press("enter")
            await until(pilot, lambda: "string" in str(view.query_one("#search-status").render()), "one line on the filter")
            await pilot.press("ctrl+t", "ctrl+t")  # SQL, then back to directly
            view.query_one("#search-query").value = '{"EQ": {"state": "CA"}}'
            view.query_one("#search-query").focus()
            await pilot.press("enter")
            await until(pilot, lambda: not view.running and len(view.hits) == 2,
                        f"the CA keys ({view.mode}: {view.query_one('#search-status').render()})")
            view.query_one("#search-table").focus()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, KeyEditor) and app.screen.opened is not None, "the key")
            assert app.screen.opened.key.state_key.key in ("person:1", "person:3")
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is view, "back to the search")
            assert view.partition == "team-a"  # the browser's partition when s was pressed
            await pilot.press("ctrl+o")  # only that partition
            view.query_one("#search-query").focus()
            await pilot.press("enter")
            await until(pilot, lambda: not view.running and len(view.hits) == 1, "the partition's CA key")
            assert {str(h.partition_key) for h in view.hits} == {view.partition}


async def test_tui_search_refuses_a_typo_a_deep_filter_and_bad_sql_in_one_line(stack):
    """The TUI holds the CLI's rules: a misspelt operator in the filter alone, a filter nested past the
    limit and SQL Cosmos DB refuses each give one line in the status — nothing found, nothing counted."""
    from explorer.tui.app import ExplorerApp
    from explorer.components.files import load_components
    from explorer.tui.screens.search import SearchView

    from .conftest import stack_env
    from .test_tui import browse_to, until

    deep = '{"filter": ' + '{"AND": [{"EQ": {"state": "CA"}}, ' * 40 + '{"EQ": {"age": "1"}}' + "]}" * 40 + "}"
    with stack_env(stack):
        paths = [stack.resources_path]
        app = ExplorerApp(load_components(paths), paths, [s.grpc_address for s in stack.sidecars.values()])
        async with app.run_test(size=(110, 30)) as pilot:
            await browse_to(pilot, CACHE_STORE, "team-a")
            await pilot.press("s")
            await until(pilot, lambda: isinstance(app.screen, SearchView), "the search view")
            view = app.screen
            status = lambda: str(view.query_one("#search-status").render())  # noqa: E731
            for text, said in (('{"eq": {"state": "CA"}}', "unknown operator 'eq'"),
                               (deep, "past the explorer's limit of 32 levels")):
                view.query_one("#search-query").value = text
                view.query_one("#search-query").focus()
                await pilot.press("enter")
                await until(pilot, lambda: said in status(), f"{said!r} in the status ({status()})")
                assert not view.hits
            await pilot.press("ctrl+t", "ctrl+t", "ctrl+t")  # through Dapr, both, then SQL
            assert view.mode == "sql"
            view.query_one("#search-query").value = "SELECT * FRM c"
            view.query_one("#search-query").focus()
            await pilot.press("enter")
            await until(pilot, lambda: "refused the query as malformed" in status() and not view.running,
                        f"Cosmos DB's refusal in the status ({status()})")
            assert "shown before it" not in status() and not view.hits
