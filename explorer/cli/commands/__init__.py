"""The subcommands, one module per family (stores, keys, transfer, bulk, search, stats, workflows,
agents, contexts, audit, stack), and their one table (registry).

What it is for: what each `dapr-explorer COMMAND` does and prints. What it must never do: reach a
store past explorer.session, import the TUI (the entry point opens it), or touch the local dev stack
outside `stack` (the `stack` and `demo` commands).
"""
