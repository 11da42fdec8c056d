"""Command line entry point: `dapr-explorer [options]` opens the TUI; subcommands script it.

- `dapr-explorer`              open the explorer on component files and sidecars
- `dapr-explorer demo`         start the local stack, seed it, open the explorer, stop it all on quit
- `dapr-explorer stack`        start and seed the local stack and keep it up until Ctrl-C
- `dapr-explorer contexts`     list the named contexts (`--context NAME` picks one for any command)
  (both run the workflow, actor and dapr-agents apps, whose state daprd writes; `--no-apps`: a quicker stack without)

`stack` and `demo` register the stack as the `local` context while they run (explorer.session.contexts),
so `dapr-explorer --context local …` reaches it; the registration goes when the stack stops.

Never prints a secret: stack environment is shown with the key masked.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from explorer.core.display import terminal_safe, terminal_safe_lines
from explorer.errors import ExplorerError

if TYPE_CHECKING:
    from explorer.dapr.own_sidecar import OwnSidecar


#: The local stack's sidecar that requires an API token in `stack` and `demo` (it has no app beside it), so
#: the `local` context shows a secured sidecar reached with nothing copied by hand.
SECURED_APP = "chat-api"


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
    if args.entra and args.scale:
        raise ExplorerError("--scale seeds with the account key, which the Entra ID mode refuses: drop one of them")
    apps = not args.no_apps and not args.entra
    print("starting the local stack (Cosmos-compatible server + daprd"
          + (", placement, scheduler, the workflow, actor and dapr-agents apps)…" if apps else
             ", in Entra ID mode: no account key, a stand-in managed identity endpoint)…" if args.entra else ")…"),
          file=sys.stderr)
    stack = LocalStack(daprd=args.daprd, apps=apps, entra=args.entra,
                       api_tokens={SECURED_APP: secrets.token_urlsafe(32)}).start()
    try:
        if args.entra:
            import asyncio

            from explorer.localstack.seed import seed_entra

            summary = asyncio.run(seed_entra(stack))
        else:
            summary = seed_with_progress(stack, args.scale, args.partitions)
    except BaseException:
        _stop_stack(stack, keep_logs=True)
        raise
    said = (f"seeded {summary.plain_keys} keys through daprd with the contributor identity (Entra ID mode: no apps)"
            if args.entra else _seed_summary(summary, apps))
    print(said + f"; logs in {stack.run_dir} (removed on exit)", file=sys.stderr)
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
    """The seeded stack, registered as the `local` context, in the explorer opened on that context."""
    from explorer.session.contexts import load_table, read_contexts_file, register_stack

    stack = _start_seeded_stack(args)
    registration = None
    try:
        registration = register_stack(stack)
        local = read_contexts_file(registration.context_file, registered=True)[0]
        return _open_explorer(args, local, load_table(strict=False))
    finally:
        if registration is not None:
            registration.remove()
        _stop_stack(stack)


def _app_exit_code(app) -> int:
    """The TUI's exit status: Textual sets a non-zero return code when the app ended by an error."""
    return app.return_code or 0


def _run_stack(args: argparse.Namespace) -> int:
    import time

    from explorer.session.contexts import register_stack

    stack = _start_seeded_stack(args)
    registration = None
    try:
        registration = register_stack(stack)
        env = stack.client_env({})
        for name in ("COSMOS_URL", "SSL_CERT_FILE"):
            print(f"export {name}={env[name]}")
        if stack.entra:
            print("# Entra ID mode: no account key anywhere; daprd and the explorer get tokens from the stand-in "
                  "managed identity endpoint (IDENTITY_ENDPOINT/IDENTITY_HEADER, in the context's env file, not printed)")
            print("# stores: statestore-entra (the contributor identity), statestore-entra-reader (the reader)")
        else:
            print("export COSMOS_MASTER_KEY=…  # in the daprd environment and the context's env file; not printed")
        for sidecar in stack.sidecars.values():
            secured = (" (requires a DAPR_API_TOKEN: it is in the context's env file, not printed)"
                       if stack.api_tokens.get(sidecar.app_id) else "")
            print(f"# {sidecar.app_id}: DAPR_GRPC_PORT={sidecar.grpc_port} DAPR_HTTP_PORT={sidecar.http_port}{secured}")
        for app in stack.app_processes.values():
            print(f"# the {app.app_id} app runs beside its daprd (log: {app.process.log_path})")
        print(f"# registered as context '{registration.name}' ({registration.context_file}): "
              f"dapr-explorer --context {registration.name} stores")
        print("# Ctrl-C stops everything", flush=True)
        while all(p.alive() for p in stack.processes()):
            time.sleep(0.5)
        print("a stack process exited", file=sys.stderr)
        return 1
    finally:
        if registration is not None:
            registration.remove()
        _stop_stack(stack)


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


def _say_started(sidecar: OwnSidecar) -> None:
    print(f"started daprd for app-id {sidecar.app_id} on {sidecar.address} (stops on exit)", file=sys.stderr)


def _run_command(args: argparse.Namespace) -> int:
    import asyncio

    from explorer.cli.commands import ASK_AT_THE_KEY, COMMANDS, WRITE_COMMANDS, confirm_typed_name
    from explorer.session.contexts import prepare
    from explorer.core.contexts import decide_writes
    from explorer.errors import ReadOnlyRefusal
    from explorer.session.explorer_session import ExplorerSession

    context, _ = _chosen_context(args)
    policy = decide_writes(context, args.read_only, args.allow_writes)
    if policy.read_only and args.command in WRITE_COMMANDS:
        raise ReadOnlyRefusal(f"read-only: '{args.command}' writes, and {policy.reason}. Nothing was sent.")
    args.confirm_name = policy.confirm_name  # set/delete/bulk/import ask for it to be typed before they write
    if policy.confirm_name and args.command in WRITE_COMMANDS - ASK_AT_THE_KEY:
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
            return await COMMANDS[args.command](session, args)
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
        if args.command == "contexts":  # the contexts files alone: no component files, sidecar or Cosmos
            from explorer.cli.commands import cmd_contexts

            return cmd_contexts(args)
        if args.command == "demo":
            return _run_demo(args)
        if args.command == "stack":
            return _run_stack(args)
        if args.command == "audit":  # the log alone: no component files, sidecar or Cosmos
            from explorer.cli.commands import cmd_audit

            return cmd_audit(args)
        if args.command:
            return _run_command(args)
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
        from explorer.errors import describe

        print(terminal_safe(f"dapr-explorer: unexpected error: {describe(exc)}. Nothing more was done. "
                            "Set DAPR_EXPLORER_DEBUG=1 for the traceback, and please report it."), file=sys.stderr)
        return 1
