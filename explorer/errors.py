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


def describe(exc: BaseException) -> str:
    """An error as one plain line for a pane or a dialog: ours carry a title; others their class name."""
    if isinstance(exc, ExplorerError):
        return f"{exc.title}: {exc}"
    text = str(exc).strip().split("\n")[0][:300]
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
