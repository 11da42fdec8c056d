"""The command line: the entry point (main), the grammar (parser) and the subcommands.

What it is for: `dapr-explorer …` — parse, dispatch to a command, print. Commands reach stores only
through explorer.session; output goes through the terminal-safe printers.
What it must never do: import the TUI's screens (the app is opened through explorer.tui.app alone),
or touch the local stack outside the `stack` and `demo` commands.
"""
