"""The one seam between the faces (tui, cli) and the stores: the session, its workspace (the sidecars,
the lister, the gateway — the one write path), the audit log, contexts, and the bulk, import and diff runs.

What it is for: every read and write a face asks for. What it must never do: draw, print, or import a
face; nothing it uses calls it back.
"""
