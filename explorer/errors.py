"""Typed errors the UI and CLI show as they are: each says what was wrong and what to do.

Every error the explorer expects and explains lives here, so the screens and the
CLI import errors from one place, never from the module that raises them.
`exit_code` is the CLI's exit status; `retryable` says whether pressing `r`
(reconnect and read again) can help, so the TUI offers it only then.

Messages must never contain a secret value (account keys, tokens).
"""


class ExplorerError(Exception):
    """Base of every error we expect and explain; `exit_code` is the CLI's."""

    exit_code = 1
    title = "Error"
    retryable = False  # True: the same call may succeed later (something was down)
    refused = False  # True: a write was refused, nothing was written (the audit log says "refused")


class UsageError(ExplorerError):
    """The command line or an input value is wrong; nothing was sent."""

    exit_code = 2
    title = "Usage"


class ComponentError(ExplorerError):
    """A component file or one of its values cannot be read or resolved."""

    title = "Component"


class UnknownStore(ExplorerError):
    exit_code = 3
    title = "Unknown store"


class ContextError(ExplorerError):
    """A contexts file, a context's field, its env file or its component list is wrong, or no context has
    the name given (explorer.core.contexts, explorer.session.contexts); nothing was opened."""

    exit_code = 2
    title = "Context"


class InstallError(ExplorerError):
    """The installed package lacks files it ships with (a broken or partial install)."""

    title = "Install"


class StackError(ExplorerError):
    """The local stack (Cosmos-compatible server, daprd) cannot be built, started or reached."""

    title = "Local stack"


# -- Cosmos DB (explorer.backends.cosmos.lister) -------------------------------------------------------

class CosmosError(ExplorerError):
    title = "Cosmos DB"


class NotFound(CosmosError):
    exit_code = 3


class CosmosUnreachable(CosmosError):
    """The Cosmos DB account did not answer (refused, reset, timed out): nothing was read."""

    title = "Cosmos DB not reachable"
    retryable = True


#: Cosmos DB's text for a 403 (substatus 5301) to an Entra ID identity without the role an operation
#: needs: "Request is blocked because principal [<id>] does not have required RBAC permissions to
#: perform action [Microsoft.DocumentDB/…/items/create] on resource […]". It reaches the explorer in
#: the SDK's error, and inside daprd's gRPC error for a write (components-contrib returns azcosmos'
#: ResponseError text, which daprd wraps as "failed saving state in state store …").
RBAC_REFUSAL = "does not have required rbac permissions"
RBAC_SUBSTATUS = 5301
DATA_READER = "Cosmos DB Built-in Data Reader"
DATA_CONTRIBUTOR = "Cosmos DB Built-in Data Contributor"


def is_rbac_refusal(text: str) -> bool:
    """Whether an error text is Cosmos DB refusing an identity for a missing data-plane role."""
    return RBAC_REFUSAL in text.lower()


class SignInFailed(CosmosError):
    """No credential of the store's Entra ID chain issued a token (explorer.backends.cosmos.entra_id): nothing was
    sent to Cosmos DB. The text says who tried and why, never a token or a secret."""

    title = "Entra ID sign-in"
    retryable = True  # an identity endpoint or the network may come back


# -- Dapr sidecars (explorer.dapr.sidecar, explorer.dapr.own_sidecar) ------------------------------------

class SidecarError(ExplorerError):
    title = "Sidecar"


class RoleMissing(CosmosError, SidecarError):
    """Cosmos DB refused the signed-in identity: its role assignments do not allow the operation
    (403, substatus 5301). Nothing was read or written. `identity` is a description (never a token).
    A Cosmos error that reaches the explorer from the SDK (reads) or inside daprd's answer (writes),
    so both families catch it."""

    exit_code = 6
    title = "Role missing"
    refused = True  # nothing was written: the audit log (on main since dd18bc7) records it as refused

    def __init__(self, what: str, writing: bool, identity: str | None = None):
        self.what, self.writing, self.identity = what, writing, identity
        who = f" ({identity})" if identity else ""
        if writing:
            line = (f"{what}: the write needs the {DATA_CONTRIBUTOR} role, which the identity used{who} does not "
                    "have; nothing was written. Ask for a role assignment, or use a store whose identity has it.")
        else:
            line = (f"{what}: the identity used{who} has no data access to this account; reading needs the "
                    f"{DATA_READER} role (or {DATA_CONTRIBUTOR}); nothing was read.")
        super().__init__(line)

    def with_identity(self, identity: str | None) -> "RoleMissing":
        """The same refusal naming the identity (the layer that knows the store adds it)."""
        return RoleMissing(self.what, self.writing, identity) if identity and not self.identity else self


class SidecarRefused(SidecarError):
    """A sidecar answered and refused the request (a wrong or missing API token, or another refusal).
    Nothing was read or written through it; its app-id's writes are not routed around it."""

    refused = True

    def __init__(self, address: str, reason: str, variable: str | None = None, app_id: str | None = None,
                 token: bool = True):
        """`token`: the sidecar refused the API token (else another refusal: its API allowlist, say)."""
        self.address, self.reason, self.variable, self.app_id, self.token = address, reason, variable, app_id, token
        fix = (f"Set {variable} to its token." if variable else
               "Set DAPR_API_TOKEN (or the variable the context's api_token_env names) to its token.")
        if not token:
            fix = "Its Dapr configuration (the API allowlist, spec.api) must allow the explorer's calls."
        line = f"the sidecar at {address} refused the request: {reason}. {fix}"
        if app_id is not None:  # a write this refusal stopped (app_id "": a key that carries none)
            whose = (f"of app-id {app_id!r} answers", f"{app_id}'s") if app_id else ("answers for this key", "its")
            line = (f"nothing was written: no sidecar {whose[0]}, and {line[:-1]} — it may be {whose[1]}, "
                    "so the explorer does not go around it with a daprd of its own.")
        super().__init__(line)

    def naming(self, variable: str | None) -> "SidecarRefused":
        """The same refusal naming the variable its token is read from (the session knows it)."""
        return (SidecarRefused(self.address, self.reason, variable, self.app_id, self.token)
                if variable and not self.variable else self)

    def stopping_write(self, app_id: str | None) -> "SidecarRefused":
        """This refusal as the reason a write for `app_id` (None: a key without one) was not sent."""
        return SidecarRefused(self.address, self.reason, self.variable, app_id or "", self.token)


class SidecarUnavailable(SidecarError):
    """No sidecar answers at the address."""

    retryable = True


class WriteOutcomeUnknown(SidecarError):
    """A write whose answer never came (deadline): it may or may not have happened."""

    title = "Write outcome unknown"


class EtagConflict(SidecarError):
    """The item changed since it was read: the write was refused, nothing was written."""

    exit_code = 4
    title = "Etag conflict"

    @classmethod
    def of(cls, what: str) -> "EtagConflict":
        """The conflict of a write to `what` (store/key), in the one wording every path uses."""
        return cls(f"{what} changed since it was read (etag mismatch); nothing was written. Reload, then retry.")


class KeyGone(EtagConflict):
    """An etag-checked write found the item deleted since it was read: nothing was written."""

    @classmethod
    def of(cls, what: str, etag: str | None = None) -> "KeyGone":  # type: ignore[override]
        """`what` (store/key), deleted by someone else since `etag` was read."""
        return cls(f"{what} no longer exists: deleted by someone else since etag {etag} was read; nothing was "
                   "deleted.")


class InvalidKey(SidecarError):
    exit_code = 2


class OwnSidecarError(ExplorerError):
    """The explorer could not start (or may not start) a daprd of its own for an app-id."""

    title = "Own sidecar"


class ScopedAway(OwnSidecarError):
    """The component's scopes leave out the app-id that owns the key: no daprd of it loads the store."""


# -- writes (explorer.session.gateway, explorer.session.explorer_session) ------------------------------------------------

class ReadOnlyRefusal(ExplorerError):
    exit_code = 5
    title = "Read-only"
    refused = True


class NotWritable(ExplorerError):
    """Actor/workflow state, or a key whose owning sidecar is not reachable."""

    title = "Not writable"
    refused = True


class NoSidecar(ExplorerError):
    title = "No sidecar"


class ShapeChange(ExplorerError):
    """The new value would turn a JSON item into bytes or bytes into JSON without being asked."""

    exit_code = 2
    title = "Value shape"


class NotADaprDocument(ExplorerError):
    """The item has no Dapr envelope (value/isBinary): the explorer shows it, never writes it."""

    title = "Not a Dapr document"


class SavedUnverified(ExplorerError):
    """The save went through Dapr; only reading the new version back failed."""

    title = "Saved"
    retryable = True


def is_retryable(exc: BaseException) -> bool:
    """Whether reconnecting and asking again (`r`) can fix what `exc` reports."""
    return isinstance(exc, ExplorerError) and exc.retryable


def describe(exc: BaseException) -> str:
    """An error as one plain line for a pane or a dialog: ours carry a title; others their class name."""
    if isinstance(exc, ExplorerError):
        return f"{exc.title}: {exc}"
    text = str(exc).strip().split("\n")[0][:300]
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__
