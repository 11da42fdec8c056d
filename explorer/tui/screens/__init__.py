"""One module per screen a user opens: browser, key editor, workflows, agents, actors, search, stats,
bulk, import, diff, audit. Screens import the session and the core, and the tui's own widgets and dialogs;
never a backend, the local stack or the CLI."""
