"""The terminal UI: the Textual app, its screens, its modal dialogs and the widgets screens compose.

What it is for: drawing what the session gives and posting what the user asks.
What it must never do: I/O outside a worker, reach a store past explorer.session, or import the CLI.
"""
