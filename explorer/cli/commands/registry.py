"""The one table of the subcommands: each name, its function, what it runs on and whether it writes.

What it is for: the entry point's dispatch (explorer.cli.main) and the read-only refusal, which needs
to know the write commands before anything is opened. What it must never do: hold a command's logic
(it lives in its family's module) or list a command twice.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from explorer.cli.commands import agents, audit, bulk, contexts, keys, search, stack, stats, stores, transfer, workflows


class Runs(enum.Enum):
    """What a command runs on, which says how the entry point calls it."""

    SESSION = "session"  # `await run(session, args)`: a session opened from the context and the options
    ALONE = "alone"  # `run(args)`: its own files only (no component files, sidecar or Cosmos)
    EXPLORER = "explorer"  # `run(args, open_explorer)`: what it starts, then the TUI opened on it


@dataclass(frozen=True)
class Command:
    run: Callable[..., object]
    runs: Runs = Runs.SESSION
    writes: bool = False  # refused in --read-only before anything is opened
    #: Asks for a production context's name once it knows what it writes (set and delete: the key; bulk
    #: and import: the plan, after its count is typed), so that a refusal leaves the audit line of each
    #: write refused. A write command without it asks before anything is opened.
    asks_at_the_key: bool = False


COMMANDS: dict[str, Command] = {
    "stores": Command(stores.cmd_stores),
    "doctor": Command(stores.cmd_doctor),
    "partitions": Command(keys.cmd_partitions),
    "keys": Command(keys.cmd_keys),
    "get": Command(keys.cmd_get),
    "set": Command(keys.cmd_set, writes=True, asks_at_the_key=True),
    "delete": Command(keys.cmd_delete, writes=True, asks_at_the_key=True),
    "export": Command(transfer.cmd_export),
    "import": Command(transfer.cmd_import, writes=True, asks_at_the_key=True),
    "diff": Command(transfer.cmd_diff),
    "bulk": Command(bulk.cmd_bulk, writes=True, asks_at_the_key=True),
    "search": Command(search.cmd_search),
    "stats": Command(stats.cmd_stats),
    "workflows": Command(workflows.cmd_workflows),
    "workflow": Command(workflows.cmd_workflow),
    "agents": Command(agents.cmd_agents),
    "agent-run": Command(agents.cmd_agent_run),
    "contexts": Command(contexts.cmd_contexts, Runs.ALONE),
    "audit": Command(audit.cmd_audit, Runs.ALONE),
    "stack": Command(stack.run_stack, Runs.ALONE),
    "demo": Command(stack.run_demo, Runs.EXPLORER),
}

#: Subcommands that write; refused in --read-only before anything is opened.
WRITE_COMMANDS = frozenset(name for name, command in COMMANDS.items() if command.writes)
