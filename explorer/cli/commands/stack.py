"""`dapr-explorer stack` and `demo`: the local dev stack (a real daprd and a Cosmos-compatible server on
loopback) started and seeded, registered as the `local` context while it runs (explorer.session.contexts),
then kept up until Ctrl-C (`stack`) or opened in the explorer until quit (`demo`).

What it is for: the one door from the product to explorer.localstack. What it must never do: print
a secret (the account key and the API tokens go to the context's env file, never to the terminal),
or leave a process of the stack running when it returns.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Callable

from explorer.core.contexts import Context, ContextTable
from explorer.errors import ExplorerError
from explorer.session.contexts import StackSite, load_table, read_contexts_file, register_stack

#: The local stack's sidecar that requires an API token in `stack` and `demo` (it has no app beside it), so
#: the `local` context shows a secured sidecar reached with nothing copied by hand.
SECURED_APP = "chat-api"

#: How `demo` opens the explorer on the stack: the entry point's opener (args, the context, every context).
OpenExplorer = Callable[[argparse.Namespace, Context, ContextTable], int]


def _start_seeded_stack(args: argparse.Namespace):
    """The stack started and seeded as the options ask (its logs kept when the seed fails)."""
    from explorer.localstack.manager import LocalStack
    from explorer.localstack.seed import seed_entra, seed_with_progress

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


def _site(stack) -> StackSite:
    """What the `local` context needs of the running stack: the server's address and credentials (the
    key, or in Entra ID mode the managed identity endpoint, as the stack's daprd has it), the sidecars
    and their tokens, the component folder."""
    assert stack.cosmos is not None
    if stack.entra:
        env = stack.client_env({})
        values = {name: env[name] for name in ("COSMOS_URL", "SSL_CERT_FILE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER")}
    else:
        values = {"COSMOS_URL": stack.cosmos.url, "COSMOS_MASTER_KEY": stack.cosmos.master_key,
                  "SSL_CERT_FILE": str(stack.cosmos.ca_file)}
    return StackSite(values, {app_id: s.grpc_address for app_id, s in stack.sidecars.items()}, stack.api_tokens,
                     stack.resources_path, stack.cosmos.ca_file, stack.run_dir)


def run_demo(args: argparse.Namespace, open_explorer: OpenExplorer) -> int:
    """The seeded stack, registered as the `local` context, in the explorer opened on that context."""
    stack = _start_seeded_stack(args)
    registration = None
    try:
        registration = register_stack(_site(stack))
        local = read_contexts_file(registration.context_file, registered=True)[0]
        return open_explorer(args, local, load_table(strict=False))
    finally:
        if registration is not None:
            registration.remove()
        _stop_stack(stack)


def run_stack(args: argparse.Namespace) -> int:
    """The seeded stack, registered as the `local` context, until Ctrl-C or one of its processes exits;
    prints how to reach it (never a secret)."""
    stack = _start_seeded_stack(args)
    registration = None
    try:
        registration = register_stack(_site(stack))
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
