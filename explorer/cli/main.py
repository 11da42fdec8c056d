"""Command line entry point: `dapr-explorer [options]` opens the TUI; subcommands script it.

- `dapr-explorer`              open the explorer on component files and sidecars
- `dapr-explorer demo`         start the local stack, seed it, open the explorer, stop it all on quit
- `dapr-explorer stack`        start and seed the local stack and keep it up until Ctrl-C
  (both run the workflow, actor and dapr-agents apps, whose state daprd writes; `--no-apps`: a quicker stack without)
- `dapr-explorer contexts`     list the named contexts (`--context NAME` picks one for any command)
- `dapr-explorer COMMAND …`    any other subcommand (explorer.cli.commands.registry: the one table)

What it is for: parsing, dispatching to a command, and turning an error into one line and an exit
code. The commands live in explorer.cli.commands, one module per family; `stack` and `demo` in
explorer.cli.commands.stack. What it must never do: print a secret or a traceback (unless
DAPR_EXPLORER_DEBUG is set), or import an SDK before the TUI's first paint.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Protocol

from explorer.core.display import terminal_safe, terminal_safe_lines
from explorer.errors import ExplorerError, ReadOnlyRefusal, describe


class _Started(Protocol):
    """A daprd the session started for an app-id with no reachable sidecar, as the session reports it."""

    app_id: str
    address: str


def _raise_on_termination() -> None:
    """SIGTERM/SIGHUP unwind like Ctrl-C, so `finally` blocks stop child processes."""

    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def _app_exit_code(app) -> int:
    """The TUI's exit status: Textual sets a non-zero return code when the app ended by an error."""
    return app.return_code or 0


def _chosen_context(args: argparse.Namespace):
    """The context --context names (None without it), and every context known (for the TUI's switch)."""
    from explorer.session.contexts import load_table

    if not args.context:
        return None, load_table(strict=False)  # the TUI's palette still offers them
    table = load_table()
    return table.pick(args.context), table


def _open_explorer(args: argparse.Namespace, context, table) -> int:
    """The TUI on `context` (None: the command line and the environment alone, as without contexts)."""
    from explorer.tui.app import ExplorerApp
    from explorer.components.files import load_resources
    from explorer.session.contexts import prepare

    prepared = prepare(context, read_only=args.read_only, allow_writes=args.allow_writes,
                       resources=args.resources_path, ports=args.dapr_grpc_port, ca_file=args.cosmos_ca_file,
                       ru_per_second=args.ru_per_second)
    try:
        prepared.apply()
        loaded = load_resources(prepared.resources_paths)  # a bad file is a warning on screen; the others still open
        for problem in loaded.problems:
            print(terminal_safe_lines(f"dapr-explorer: component file problem: {problem}"), file=sys.stderr)
        app = ExplorerApp(list(loaded.components), prepared.resources_paths, prepared.addresses,
                          ca_file=prepared.ca_file, daprd=args.daprd, start_sidecars=not args.no_start_sidecar,
                          component_problems=[str(p) for p in loaded.problems], prepared=prepared, contexts=table,
                          flags=(args.read_only, args.allow_writes))
        app.run()
    finally:
        prepared.close()  # the app closes the ones it switched to
    return _app_exit_code(app)


def _run_explorer(args: argparse.Namespace) -> int:
    context, table = _chosen_context(args)
    return _open_explorer(args, context, table)


def _say_started(sidecar: _Started) -> None:
    print(f"started daprd for app-id {sidecar.app_id} on {sidecar.address} (stops on exit)", file=sys.stderr)


def _run_command(args: argparse.Namespace, command) -> int:
    """A command that runs on a session (`command`: its row of explorer.cli.commands.registry, loaded
    only once a command is given): the write policy first (a write refused before anything is opened),
    then the session, the command, and the session closed."""
    import asyncio

    from explorer.cli.confirm import confirm_typed_name
    from explorer.session.contexts import prepare
    from explorer.core.contexts import decide_writes
    from explorer.session.explorer_session import ExplorerSession

    context, _ = _chosen_context(args)
    policy = decide_writes(context, args.read_only, args.allow_writes)
    if policy.read_only and command.writes:
        raise ReadOnlyRefusal(f"read-only: '{args.command}' writes, and {policy.reason}. Nothing was sent.")
    args.confirm_name = policy.confirm_name  # set/delete/bulk/import ask for it to be typed before they write
    if policy.confirm_name and command.writes and not command.asks_at_the_key:
        # Any other write command (bulk, import, …) asks before anything is opened: nothing is sent unless typed.
        store = getattr(args, "store", None)
        confirm_typed_name(args, f"run '{args.command}'" + (f" on {store}" if store else ""))

    prepared = prepare(context, read_only=args.read_only, allow_writes=args.allow_writes,
                       resources=args.resources_path, ports=args.dapr_grpc_port, ca_file=args.cosmos_ca_file,
                       ru_per_second=args.ru_per_second)

    async def run() -> int:
        session = await ExplorerSession.open(
            prepared.resources_paths, prepared.addresses, prepared.api_token,
            read_only=prepared.policy.read_only, ca_file=prepared.ca_file, start_sidecars=not args.no_start_sidecar,
            daprd=args.daprd, on_sidecar_started=_say_started, api_tokens=prepared.api_tokens,
            context_name=prepared.context_name, ru_per_second=prepared.ru_per_second,
            token_variables=prepared.token_variables)
        for problem in session.component_problems:
            print(terminal_safe_lines(f"dapr-explorer: component file problem: {problem}"), file=sys.stderr)
        try:
            return await command.run(session, args)
        finally:
            await session.close()

    try:
        prepared.apply()
        return asyncio.run(run())
    finally:
        prepared.close()


def main(argv: Sequence[str] | None = None) -> int:
    import logging

    # The Azure SDK logs retries and endpoint changes to stderr; errors reach the user as ours.
    logging.getLogger("azure").setLevel(logging.ERROR)
    from explorer.cli.parser import parse_args

    args = parse_args(argv)
    _raise_on_termination()
    try:
        if args.command:  # the commands load only when one is given: the TUI's first paint waits on none
            from explorer.cli.commands.registry import COMMANDS, Runs

            command = COMMANDS[args.command]
            if command.runs is Runs.ALONE:
                return command.run(args)
            if command.runs is Runs.EXPLORER:
                return command.run(args, _open_explorer)
            return _run_command(args, command)
        return _run_explorer(args)
    except ExplorerError as exc:
        print(terminal_safe_lines(f"dapr-explorer: {exc}"), file=sys.stderr)  # errors quote keys
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `dapr-explorer export S | head`: the reader left; not our error
        sys.stderr.close()
        return 141
    except Exception as exc:  # noqa: BLE001 - the last net: one line and a non-zero exit, never a traceback
        if os.environ.get("DAPR_EXPLORER_DEBUG"):
            raise
        print(terminal_safe(f"dapr-explorer: unexpected error: {describe(exc)}. Nothing more was done. "
                            "Set DAPR_EXPLORER_DEBUG=1 for the traceback, and please report it."), file=sys.stderr)
        return 1
