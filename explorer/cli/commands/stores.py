"""`dapr-explorer stores` and `doctor`: the state stores the component files and sidecars declare, and
each Cosmos store's declared settings against its effective ones.

What it is for: printing what the session found. What it must never do: print a secret (component
values are shown masked) or read a store's items.
"""

from __future__ import annotations

import argparse
import sys

from explorer.cli.output import emit_json, print, table
from explorer.core.doctor import Severity
from explorer.session.explorer_session import ExplorerSession


async def cmd_stores(session: ExplorerSession, args: argparse.Namespace) -> int:
    stores = session.stores()
    if args.json:
        for s in stores:
            emit_json({"name": s.name, "type": s.type, "database": s.database, "container": s.container,
                       "capabilities": list(s.capabilities), "sidecars": list(s.sidecars), "declaredIn": s.declared_in})
    else:
        table("State stores", ["Store", "Type", "Database/container", "Sidecar", "Capabilities"],
              [[s.name, s.type, s.location, s.owner, " ".join(s.capabilities)] for s in stores])
    for problem in session.sidecar_problems:
        print(f"sidecar not reachable: {problem}", file=sys.stderr)
    return 1 if session.component_problems else 0


async def cmd_doctor(session: ExplorerSession, args: argparse.Namespace) -> int:
    names = list(dict.fromkeys(args.stores)) or [c.name for c in session.workspace.components if c.is_cosmos]
    findings = []
    for name in names:
        session.workspace.cosmos_component(name)  # an unknown or non-Cosmos store is an error, not silence
        found, note = await session.doctor(name)
        findings.extend(found)
        if note:
            print(f"{name}: {note}", file=sys.stderr)
    if args.json:
        for f in findings:
            emit_json({"store": f.store, "code": f.code, "severity": f.severity.name.lower(), "field": f.field,
                       "message": f.message, "fix": f.fix})
    else:
        table("Doctor: declared versus effective", ["Store", "Severity", "Field", "Finding", "Fix"],
              [[f.store, f.severity.name.lower(), f.field or "", f.message, f.fix] for f in findings])
    failed = any(f.severity is Severity.ERROR for f in findings) or bool(session.component_problems)
    return 1 if failed else 0
