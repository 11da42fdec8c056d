"""Search over many items (issue 13): the explorer's search against the bare azure-cosmos SDK running
the same SQL and parameters, side by side in one run.

Starts the local Cosmos-compatible server alone (LocalStack(app_ids=()): no daprd; the search goes
directly to Cosmos, `--via cosmos`, the default), seeds --items Dapr-shaped documents of
statestore-cache-cosmos (bench/many_keys.py: "chat-api||item-N", value {"n", "status", "region",
"note"}) over --partitions partitions, straight through the SDK (load, not a test of Dapr's writes).
Every --every-th item has status "flagged" (default 33: ~3 %), item n in partition n % partitions,
so the matches are spread over the whole container.

The filter is Dapr's state query language, `{"filter": {"EQ": {"status": "flagged"}}}`, run
  explorer  ExplorerSession.search(location, parse_query(FILTER)) — the iterator the CLI and the TUI
            read (explorer/backends/cosmos/search.py search_cosmos: no page size sent, as daprd sends none);
  bare SDK  azure-cosmos async `container.query_items(sql, parameters=…, max_item_count=None)`
            .by_page() with `state_query.to_cosmos(query)`'s SQL and parameters, on a client with
            the same settings (explorer.backends.cosmos.connection.async_client: TLS verified against the stack's CA);
  lister    the explorer's requests alone (CosmosLister.query_page as search_cosmos calls it, without
            turning documents into hits): where the explorer's extra time goes.
Timed: to the FIRST results (the first page that holds a hit, as the caller receives it) and the
whole search (every page read). The same filter again with `"page": {"limit": 100}`: the first answer
of 100 hits, as Dapr's query API pages it (Cosmos pages read until 100 items are in, the rest of the
last page dropped); the bare SDK reads the same pages the same way. --repeat rounds, alternating which side goes first; medians, the
ratio of medians and the median of per-round ratios. Twice: "warm" (the local server answers from
its cached rows for that query) and "after a write" (one item written back unchanged before each
run, so the server evaluates the query over the whole container: docs/local-stack.md, "Query cost";
a cost of this server both sides pay; real Cosmos DB has an index instead).

Usage: .venv/bin/python bench/search_bench.py [--items 100000] [--partitions 1000] [--every 33] [--repeat 7] [--profile N] [--smoke]
Never a test: the machine is shared and noisy; quote the medians and ratios it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.many_keys import envelope, profile, progress_printer, seed  # noqa: E402
from bench.smoke import smoke_args  # noqa: E402
from bench.tui_bench import median, ms, print_report  # noqa: E402

STORE, APP = "statestore-cache-cosmos", "chat-api"
FILTER = '{"filter": {"EQ": {"status": "flagged"}}}'
LIMIT = 100
FILTER_LIMIT = '{"filter": {"EQ": {"status": "flagged"}}, "page": {"limit": %d}}' % LIMIT
TARGET_RATIO = 1.2


def document(every: int):
    def make(n: int, p: int) -> dict:
        return envelope(APP, f"item-{n:07d}", f"part-{p:05d}", {
            "n": n, "status": "flagged" if n % every == 0 else "ok", "region": ("eu", "us", "apac")[n % 3],
            "note": f"session {n} of bench user {n % 977}"})
    return make


async def explorer_search(session, location, query) -> tuple[float, float, int, int]:
    """(seconds to the first hit, seconds for the whole search, hits, pages); with a page.limit, its
    first answer only (follow=False), as the TUI and `search` stop after it."""
    started = time.perf_counter()
    first = None
    hits = pages = 0
    async for page in session.search(location, query, follow=query.limit == 0):
        pages += 1
        hits += len(page.hits)
        if first is None and page.hits:
            first = time.perf_counter() - started
    return first or 0.0, time.perf_counter() - started, hits, pages


async def lister_pages(session, location, sql: str, parameters: list[dict], limit: int) -> tuple[float, float, int, int]:
    """The explorer's requests alone: CosmosLister.query_page as search_cosmos calls it (no page size, each
    page from the last one's token), without turning documents into hits — where the time goes."""
    lister = session.workspace.lister(location.store)
    started = time.perf_counter()
    first = None
    hits = pages = 0
    token = None
    while True:
        page = await lister.query_page(location.database, location.container, sql, parameters, continuation=token,
                                       page_size=None, operation="search")
        pages += 1
        hits += len(page.items)
        if first is None and page.items and not limit:
            first = time.perf_counter() - started
        token = page.continuation
        if not token or (limit and hits >= limit):
            return first or time.perf_counter() - started, time.perf_counter() - started, min(hits, limit or hits), pages


async def bare_search(container, sql: str, parameters: list[dict], limit: int) -> tuple[float, float, int, int]:
    """The same SQL with the bare SDK; with a limit, pages read until `limit` items are in (daprd's paging)."""
    started = time.perf_counter()
    first = None
    hits = pages = 0
    async for page in container.query_items(sql, parameters=parameters, max_item_count=None).by_page():
        pages += 1
        found = [item async for item in page]
        hits += len(found)
        if limit and hits >= limit:
            return time.perf_counter() - started, time.perf_counter() - started, limit, pages
        if first is None and found and not limit:
            first = time.perf_counter() - started
    return first or time.perf_counter() - started, time.perf_counter() - started, hits, pages


async def bench(args) -> None:
    from explorer.core.state_query import parse_query, to_cosmos
    from explorer.backends.cosmos.connection import async_client
    from explorer.localstack.manager import LocalStack
    from explorer.session.explorer_session import ExplorerSession

    load_at_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows: list[tuple[str, str, str]] = []
    notes: list[str] = []
    with LocalStack(app_ids=()) as stack:
        os.environ.update(stack.client_env())  # the component files resolve COSMOS_URL and the key from it
        cosmos = stack.cosmos
        session = await ExplorerSession.open([stack.resources_path], [], None, True, None, start_sidecars=False)
        client = async_client(cosmos.url, cosmos.master_key, str(cosmos.ca_file))
        try:
            location = await session.location(STORE)
            container = client.get_database_client(location.database).get_container_client(location.container)
            seconds, _ = await seed(container, args.items, args.partitions, document(args.every),
                                 progress=progress_printer(args.items))
            notes.append(f"seeded {args.items:,} items over {args.partitions:,} partitions through the SDK in "
                         f"{seconds:.0f} s ({args.items / seconds:,.0f} items/s)")
            first_doc = await container.read_item(f"{APP}||item-0000000", partition_key="part-00000")

            for case, text in ((f"{args.items:,} items, first results", FILTER),
                               (f"{args.items:,} items, page.limit {LIMIT}", FILTER_LIMIT)):
                query = parse_query(text)
                translated = to_cosmos(query)
                sql, parameters = translated.sql, translated.parameter_list
                notes.append(f"filter {text} -> SQL {sql!r}, parameters {parameters}")
                matches = len(range(0, args.items, args.every))
                expected = min(matches, query.limit) if query.limit else matches
                ways = {"explorer": lambda: explorer_search(session, location, query),
                        "bare": lambda: bare_search(container, sql, parameters, query.limit),
                        "lister": lambda: lister_pages(session, location, sql, parameters, query.limit)}
                shape = {}
                for name, way in ways.items():  # once each before timing (and the answers must agree)
                    shape[name] = await way()
                assert shape["explorer"][2] == shape["bare"][2] == shape["lister"][2] == expected, (shape, expected)
                for state in ("warm", "after a write"):
                    firsts: dict[str, list[float]] = {name: [] for name in ways}
                    wholes: dict[str, list[float]] = {name: [] for name in ways}
                    for round_ in range(args.repeat):
                        for name in list(ways)[round_ % 3:] + list(ways)[:round_ % 3]:  # rotate who goes first
                            if state == "after a write":
                                await container.upsert_item({k: v for k, v in first_doc.items() if not k.startswith("_")})
                            first, whole, hits, pages = await ways[name]()
                            assert hits == expected, (name, hits, expected)
                            shape[name] = (first, whole, hits, pages)
                            firsts[name].append(first)
                            wholes[name].append(whole)
                    measures = (("", firsts),) if query.limit else (("", firsts), ("whole search", wholes))
                    for label, times in measures:
                        e, b, l_ = median(times["explorer"]), median(times["bare"]), median(times["lister"])
                        paired = statistics.median(x / y for x, y in zip(times["explorer"], times["bare"]))
                        target = not label
                        verdict = ("OK" if e / b <= TARGET_RATIO else "MISSED") if target else ""
                        what = (f"search {case if target else f'{args.items:,} items, {label}'} ({state})"
                                + (f": explorer <= {TARGET_RATIO}x bare SDK" if target else ""))
                        rows.append((what, f"explorer {ms(e)}, bare SDK {ms(b)}: {e / b:.2f}x (median of per-round "
                                     f"ratios {paired:.2f}; n={args.repeat}; min {ms(min(times['explorer']))} / "
                                     f"{ms(min(times['bare']))}; the explorer's requests alone, lister.query_page "
                                     f"without making hits, {ms(l_)}: {l_ / b:.2f}x)", verdict))
                for name in ways:
                    _, _, hits, pages = shape[name]
                    notes.append(f"{case}, {name}: {hits:,} hits (of {matches:,} matching: {matches / args.items:.1%} of "
                                 f"the items) from {pages} Cosmos page(s)")
            if args.profile:
                query = parse_query(FILTER)
                notes.extend(await profile(lambda: explorer_search(session, location, query), args.profile,
                                           "explorer search without a limit, warm"))
        finally:
            await client.close()
            await session.close()
    print_report(rows, notes, load_at_start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--partitions", type=int, default=1_000)
    parser.add_argument("--every", type=int, default=33, help="every N-th item matches the filter")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="also profile N explorer searches")
    asyncio.run(bench(smoke_args(parser, items=300, partitions=10, every=2, repeat=1, profile=1)))


if __name__ == "__main__":
    main()
