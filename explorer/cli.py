"""Command line entry point: `dapr-explorer [options]` opens the TUI; subcommands script it.

- `dapr-explorer`              open the explorer on component files and sidecars
- `dapr-explorer demo`         start the local stack, seed it, open the explorer, stop it all on quit
- `dapr-explorer stack`        start and seed the local stack and keep it up until Ctrl-C

Never prints a secret: stack environment is shown with the key masked.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from explorer.errors import ExplorerError

if TYPE_CHECKING:
    from explorer.own_sidecar import OwnSidecar


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--resources-path", action="append", default=[], metavar="DIR",
                        help="folder of Dapr component YAML (repeatable); default ./components, else ~/.dapr/components")
    common.add_argument("--dapr-grpc-port", type=int, action="append", default=[], metavar="PORT",
                        help="gRPC port of a running sidecar (repeatable); default DAPR_GRPC_ENDPOINT / DAPR_GRPC_PORT")
    common.add_argument("--read-only", action="store_true", help="browse without any way to write")
    common.add_argument("--daprd", metavar="PATH", default=os.environ.get("DAPR_EXPLORER_DAPRD"),
                        help="daprd binary for the explorer's own sidecar (default: ~/.dapr/bin/daprd, else the local "
                             "stack's cached build)")
    common.add_argument("--no-start-sidecar", action="store_true",
                        help="never start a daprd of our own for an app-id with no reachable sidecar (writes then fail)")
    common.add_argument("--json", action="store_true", help="JSON output (JSON lines for listings)")
    common.add_argument("--cosmos-ca-file", help="CA bundle for Cosmos TLS (default SSL_CERT_FILE, else certifi)")
    return common


def _parser() -> argparse.ArgumentParser:
    from explorer.command_line import add_parsers

    common = _common_options()
    parser = argparse.ArgumentParser(prog="dapr-explorer", parents=[common],
                                     description="Look inside Dapr state stores in Azure Cosmos DB.")
    sub = parser.add_subparsers(dest="command")
    add_parsers(sub, common)
    for name, text in (("demo", "start and seed the local stack, open the explorer on it, stop it on quit"),
                       ("stack", "start and seed the local stack, print how to reach it, stop on Ctrl-C")):
        cmd = sub.add_parser(name, help=text, description=text)
        cmd.add_argument("--scale", type=int, default=0, metavar="KEYS", help="also seed KEYS bench keys (e.g. 100000)")
        cmd.add_argument("--partitions", type=int, default=10_000, help="partitions for --scale keys (default 10000)")
        cmd.add_argument("--daprd", help="daprd binary to use (default: build/cached from stack/build-daprd.sh)")
    return parser


def _raise_on_termination() -> None:
    """SIGTERM/SIGHUP unwind like Ctrl-C, so `finally` blocks stop child processes."""

    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def _start_seeded_stack(args: argparse.Namespace):
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import seed_with_progress

    if args.scale < 0 or args.partitions < 1:
        raise ExplorerError("--scale must be >= 0 and --partitions >= 1")
    print("starting the local stack (Cosmos-compatible server + daprd)…", file=sys.stderr)
    stack = LocalStack(daprd=args.daprd).start()
    try:
        summary = seed_with_progress(stack, args.scale, args.partitions)
    except BaseException:
        stack.stop()
        raise
    print(
        f"seeded {summary.plain_keys} keys through daprd, {summary.actor_keys} actor and {summary.workflow_keys} "
        f"workflow documents, {summary.scale_keys} bench keys in {summary.seconds:.1f}s; logs in {stack.run_dir}",
        file=sys.stderr,
    )
    return stack


def _run_demo(args: argparse.Namespace) -> int:
    from explorer.app import ExplorerApp
    from explorer.components import load_components

    stack = _start_seeded_stack(args)
    try:
        os.environ.update(stack.client_env())
        addresses = [s.grpc_address for s in stack.sidecars.values()]
        paths = [stack.resources_path]
        ExplorerApp(load_components(paths), paths, addresses, read_only=args.read_only, daprd=args.daprd).run()
    finally:
        stack.stop()
    return 0


def _run_stack(args: argparse.Namespace) -> int:
    import time

    stack = _start_seeded_stack(args)
    try:
        env = stack.client_env({})
        for name in ("COSMOS_URL", "SSL_CERT_FILE"):
            print(f"export {name}={env[name]}")
        print("export COSMOS_MASTER_KEY=…  # in the daprd environment; not printed")
        for sidecar in stack.sidecars.values():
            print(f"# {sidecar.app_id}: DAPR_GRPC_PORT={sidecar.grpc_port} DAPR_HTTP_PORT={sidecar.http_port}")
        print("# Ctrl-C stops everything", flush=True)
        while all(p.alive() for p in stack.processes()):
            time.sleep(0.5)
        print("a stack process exited; see the logs in", stack.run_dir, file=sys.stderr)
        return 1
    finally:
        stack.stop()


def _run_explorer(args: argparse.Namespace) -> int:
    from explorer.app import ExplorerApp
    from explorer.components import default_resources_paths, load_components
    from explorer.command_line import address_from_env

    paths = default_resources_paths(args.resources_path)
    components = load_components(paths)  # a bad component file is reported before the screen opens
    addresses = [address_from_env(port=p) for p in args.dapr_grpc_port] or [address_from_env()]
    ExplorerApp(components, paths, addresses, read_only=args.read_only, ca_file=args.cosmos_ca_file,
                api_token=os.environ.get("DAPR_API_TOKEN"), daprd=args.daprd,
                start_sidecars=not args.no_start_sidecar).run()
    return 0


def _say_started(sidecar: OwnSidecar) -> None:
    print(f"started daprd for app-id {sidecar.app_id} on {sidecar.address} (stops on exit)", file=sys.stderr)


def _run_command(args: argparse.Namespace) -> int:
    import asyncio

    from explorer.commands import COMMANDS
    from explorer.components import default_resources_paths
    from explorer.command_line import address_from_env
    from explorer.workspace import open_workspace

    async def run() -> int:
        addresses = [address_from_env(port=p) for p in args.dapr_grpc_port] or [address_from_env()]
        workspace = await open_workspace(default_resources_paths(args.resources_path), addresses,
                                         api_token=os.environ.get("DAPR_API_TOKEN"), read_only=args.read_only,
                                         ca_file=args.cosmos_ca_file, start_sidecars=not args.no_start_sidecar,
                                         daprd=args.daprd, on_sidecar_started=_say_started)
        try:
            return await COMMANDS[args.command](workspace, args)
        finally:
            await workspace.close()

    return asyncio.run(run())


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    # The Azure SDK logs retries and endpoint changes to stderr; errors reach the user as ours.
    logging.getLogger("azure").setLevel(logging.ERROR)
    args = _parser().parse_args(argv)
    _raise_on_termination()
    try:
        if args.command == "demo":
            return _run_demo(args)
        if args.command == "stack":
            return _run_stack(args)
        if args.command:
            return _run_command(args)
        return _run_explorer(args)
    except ExplorerError as exc:
        print(f"dapr-explorer: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
