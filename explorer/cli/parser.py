"""The command line's shape: subcommands, their options and global options in any position.

What it is for: argparse definitions and environment defaults the entry point needs before it
knows whether it will open the TUI or run a command. Every global option (`--read-only`,
`--json`, `--resources-path`, `--context`, `--allow-writes`, …) means the same before or after the subcommand:
`dapr-explorer --read-only delete S K` and `dapr-explorer delete S K --read-only` are one
command. (argparse alone gets this wrong: a subparser's defaults overwrite what was given before
the subcommand, which once let `--read-only` placed first be dropped.)

What it must never do: import an SDK (azure-cosmos, gRPC, Dapr) — the TUI's first paint waits
on this module, and the SDKs load only after the store list is drawn.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

#: Prefix of the destinations the global options get inside a subcommand's parser.
_SUB = "sub__"


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (1-65535)")
    return port


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} must be at least 1")
    return number


def _positive_number(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not number > 0 or number == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a positive number")
    return number


def _add_global_options(parser: argparse.ArgumentParser, dest_prefix: str = "") -> None:
    """The options every command takes. Inside a subcommand (`dest_prefix` set) they default to
    nothing and are merged with the ones given before the subcommand by `_merge_globals`."""
    sub = bool(dest_prefix)

    def add(*flags: str, dest: str, default, **kw) -> None:
        parser.add_argument(*flags, dest=dest_prefix + dest, default=argparse.SUPPRESS if sub else default, **kw)

    add("--resources-path", dest="resources_path", default=[], action="append", metavar="DIR",
        help="folder of Dapr component YAML (repeatable); default ./components, else ~/.dapr/components")
    add("--dapr-grpc-port", dest="dapr_grpc_port", default=[], type=_port, action="append", metavar="PORT",
        help="gRPC port of a running sidecar (repeatable); default DAPR_GRPC_ENDPOINT / DAPR_GRPC_PORT")
    add("--read-only", dest="read_only", default=False, action="store_true", help="browse without any way to write")
    add("--daprd", dest="daprd", default=os.environ.get("DAPR_EXPLORER_DAPRD"), metavar="PATH",
        help="daprd binary for the explorer's own sidecar and the local stack (default: ~/.dapr/bin/daprd, else the "
             "local stack's cached build)")
    add("--no-start-sidecar", dest="no_start_sidecar", default=False, action="store_true",
        help="never start a daprd of our own for an app-id with no reachable sidecar (writes then fail)")
    add("--json", dest="json", default=False, action="store_true", help="JSON output (JSON lines for listings)")
    add("--ru-per-second", dest="ru_per_second", default=None, type=_positive_number, metavar="RU",
        help="pace scans, searches and exports to this many request units per second (default: the context's "
             "ru_per_second; 100 for a production context; else unpaced)")
    add("--cosmos-ca-file", dest="cosmos_ca_file", default=None, metavar="FILE",
        help="CA bundle for Cosmos TLS (default SSL_CERT_FILE, else certifi)")
    add("--context", dest="context", default=None, metavar="NAME",
        help="a named environment from ~/.config/dapr-explorer/contexts.yaml, or one a running `dapr-explorer stack` "
             "registered (`local`); `dapr-explorer contexts` lists them")
    add("--allow-writes", dest="allow_writes", default=False, action="store_true",
        help="allow writes in a production context; each write then asks for the context's name to be typed")


def _merge_globals(args: argparse.Namespace) -> argparse.Namespace:
    """Fold the global options given after the subcommand into those given before it:
    flags are on if given anywhere, lists are joined, a single value given after wins."""
    for name in list(vars(args)):
        if not name.startswith(_SUB):
            continue
        value = getattr(args, name)
        delattr(args, name)
        dest = name[len(_SUB):]
        before = getattr(args, dest)
        if isinstance(before, list):
            setattr(args, dest, before + list(value))
        elif isinstance(value, bool):
            setattr(args, dest, before or value)
        else:
            setattr(args, dest, value)
    return args


def _subcommand(sub, name: str, text: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=text, description=text)
    _add_global_options(parser, _SUB)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dapr-explorer", description="Look inside Dapr state stores in Azure Cosmos DB.")
    _add_global_options(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _subcommand(sub, "stores", "list state stores from component files and sidecars")
    _subcommand(sub, "contexts", "list the named contexts: where each comes from, what it reaches, whether it "
                                 "may be written (never a secret)")
    p = _subcommand(sub, "doctor", "declared versus effective settings of each Cosmos store (or the ones named)")
    p.add_argument("stores", nargs="*", metavar="STORE", help="only these stores (default: every Cosmos store)")
    p = _subcommand(sub, "partitions", "stream a store's partition keys")
    p.add_argument("store")
    p = _subcommand(sub, "stats", "per-partition figures: keys, size, oldest and newest _ts, keys expiring within the "
                                  "hour and the day; the largest partitions as bars and a histogram of expiries")
    p.add_argument("store")
    p.add_argument("--sort", choices=("keys", "bytes", "oldest", "newest", "expiring"), default="keys",
                   help="which partitions come first: most keys (default), most bytes, oldest or newest data, "
                        "most keys expiring soon")
    p.add_argument("--top", type=_positive, metavar="N",
                   help="only the first N partitions (default: 20 in the table; every partition with --json)")
    p = _subcommand(sub, "keys", "one page of a partition's keys")
    p.add_argument("store")
    p.add_argument("--partition", required=True, help="a partitionKey value; '(no partitionKey)' for items without one")
    p.add_argument("--page-size", type=_positive, default=100)
    p.add_argument("--continuation")
    for name, text in (("get", "read one key"), ("set", "save one key through Dapr (etag-checked)"),
                       ("delete", "delete one key through Dapr (etag-checked)")):
        p = _subcommand(sub, name, text)
        p.add_argument("store")
        p.add_argument("key")
        if name == "set":
            p.add_argument("value", help="JSON (any JSON value; stored as Dapr stores JSON), or base64 with --base64")
            p.add_argument("--base64", action="store_true", help="VALUE is base64 bytes (stored isBinary)")
            p.add_argument("--ttl", default="keep", help="keep (default) | restart | none | SECONDS")
            p.add_argument("--change-shape", action="store_true",
                           help="allow turning a JSON value into bytes or bytes into JSON (refused otherwise)")
        if name != "get":
            p.add_argument("--etag", help="expected etag (default: the etag read just before writing)")
        p.add_argument("--partition", help="the item's partitionKey (default: found by id; the document id for a new key)")
        p.add_argument("--app-id", help="the app that owns the key (its id prefix)")
    p = _subcommand(sub, "search", "find keys by value: a filter in Dapr's state query language (EQ, NEQ, GT, GTE, "
                                   "LT, LTE, IN, AND, OR, sort, page), run as Dapr runs it, or raw Cosmos SQL")
    p.add_argument("store")
    p.add_argument("filter", metavar="FILTER",
                   help='Dapr query JSON, e.g. \'{"filter": {"EQ": {"person.org": "A"}}}\' (or just the filter '
                        'object); with --sql a SELECT; - reads it from stdin')
    p.add_argument("--partition", help="only this partitionKey (Dapr: request metadata partitionKey)")
    p.add_argument("--sql", action="store_true", help="FILTER is Cosmos DB SQL (SELECT only), run directly")
    p.add_argument("--param", action="append", default=[], metavar="@NAME=VALUE",
                   help="a parameter of the --sql query (VALUE as JSON when it parses, else text; repeatable)")
    p.add_argument("--via", choices=("cosmos", "dapr", "both"), default="cosmos",
                   help="cosmos (default): directly, the SQL daprd would send; dapr: through a sidecar's "
                        "QueryStateAlpha1; both: run both and say whether they agree (exit 1 if not)")
    p.add_argument("--token", help="continue an answer that page.limit cut, from its token (sets page.token)")
    p = _subcommand(sub, "workflows", "list a store's Dapr workflow instances (found by their metadata documents)")
    p.add_argument("store")
    p.add_argument("--status", action="append", default=[], metavar="STATUS",
                   help="only instances in this runtime status (repeatable): running, completed, failed, terminated, …")
    p.add_argument("--name", help="only instances of workflows whose name contains NAME")
    p.add_argument("--app-id", help="only instances of this app")
    p = _subcommand(sub, "workflow", "one workflow instance's decoded history (JSON lines with --json)")
    p.add_argument("store")
    p.add_argument("instance")
    p.add_argument("--app-id", help="the app that runs the instance (needed when two apps use the same instance id)")
    p = _subcommand(sub, "agents", "dapr-agents teams of a registry store: each agent's metadata and what is wrong "
                                   "with its place in the team (JSON lines with --json)")
    p.add_argument("store")
    p.add_argument("--team", help="only this team (its partition agents:TEAM, read even when it has no _index)")
    p = _subcommand(sub, "agent-run", "one dapr-agents run: its conversation, memory and Dapr workflow instance")
    p.add_argument("store", help="the store of the agents' workflow entries ({agent}:_workflow_{run})")
    p.add_argument("run", help="the run's id (its Dapr workflow instance id)")
    p.add_argument("--agent", help="the agent, in any spelling, when several agents have a run of that id")
    p.add_argument("--memory-store", action="append", default=[], metavar="STORE",
                   help="look for the run's memory only here (repeatable; default: where the agent registered it, "
                        "this store, then every Cosmos store)")
    p.add_argument("--workflow-store", action="append", default=[], metavar="STORE",
                   help="look for the Dapr workflow instance only here (repeatable; default: every Cosmos store)")
    p = _subcommand(sub, "export", "JSON lines of every item (or one partition)")
    p.add_argument("store")
    p.add_argument("--partition")
    p = _subcommand(sub, "bulk", "delete, set or remove the TTL of many keys: a dry run, the count typed to confirm, "
                                 "then each key through Dapr with its own etag (a key changed meanwhile is skipped)")
    p.add_argument("store")
    p.add_argument("action", choices=["delete", "set-ttl", "remove-ttl"])
    p.add_argument("--partition", action="append", default=[], required=True, metavar="PK",
                   help="every key of this partition (repeatable; '(no partitionKey)' for items without one)")
    p.add_argument("--ttl", type=_positive, metavar="SECONDS", help="the TTL set-ttl sets (the countdown restarts)")
    p.add_argument("--dry-run", action="store_true", help="list what would change and how many; write nothing")
    p.add_argument("--confirm", metavar="COUNT", help="the count, as it would be typed at the prompt (for scripts)")
    p.add_argument("--show", type=_positive, default=20, metavar="N", help="keys the dry run lists (default 20)")
    p = _subcommand(sub, "import", "write an export file back through Dapr with its envelope (value shape, "
                                   "partitionKey, TTL): a dry run, the count typed to confirm, then each key etag-checked")
    p.add_argument("store")
    p.add_argument("file", help="a `dapr-explorer export` file (JSON lines); - reads stdin")
    p.add_argument("--ttl", dest="ttl_mode", choices=["recorded", "restart"], default="recorded",
                   help="recorded (default): what was left of each key's TTL at export; restart: the whole TTL again")
    p.add_argument("--overwrite-changed", action="store_true",
                   help="also write over keys that changed since the export (etag-checked against what they hold now)")
    p.add_argument("--partition", help="only the file's keys of this partition")
    p.add_argument("--dry-run", action="store_true", help="say what would be written; write nothing")
    p.add_argument("--confirm", metavar="COUNT", help="the count of keys to write, as it would be typed (for scripts)")
    p = _subcommand(sub, "diff", "compare two sides key by key: a store, a store of another context (CONTEXT:STORE), "
                                 "an export file (a path ending in .jsonl "
                                 "or an existing file) — keys only on one side, keys whose value, shape or TTL differ")
    p.add_argument("left", help="STORE, CONTEXT:STORE (a store of another named context) or FILE")
    p.add_argument("right", help="STORE, CONTEXT:STORE or FILE")
    p.add_argument("--partition", help="only this partition on both sides")
    p.add_argument("--values", action="store_true", help="show each differing value's diff (size-capped)")
    p.add_argument("--exit-code", action="store_true", help="exit 1 when the sides differ (as git diff --exit-code)")
    p = _subcommand(sub, "audit", "the audit log of this user's writes (every save, create and delete; JSON lines "
                                  "with --json); needs no component files or Cosmos")
    p.add_argument("--since", metavar="WHEN", help="only writes since WHEN: a duration ago (30m, 2h, 7d) or a "
                                                   "date/time (2026-11-29, 2026-11-29T14:00:00Z)")
    p.add_argument("--store", help="only writes to this store")
    p.add_argument("--diff", action="store_true", help="show each write's value diff (size-capped) under it")
    for name, text in (("demo", "start and seed the local stack, open the explorer on it, stop it on quit"),
                       ("stack", "start and seed the local stack, print how to reach it, stop on Ctrl-C")):
        p = _subcommand(sub, name, text)
        p.add_argument("--scale", type=int, default=0, metavar="KEYS", help="also seed KEYS bench keys (e.g. 100000)")
        p.add_argument("--partitions", type=_positive, default=10_000, help="partitions for --scale keys (default 10000)")
        p.add_argument("--entra", action="store_true",
                       help="Entra ID mode: no account key anywhere; a stand-in managed identity endpoint issues tokens "
                            "for a reader and a contributor identity, and the server enforces their roles (no apps)")
        p.add_argument("--no-apps", action="store_true",
                       help="skip the workflow and actor apps (and placement, scheduler): a quicker start, no workflow state")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, with global options merged from both sides of the subcommand."""
    return _merge_globals(build_parser().parse_args(argv))
