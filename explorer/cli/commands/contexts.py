"""`dapr-explorer contexts`: every named context, where it comes from, what it reaches and whether it
may be written.

What it is for: the contexts files alone (no component files, sidecar or Cosmos). What it must
never do: print a secret (only the names of the variables that hold tokens).
"""

from __future__ import annotations

import argparse
import sys

from explorer.cli.output import emit_json, print, table
from explorer.session.contexts import config_file, load_table


def cmd_contexts(args: argparse.Namespace) -> int:
    """Every named context: where it comes from, what it reaches, whether it may be written; never a
    secret (only the names of the variables that hold tokens). Exit 1 when a contexts file is wrong."""
    known = load_table(strict=False)
    contexts = sorted(known.contexts, key=lambda c: (c.registered, c.name))
    if args.json:
        for context in contexts:
            emit_json(context.to_json())
    elif contexts:
        rows = []
        for c in contexts:
            kind = "production" if c.production else "writable"
            if c.read_only:
                kind = "read-only" + (" · production" if c.production else "")
            sidecars = [f"{s.address} ({c.token_env(s)})" for s in c.sidecars] or [f"from DAPR_GRPC_* ({c.token_env()})"]
            where = [*c.resources, *(f"{p} (component list)" for p in c.components)]
            source = f"{c.source} (registered by process {c.pid})" if c.registered and c.pid else c.source
            rows.append([c.name, kind + (f" · {c.color}" if c.color else ""), "\n".join(where), "\n".join(sidecars), source])
        table("Contexts", ["Name", "Kind", "Component files", "Sidecars (token variable)", "Defined in"], rows)
    elif not known.problems:
        print(f"no contexts: write them in {config_file()} (see docs/contexts.md), or start `dapr-explorer stack`, "
              "which registers 'local' while it runs", file=sys.stderr)
    for problem in known.problems:
        print(f"dapr-explorer: {problem}", file=sys.stderr)
    return 1 if known.problems else 0
