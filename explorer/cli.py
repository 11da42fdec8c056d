"""Command line entry point: `dapr-explorer [options]` opens the TUI; subcommands script it.

- `dapr-explorer`              open the explorer on component files and sidecars
- `dapr-explorer demo`         start the local stack, seed it, open the explorer, stop it all on quit
- `dapr-explorer stack`        start and seed the local stack and keep it up until Ctrl-C
  (both run the workflow, actor and dapr-agents apps, whose state daprd writes; `--no-apps`: a quicker stack without)

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
    apps = not args.no_apps
    print("starting the local stack (Cosmos-compatible server + daprd"
          + (", placement, scheduler, the workflow, actor and dapr-agents apps)…" if apps else ")…"), file=sys.stderr)
    stack = LocalStack(daprd=args.daprd, apps=apps).start()
    try:
        summary = seed_with_progress(stack, args.scale, args.partitions)
    except BaseException:
        _stop_stack(stack, keep_logs=True)
        raise
    print(_seed_summary(summary, apps) + f"; logs in {stack.run_dir} (removed on exit)", file=sys.stderr)
    return stack


def _seed_summary(summary, apps: bool) -> str:
    """What the seed left, in a line or two (workflow instances by id and status)."""
    text = f"seeded {summary.plain_keys} keys through daprd"
    if apps:
        instances = ", ".join(f"{instance} {status.lower()}" for instance, status in summary.workflow_states)
        text += (f", {summary.actor_keys} actor state keys (cart-service's actors) and {summary.workflow_instances} "
                 f"workflow instances written by daprd from the apps ({instances})")
        if summary.agent_runs:
            runs = ", ".join(f"{instance} {status.lower()}" for instance, status in summary.agent_runs)
            text += (f"; dapr-agents registered {', '.join(summary.agents)} and ran {len(summary.agent_runs)} "
                     f"runs ({runs})")
    else:
        text += " (--no-apps: no actor, workflow or agent state)"
    if summary.scale_keys:
        text += f", {summary.scale_keys} bench keys"
    return text + f" in {summary.seconds:.1f}s"


def _stop_stack(stack, keep_logs: bool = False) -> None:
    """Stop every process of the stack; say where its logs are when they were kept."""
    stack.stop(keep_logs=keep_logs)
    if stack.kept_logs is not None:
        print(f"the local stack's logs are kept in {stack.kept_logs}", file=sys.stderr)


def _run_demo(args: argparse.Namespace) -> int:
    from explorer.app import ExplorerApp
    from explorer.components import load_components

    stack = _start_seeded_stack(args)
    try:
        os.environ.update(stack.client_env())
        addresses = [s.grpc_address for s in stack.sidecars.values()]
        paths = [stack.resources_path]
        app = ExplorerApp(load_components(paths), paths, addresses, read_only=args.read_only, daprd=args.daprd)
        app.run()
    finally:
        _stop_stack(stack)
    return _app_exit_code(app)


def _app_exit_code(app) -> int:
    """The TUI's exit status: Textual sets a non-zero return code when the app ended by an error."""
    return app.return_code or 0


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
        for app in stack.app_processes.values():
            print(f"# the {app.app_id} app runs beside its daprd (log: {app.process.log_path})")
        print("# Ctrl-C stops everything", flush=True)
        while all(p.alive() for p in stack.processes()):
            time.sleep(0.5)
        print("a stack process exited", file=sys.stderr)
        return 1
    finally:
        _stop_stack(stack)


def _run_explorer(args: argparse.Namespace) -> int:
    from explorer.app import ExplorerApp
    from explorer.components import default_resources_paths, load_resources
    from explorer.command_line import address_from_env

    paths = default_resources_paths(args.resources_path)
    loaded = load_resources(paths)  # a bad file is a warning on screen; the other stores still open
    for problem in loaded.problems:
        print(f"dapr-explorer: component file problem: {problem}", file=sys.stderr)
    addresses = [address_from_env(port=p) for p in args.dapr_grpc_port] or [address_from_env()]
    app = ExplorerApp(list(loaded.components), paths, addresses, read_only=args.read_only, ca_file=args.cosmos_ca_file,
                      api_token=os.environ.get("DAPR_API_TOKEN"), daprd=args.daprd,
                      start_sidecars=not args.no_start_sidecar,
                      component_problems=[str(p) for p in loaded.problems])
    app.run()
    return _app_exit_code(app)


def _say_started(sidecar: OwnSidecar) -> None:
    print(f"started daprd for app-id {sidecar.app_id} on {sidecar.address} (stops on exit)", file=sys.stderr)


def _run_command(args: argparse.Namespace) -> int:
    import asyncio

    from explorer.command_line import address_from_env
    from explorer.commands import COMMANDS, WRITE_COMMANDS
    from explorer.components import default_resources_paths
    from explorer.errors import ReadOnlyRefusal
    from explorer.session import ExplorerSession

    if args.read_only and args.command in WRITE_COMMANDS:
        raise ReadOnlyRefusal(f"read-only: '{args.command}' writes, and this session was started with --read-only. "
                              "Nothing was sent.")

    async def run() -> int:
        addresses = [address_from_env(port=p) for p in args.dapr_grpc_port] or [address_from_env()]
        session = await ExplorerSession.open(
            default_resources_paths(args.resources_path), addresses, os.environ.get("DAPR_API_TOKEN"),
            read_only=args.read_only, ca_file=args.cosmos_ca_file, start_sidecars=not args.no_start_sidecar,
            daprd=args.daprd, on_sidecar_started=_say_started)
        for problem in session.component_problems:
            print(f"dapr-explorer: component file problem: {problem}", file=sys.stderr)
        try:
            return await COMMANDS[args.command](session, args)
        finally:
            await session.close()

    return asyncio.run(run())


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    # The Azure SDK logs retries and endpoint changes to stderr; errors reach the user as ours.
    logging.getLogger("azure").setLevel(logging.ERROR)
    from explorer.command_line import parse_args

    args = parse_args(argv)
    _raise_on_termination()
    try:
        if args.command == "demo":
            return _run_demo(args)
        if args.command == "stack":
            return _run_stack(args)
        if args.command == "audit":  # the log alone: no component files, sidecar or Cosmos
            from explorer.commands import cmd_audit

            return cmd_audit(args)
        if args.command:
            return _run_command(args)
        return _run_explorer(args)
    except ExplorerError as exc:
        print(f"dapr-explorer: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dapr-explorer export S | head`: the reader left; not our error
        sys.stderr.close()
        return 141
    except Exception as exc:  # noqa: BLE001 - the last net: one line and a non-zero exit, never a traceback
        if os.environ.get("DAPR_EXPLORER_DEBUG"):
            raise
        from explorer.errors import describe

        print(f"dapr-explorer: unexpected error: {describe(exc)}. Nothing more was done. "
              "Set DAPR_EXPLORER_DEBUG=1 for the traceback, and please report it.", file=sys.stderr)
        return 1
