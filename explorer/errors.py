"""Typed errors the UI and CLI show as they are: each says what was wrong and what to do.

Messages must never contain a secret value (account keys, tokens).
"""


class ExplorerError(Exception):
    """Base of every error we expect and explain; `exit_code` is the CLI's."""

    exit_code = 1
    title = "Error"


class ComponentError(ExplorerError):
    """A component file or one of its values cannot be read or resolved."""

    title = "Component"


class StackError(ExplorerError):
    """The local stack (Cosmos-compatible server, daprd) cannot be built, started or reached."""

    title = "Local stack"
