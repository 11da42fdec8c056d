"""`dapr-explorer search`: keys whose value matches a Dapr state query (or a --sql SELECT), directly in
Cosmos DB, through a sidecar, or both compared.

What it is for: finding keys by value. What it must never do: run anything but a read (the session
refuses a non-SELECT before any I/O).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from explorer.cli.commands.keys import partition_arg
from explorer.cli.output import OutputIncomplete, bytes_json, emit_json, partition_json, print, table
from explorer.core.display import short_value
from explorer.core.query_answers import agree
from explorer.core.state_query import parse_parameter, parse_search, raw_sql
from explorer.errors import ExplorerError, UsageError
from explorer.session.explorer_session import ExplorerSession


async def cmd_search(session: ExplorerSession, args: argparse.Namespace) -> int:
    """Keys whose value matches a Dapr state query (or a --sql SELECT): a table of key, partition,
    etag and a short value, or JSON lines; --via dapr asks a sidecar, --via both compares the two."""
    text = sys.stdin.read() if args.filter == "-" else args.filter
    if args.sql:
        if args.token is not None:
            raise UsageError("--token continues a Dapr query's answer that page.limit cut; --sql reads every page "
                             "to the end itself and prints no token, so there is none to continue: leave --token out")
        query = raw_sql(text, dict(parse_parameter(p) for p in args.param))
        follow = True
    else:
        if args.param:
            raise UsageError("--param is for --sql queries; Dapr's query language carries its values in the filter")
        query = parse_search(text)
        if args.token is not None:
            if query.limit <= 0:
                raise UsageError("--token continues an answer that page.limit cut, but this query has no page.limit: "
                                 "it reads every page itself. Give the query of the token, with its "
                                 "\"page\": {\"limit\": N}")
            query = query.with_token(args.token)
        for note in query.notes:
            print(f"note: {note}", file=sys.stderr)
        follow = query.limit == 0  # with a limit, one page, as one call of Dapr's query API answers
    location = await session.location(args.store)
    partition = partition_arg(args.partition)
    ways = ("cosmos", "dapr") if args.via == "both" else (args.via,)
    searches = {via: session.search(location, query, via, partition, follow) for via in ways}  # refused before any I/O
    answers: dict[str, list] = {}
    for via, pages in searches.items():
        answers[via] = await _print_search(args, via, pages, show=via == ways[0], both=len(ways) > 1)
    if len(ways) == 1:
        return 0
    agreement = agree([h.direct_item() for h in answers["cosmos"]], [h.dapr_item() for h in answers["dapr"]],
                      ordered=bool(getattr(query, "sort", ())))
    if args.json:
        emit_json({"agreement": agreement.to_json()})
    else:
        for line in agreement.lines():
            print(line)
    return 0 if agreement.same else 1


async def _print_search(args: argparse.Namespace, via: str, pages, show: bool, both: bool) -> list:
    """Print (when `show`) and return the hits of a search's pages; the count, charge, token and what
    Dapr's paging skipped go to stderr."""
    hits: list = []
    rows: list[list[str]] = []
    charge: float | None = None
    token = ""
    skipped = 0
    answered = False
    try:
        async for page in pages:
            answered = True
            token, skipped = page.token, skipped + page.skipped
            if page.request_charge is not None:
                charge = (charge or 0.0) + page.request_charge
            for hit in page.hits:
                hits.append(hit)
                if not show:
                    continue
                if args.json:
                    emit_json(_hit_record(hit, via, both))
                else:
                    rows.append([hit.shown_key, hit.app_id or "", "" if hit.partition_key is None else hit.partition_key,
                                 hit.etag, short_value(hit.value)])
    except UsageError:
        raise  # the query is wrong (Cosmos DB refused it): nothing about the output to say
    except ExplorerError as exc:
        if not answered:
            raise  # nothing was read, so nothing is incomplete: the error as it is
        raise OutputIncomplete.after(len(hits), "keys", exc) from exc
    if show and not args.json:
        columns = ["Key", "App", "Partition", "Etag", "Value"]
        if via == "dapr":  # daprd's answer has neither the app-id nor the partition
            rows, columns = [[r[0], r[3], r[4]] for r in rows], ["Key", "Etag", "Value"]
        table(f"{args.store} · search via {'Cosmos DB' if via == 'cosmos' else 'Dapr'}", columns, rows)
    cost = f" · {charge:g} RU" if charge is not None else " · (daprd does not report the request charge)"
    print(f"{len(hits)} keys via {via}{cost}", file=sys.stderr)
    if skipped:
        print(f"note: Dapr's paging leaves out {skipped} more matching items: page.limit cut a Cosmos DB page, and "
              "Dapr's token points past that page (components-contrib Query.execute)", file=sys.stderr)
    if token:
        print(f"more: --token '{token}'", file=sys.stderr)
    return hits


def _hit_record(hit, via: str, both: bool) -> dict[str, Any]:
    record: dict[str, Any] = {"key": hit.shown_key}
    if hit.doc_id is not None:
        record.update({"id": hit.doc_id, "appId": hit.app_id})
        if hit.partition_key is not None:
            record.update(partition_json(hit.partition_key))
    record["etag"] = hit.etag
    record["isBinary"] = hit.is_binary
    record["value"] = bytes_json(hit.value) if isinstance(hit.value, bytes) else hit.value
    if hit.error:
        record["error"] = hit.error
    if both:
        record["via"] = via
    return record
