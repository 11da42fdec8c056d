"""`python -m explorer` is the same as the `dapr-explorer` command."""

from explorer.cli import main

raise SystemExit(main())
