"""`python -m explorer` is the same as the `dapr-explorer` command."""

from explorer.cli.main import main

raise SystemExit(main())
