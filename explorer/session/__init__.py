"""The one seam between the faces (tui, cli) and the stores: the session (explorer_session, typed by
protocol — the one module screens import), the parts it composes (workspace: components, backends and
gateways; sidecars: the one sidecar registry; reads; writes: the one audited write; stats_run;
search_route; stores), the gateway (the one write path), the audit log, contexts, and the bulk,
import, diff and agent-run work.

What it is for: every read and write a face asks for. What it must never do: draw, print, or import a
face; nothing it uses calls it back.
"""
