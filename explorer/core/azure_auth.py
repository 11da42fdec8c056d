"""How a Cosmos store authenticates, decided the way Dapr decides it: account key or Entra ID.

What it is for: turning a `state.azure.cosmosdb` component's metadata (values
already resolved, or `UNRESOLVED` for a reference the caller did not resolve)
and an environment (a mapping, passed in) into an `AuthPlan`: the master key, or
the Entra ID credential chain in Dapr's order with each method's inputs, the
cloud's authority host, and the problems Dapr would hit. The explorer builds
its azure-identity credential from the plan (explorer.backends.cosmos.entra_id); the doctor
reports the plan's problems (explorer.core.doctor).

Mirrors components-contrib v1.18.3 (the daprd the local stack builds):
- state/azure/cosmosdb/cosmosdb.go `StateStore.Init`: masterKey when non-empty,
  else `azure.NewEnvironmentSettings` + `GetTokenCredential`; every azure* field
  is ignored when masterKey is set.
- common/authentication/azure/metadata-properties.go `MetadataKeys`: the aliases.
- common/authentication/azure/auth.go: `GetAzureEnvironment`, `GetTokenCredential`
  (the order, `azureAuthMethods`), `GetClientCredentials`, `GetClientCert`,
  `GetMSI`, `addWorkloadIdentityProvider`, `addCLIProvider`,
  `isCloudServiceWithManagedIdentity`; spiffe.go `GetSpiffeWorkloadIdentity`.
- metadata/utils.go `GetMetadataProperty`: names case-insensitive, the first
  alias PRESENT wins (present and empty counts: the next alias is not read).
- azidentity v1.7.0: `validTenantID` (confidential_client.go
  `newConfidentialClient`), `NewWorkloadIdentityCredential` (env only),
  `setAuthorityHost`, and `ChainedTokenCredential.GetToken` (moves on only when a
  credential is *unavailable*; any other failure ends the chain).

What it must never do: I/O of any kind (no files, network or os.environ: the
environment is an argument), or let a secret value (client secret, certificate,
certificate password, account key) into a repr, a str or a problem message.
Secrets travel in `Secret`, which only `reveal()` opens.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field

MASK = "••••••"


class Secret:
    """A secret value that shows as a mask everywhere but `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __reduce__(self):  # a pickled plan must not carry the value either
        raise TypeError("a Secret cannot be pickled")


class _Unresolved:
    """A value given by reference (envRef / secretKeyRef) that the caller did not resolve: present and
    non-empty, its text unknown. The doctor plans with it; the explorer always resolves."""

    _instance: _Unresolved | None = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNRESOLVED"


UNRESOLVED = _Unresolved()
Value = str | _Unresolved

# -- the metadata names (metadata-properties.go MetadataKeys) --------------------------------------

ALIASES: dict[str, tuple[str, ...]] = {
    "Certificate": ("azureCertificate", "spnCertificate"),
    "CertificateFile": ("azureCertificateFile", "spnCertificateFile"),
    "CertificatePassword": ("azureCertificatePassword", "spnCertificatePassword"),
    "ClientID": ("azureClientId", "spnClientId", "clientId"),
    "ClientSecret": ("azureClientSecret", "spnClientSecret", "clientSecret"),
    "TenantID": ("azureTenantId", "spnTenantId", "tenantId"),
    "AzureEnvironment": ("azureEnvironment", "azureCloud"),
    "AzureAuthMethods": ("azureAuthMethods", "azureADAuthMethods", "entraIDAuthMethods", "microsoftEntraIDAuthMethods"),
}
#: Every metadata name the Azure auth helper reads, lower-case -> as Dapr spells it.
AZURE_FIELDS: dict[str, str] = {name.lower(): name for names in ALIASES.values() for name in names}


class Method(enum.Enum):
    """One credential of Dapr's chain; the value is Dapr's long spelling in `azureAuthMethods`."""

    CLIENT_SECRET = "clientcredentials"
    CERTIFICATE = "clientcertificate"
    WORKLOAD_IDENTITY = "workloadidentity"
    SPIFFE = "spiffeworkloadidentity"
    MANAGED_IDENTITY = "managedidentity"
    AZURE_CLI = "commandlineinterface"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def mirrored(self) -> bool:
        """Whether the explorer (azure-identity) can do what daprd does for this method. SPIFFE needs
        the JWT SVID daprd gets from Dapr's Sentry (mTLS): no Python process has it."""
        return self is not Method.SPIFFE


_LABELS = {
    Method.CLIENT_SECRET: "client secret",
    Method.CERTIFICATE: "client certificate",
    Method.WORKLOAD_IDENTITY: "workload identity",
    Method.SPIFFE: "SPIFFE workload identity",
    Method.MANAGED_IDENTITY: "managed identity",
    Method.AZURE_CLI: "Azure CLI",
}

#: auth.go getAzureAuthMethods: the spellings azureAuthMethods accepts (after lower-casing), "none" aside.
METHOD_NAMES: dict[str, Method] = {
    "clientcredentials": Method.CLIENT_SECRET, "creds": Method.CLIENT_SECRET,
    "clientcertificate": Method.CERTIFICATE, "cert": Method.CERTIFICATE,
    "workloadidentity": Method.WORKLOAD_IDENTITY, "wi": Method.WORKLOAD_IDENTITY,
    "spiffeworkloadidentity": Method.SPIFFE, "spiffe": Method.SPIFFE,
    "managedidentity": Method.MANAGED_IDENTITY, "mi": Method.MANAGED_IDENTITY,
    "commandlineinterface": Method.AZURE_CLI, "cli": Method.AZURE_CLI,
}
NONE_METHOD = "none"

#: auth.go GetTokenCredential's order when azureAuthMethods is absent or blank.
DEFAULT_ORDER = (Method.CLIENT_SECRET, Method.CERTIFICATE, Method.WORKLOAD_IDENTITY, Method.SPIFFE,
                 Method.MANAGED_IDENTITY, Method.AZURE_CLI)


class Cloud(enum.Enum):
    """auth.go GetAzureEnvironment; authority hosts from azcore v1.11.1 cloud/cloud.go."""

    PUBLIC = "AzurePublicCloud"
    CHINA = "AzureChinaCloud"
    US_GOVERNMENT = "AzureUSGovernmentCloud"

    @property
    def authority_host(self) -> str:
        return _AUTHORITY[self]


_AUTHORITY = {
    Cloud.PUBLIC: "https://login.microsoftonline.com/",
    Cloud.CHINA: "https://login.chinacloudapi.cn/",
    Cloud.US_GOVERNMENT: "https://login.microsoftonline.us/",
}
_CLOUD_NAMES = {
    "": Cloud.PUBLIC, "azurepubliccloud": Cloud.PUBLIC, "azurepublic": Cloud.PUBLIC,
    "azurechinacloud": Cloud.CHINA, "azurechina": Cloud.CHINA,
    "azureusgovernmentcloud": Cloud.US_GOVERNMENT, "azureusgovernment": Cloud.US_GOVERNMENT,
}

#: Environment variables Dapr reads (auth.go; azidentity workload_identity.go, azidentity.go).
IDENTITY_ENDPOINT, IMDS_ENDPOINT, MSI_ENDPOINT = "IDENTITY_ENDPOINT", "IMDS_ENDPOINT", "MSI_ENDPOINT"
AZURE_CLIENT_ID, AZURE_TENANT_ID = "AZURE_CLIENT_ID", "AZURE_TENANT_ID"
AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST = "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST"


class Severity(enum.Enum):
    ERROR = "error"  # daprd refuses to initialise the store; so does the explorer
    WARNING = "warning"  # a method is skipped, or cannot be mirrored, or a field does nothing


# Problem codes (stable: the doctor and tests key on them).
INVALID_CLOUD = "invalid-cloud"
UNKNOWN_METHOD = "unknown-method"
METHODS_DISABLED = "methods-disabled"
NO_PROVIDER = "no-provider"
NOT_MIRRORED = "not-mirrored"
SKIPPED = "method-skipped"
AMBIGUOUS_FIELD = "ambiguous-field"
IGNORED_FOR_KEY = "ignored-for-key"


@dataclass(frozen=True)
class Problem:
    """One thing about a store's authentication: `code`, how bad, and one line (never a secret)."""

    code: str
    severity: Severity
    message: str
    field: str | None = None


@dataclass(frozen=True)
class Step:
    """One credential of the chain, with what it is built from (secrets only as `Secret`)."""

    method: Method
    client_id: str | None = None  # the app or managed identity (None: system-assigned / from the CLI login)
    tenant_id: str | None = None
    authority_host: str | None = None  # None: the credential's own default (not given by Dapr)
    client_secret: Secret | None = field(default=None, repr=False)
    certificate: Secret | None = field(default=None, repr=False)  # inline PEM/PFX (azureCertificate)
    certificate_file: str | None = None  # a path (azureCertificateFile; wins over the inline one)
    certificate_password: Secret | None = field(default=None, repr=False)
    token_file: str | None = None  # workload identity's AZURE_FEDERATED_TOKEN_FILE

    @property
    def mirrored(self) -> bool:
        return self.method.mirrored

    def describe(self) -> str:
        """Which identity this step signs in as, in a few words; never a secret."""
        who = _short(self.client_id)
        if self.method is Method.CLIENT_SECRET:
            return f"client secret, app {who}"
        if self.method is Method.CERTIFICATE:
            return f"client certificate, app {who}"
        if self.method is Method.WORKLOAD_IDENTITY:
            return f"workload identity, client id {who}"
        if self.method is Method.SPIFFE:
            return f"SPIFFE workload identity, app {who}"
        if self.method is Method.MANAGED_IDENTITY:
            return f"managed identity, client id {who}" if self.client_id else "managed identity, system-assigned"
        return "Azure CLI, the signed-in account"


def _short(identifier: str | None) -> str:
    """A client id as shown: its first group (ids are not secrets, but a whole GUID crowds a line)."""
    if not identifier:
        return "(none)"
    head = identifier.split("-", 1)[0]
    return f"{head}…" if len(head) < len(identifier) else identifier


class Kind(enum.Enum):
    MASTER_KEY = "master key"
    ENTRA_ID = "Entra ID"


@dataclass(frozen=True)
class AuthPlan:
    """How one store authenticates. `refusal` is set when daprd would refuse to initialise the store
    (and the explorer refuses too): the one line why. `steps` are Dapr's chain, in order."""

    kind: Kind
    master_key: Secret | None = field(default=None, repr=False)
    cloud: Cloud | None = None  # None: master key, or azureEnvironment given by reference (not known here)
    steps: tuple[Step, ...] = ()
    explicit_methods: tuple[str, ...] | None = None  # azureAuthMethods as Dapr split it (None: default order)
    problems: tuple[Problem, ...] = ()
    refusal: str | None = None

    @property
    def mirrored_steps(self) -> tuple[Step, ...]:
        """The steps the explorer builds (SPIFFE cannot be mirrored)."""
        return tuple(step for step in self.steps if step.mirrored)

    def describe(self) -> str:
        """The identity the explorer signs in as, in one line: "account key", or the first method it
        tries, with the ones the chain can still reach when that one is unavailable."""
        if self.kind is Kind.MASTER_KEY:
            return "account key"
        if self.refusal is not None or not self.mirrored_steps:
            return "Entra ID (no usable credential)"
        return describe_chain(self.mirrored_steps)


# -- reading the metadata like GetMetadataProperty -------------------------------------------------


def lookup(metadata: Mapping[str, Value], setting: str) -> tuple[Value | None, str | None]:
    """(value, the name it was given under) of one setting, or (None, None): names
    case-insensitive, the first alias present wins (metadata/utils.go GetMetadataProperty)."""
    lowered: dict[str, tuple[str, Value]] = {}
    for name, value in metadata.items():
        lowered.setdefault(name.lower(), (name, value))
    for alias in ALIASES[setting]:
        hit = lowered.get(alias.lower())
        if hit is not None:
            return hit[1], hit[0]
    return None, None


def _ambiguities(metadata: Mapping[str, Value]) -> list[Problem]:
    """Names that differ only in case: Go's map order picks one of them at random."""
    seen: dict[str, list[str]] = {}
    for name in metadata:
        if name.lower() in AZURE_FIELDS:
            seen.setdefault(name.lower(), []).append(name)
    return [Problem(AMBIGUOUS_FIELD, Severity.WARNING,
                    f"'{names[0]}' is given {len(names)} times in different cases ({', '.join(names)}): daprd picks "
                    "one of them at random; keep one", names[0])
            for names in seen.values() if len(names) > 1]


def parse_cloud(text: str) -> Cloud | None:
    """auth.go GetAzureEnvironment: the cloud a name means (case-insensitive), None if Dapr refuses it."""
    return _CLOUD_NAMES.get(text.lower())


def parse_methods(text: str) -> tuple[list[str], str | None]:
    """auth.go GetTokenCredential: azureAuthMethods as Dapr splits it (lower-cased, trimmed, split on
    commas, each trimmed), and the refusal Dapr gives for it (None: every name is known and none is
    'none'). The first bad name refuses, in order: 'a,none,b' refuses at 'none'."""
    names = [part.strip() for part in text.strip().lower().split(",")]
    for name in names:
        if name == NONE_METHOD:
            return names, "all Azure auth methods are disabled with azureAuthMethods 'none'"
        if name not in METHOD_NAMES:
            shown = f"'{name}'" if name else "an empty name (a stray comma?)"
            return names, (f"azureAuthMethods has {shown}, which Dapr does not know (it takes "
                           "clientcredentials/creds, clientcertificate/cert, workloadidentity/wi, "
                           "spiffeworkloadidentity/spiffe, managedidentity/mi, commandlineinterface/cli, none)")
    return names, None


def valid_tenant_id(tenant: str) -> bool:
    """azidentity's validTenantID: letters, digits, '.' and '-' only, at least one."""
    return bool(tenant) and all(c.isascii() and (c.isalnum() or c in ".-") for c in tenant)


# -- the plan --------------------------------------------------------------------------------------


def plan_auth(metadata: Mapping[str, Value], environ: Mapping[str, str], master_key: Value | None = None) -> AuthPlan:
    """How daprd (and so the explorer) authenticates this store.

    `metadata`: the component's metadata, name -> value (resolved, or UNRESOLVED); `master_key`: the
    resolved masterKey (None/empty: none; cosmosdb.go Init's `m.MasterKey != ""`); `environ`: the
    environment the credentials run in (the explorer's own: daprd's may differ).
    """
    problems = _ambiguities(metadata)
    if master_key:  # cosmosdb.go Init: a key wins; the Azure settings are never read
        given = sorted({name for name in metadata if name.lower() in AZURE_FIELDS}, key=str.lower)
        if given:
            problems.append(Problem(
                IGNORED_FOR_KEY, Severity.WARNING,
                f"masterKey is set, so Dapr ignores {', '.join(given)}: the store signs in with the account key", given[0]))
        key = master_key if isinstance(master_key, str) else None
        return AuthPlan(Kind.MASTER_KEY, master_key=Secret(key) if key else None, problems=tuple(problems))

    env_name, env_field = lookup(metadata, "AzureEnvironment")
    cloud: Cloud | None = Cloud.PUBLIC
    if isinstance(env_name, str):
        cloud = parse_cloud(env_name)
        if cloud is None:  # NewEnvironmentSettings fails: Init returns "invalid Azure cloud"
            reason = (f"{env_field} '{env_name}' is not an Azure cloud Dapr knows (AzurePublicCloud, AzureChinaCloud, "
                      "AzureUSGovernmentCloud): daprd refuses to initialise the store")
            problems.append(Problem(INVALID_CLOUD, Severity.ERROR, reason, env_field))
            return AuthPlan(Kind.ENTRA_ID, problems=tuple(problems), refusal=reason)
    elif env_name is UNRESOLVED:
        cloud = None

    settings = {name: lookup(metadata, name) for name in ALIASES}
    methods_text, methods_field = settings["AzureAuthMethods"]
    explicit: tuple[str, ...] | None = None
    if methods_text is UNRESOLVED:
        order: list[Method] = []
        problems.append(Problem(SKIPPED, Severity.WARNING,
                                f"{methods_field} comes by reference: the order of methods is not known here", methods_field))
    elif isinstance(methods_text, str) and methods_text.strip():
        names, refusal = parse_methods(methods_text)
        explicit = tuple(names)
        if refusal is not None:
            code = METHODS_DISABLED if NONE_METHOD in names and refusal.startswith("all") else UNKNOWN_METHOD
            problems.append(Problem(code, Severity.ERROR, f"{refusal}: daprd refuses to initialise the store", methods_field))
            return AuthPlan(Kind.ENTRA_ID, cloud=cloud, explicit_methods=explicit, problems=tuple(problems),
                            refusal=refusal)
        order = [METHOD_NAMES[name] for name in names]
    else:
        order = list(DEFAULT_ORDER)

    steps: list[Step] = []
    for method in order:
        step, skipped = _step(method, settings, environ, cloud, explicit is not None)
        if skipped:
            problems.append(skipped)
        if step is not None:
            steps.append(step)

    for step in steps:
        if not step.mirrored and reachable(steps, step):
            stops = step is not steps[-1]
            problems.append(Problem(
                NOT_MIRRORED, Severity.WARNING,
                f"{step.method.label} is in Dapr's chain (" + ("asked for in azureAuthMethods" if explicit is not None
                else "a client id and a tenant id are set and no azureAuthMethods") + "), but the explorer cannot "
                "mirror it: it needs the JWT SVID daprd gets from Dapr's Sentry (mTLS); the explorer skips it"
                + ("; where it fails for daprd (no mTLS, or no federated credential for the SPIFFE id) the chain "
                   "stops there and daprd never tries " + ", ".join(s.method.label for s in steps[steps.index(step) + 1:])
                   if stops else ""),
                methods_field if explicit is not None else settings["TenantID"][1]))
    refusal = None
    if not steps:  # GetTokenCredential: "no suitable token provider for Azure AD"
        refusal = "no Azure credential can be built from the component and the environment (no suitable token provider)"
        problems.append(Problem(NO_PROVIDER, Severity.ERROR, f"{refusal}: daprd refuses to initialise the store", methods_field))
    return AuthPlan(Kind.ENTRA_ID, cloud=cloud, steps=tuple(steps), explicit_methods=explicit,
                    problems=tuple(problems), refusal=refusal)


def _text(value: Value | None) -> str:
    """A setting as Go sees it after `GetEnvironment` ("" when absent); UNRESOLVED stays non-empty."""
    if value is None:
        return ""
    return "(by reference)" if value is UNRESOLVED else value


def _tenant_ok(value: Value | None) -> bool:
    return value is UNRESOLVED or valid_tenant_id(_text(value))


def _step(method: Method, settings: Mapping[str, tuple[Value | None, str | None]], environ: Mapping[str, str],
          cloud: Cloud | None, explicit: bool) -> tuple[Step | None, Problem | None]:
    """One add*Provider of auth.go: the step, or None with the reason Dapr leaves it out (a Problem only
    where Dapr records an error, or where the method was asked for by name)."""
    client_id, tenant_id = settings["ClientID"][0], settings["TenantID"][0]
    authority = cloud.authority_host if cloud is not None else None
    cid = client_id if isinstance(client_id, str) and client_id else None
    tid = tenant_id if isinstance(tenant_id, str) and tenant_id else None
    tenant_field = settings["TenantID"][1] or "azureTenantId"

    def skipped(why: str, field_name: str | None = None) -> tuple[None, Problem | None]:
        # Dapr adds a method's error to `errs` only past its Get*() check; a method asked for by name
        # that is left out is worth a line anyway.
        return None, Problem(SKIPPED, Severity.WARNING, f"{method.label} skipped: {why}", field_name)

    def quietly() -> tuple[None, Problem | None]:
        return (None, Problem(SKIPPED, Severity.WARNING, f"{method.label} was asked for in azureAuthMethods but "
                              "its settings are missing, so Dapr leaves it out")) if explicit else (None, None)

    if method is Method.CLIENT_SECRET:  # GetClientCredentials: all three non-empty
        secret = settings["ClientSecret"][0]
        if not (_text(client_id) and _text(secret) and _text(tenant_id)):
            return quietly()
        if not _tenant_ok(tenant_id):  # NewClientSecretCredential -> newConfidentialClient
            return skipped(f"tenant id in '{tenant_field}' is not a valid tenant id", tenant_field)
        return Step(method, cid, tid, authority,
                    client_secret=Secret(secret) if isinstance(secret, str) else None), None
    if method is Method.CERTIFICATE:  # GetClientCert: a file or inline data, non-empty
        path, inline = settings["CertificateFile"][0], settings["Certificate"][0]
        password = settings["CertificatePassword"][0]
        if not (_text(path) or _text(inline)):
            return quietly()
        if not _tenant_ok(tenant_id):  # NewClientCertificateCredential -> newConfidentialClient
            return skipped(f"tenant id in '{tenant_field}' is not a valid tenant id", tenant_field)
        has_path = bool(_text(path))  # CertConfig.GetTokenCredential: the file wins over inline data
        return Step(method, cid, tid, authority,
                    certificate=Secret(inline) if not has_path and isinstance(inline, str) else None,
                    certificate_file=path if has_path and isinstance(path, str) else None,
                    certificate_password=Secret(password) if isinstance(password, str) and password else None), None
    if method is Method.WORKLOAD_IDENTITY:  # NewWorkloadIdentityCredential(nil): the environment only
        missing = [v for v in (AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_TENANT_ID) if v not in environ]
        if missing:
            return (None, None) if not explicit else skipped(f"{', '.join(missing)} not set in the environment")
        if not valid_tenant_id(environ[AZURE_TENANT_ID]):
            return skipped(f"{AZURE_TENANT_ID} is not a valid tenant id")
        # azidentity setAuthorityHost: Dapr passes no cloud here, so AZURE_AUTHORITY_HOST or public.
        host = environ.get(AZURE_AUTHORITY_HOST) or Cloud.PUBLIC.authority_host
        return Step(method, environ[AZURE_CLIENT_ID] or None, environ[AZURE_TENANT_ID], host,
                    token_file=environ[AZURE_FEDERATED_TOKEN_FILE]), None
    if method is Method.SPIFFE:  # GetSpiffeWorkloadIdentity: client id and tenant id non-empty
        if not (_text(client_id) and _text(tenant_id)):
            return quietly()
        if not _tenant_ok(tenant_id):  # NewClientAssertionCredential -> newConfidentialClient
            return skipped(f"tenant id in '{tenant_field}' is not a valid tenant id", tenant_field)
        return Step(method, cid, tid, authority), None
    if method is Method.MANAGED_IDENTITY:  # GetMSI: always; the client id only if given
        return Step(method, cid), None
    # Azure CLI: NewAzureCLICredential(nil) (no tenant); in the default order left out on a cloud host.
    if not explicit and is_cloud_service_with_managed_identity(environ):
        return None, None
    return Step(method), None


def is_cloud_service_with_managed_identity(environ: Mapping[str, str]) -> bool:
    """auth.go isCloudServiceWithManagedIdentity: App Service/Functions/Container Apps, Arc, Cloud Shell."""
    return any(environ.get(name) for name in (IDENTITY_ENDPOINT, IMDS_ENDPOINT, MSI_ENDPOINT))


#: Credentials whose GetToken can say "unavailable" (managed identity behind Dapr's timeout wrapper or
#: with no endpoint; the CLI not installed). Any other failure — and every failure of a client secret,
#: certificate, workload identity or SPIFFE credential — ends ChainedTokenCredential.GetToken
#: (azidentity v1.7.0 chained_token_credential.go; azure-identity's ChainedTokenCredential alike).
CAN_BE_UNAVAILABLE = frozenset({Method.MANAGED_IDENTITY, Method.AZURE_CLI})


def reachable(steps: tuple[Step, ...] | list[Step], step: Step) -> bool:
    """Whether the chain can get to `step`: every step before it may be unavailable. Measured with
    components-contrib v1.18.3: a client id + tenant id and an App Service managed identity endpoint
    give 'ClientAssertionCredential: …' (SPIFFE) and managed identity is never asked."""
    before = list(steps)[:list(steps).index(step)]
    return all(s.method in CAN_BE_UNAVAILABLE for s in before)


def describe_chain(steps: tuple[Step, ...] | list[Step]) -> str:
    """The first step's identity, with the methods the chain can still reach when it is unavailable."""
    rest = [s.method.label for s in steps[1:] if reachable(steps, s)]
    return steps[0].describe() + (f" (else {', '.join(rest)})" if rest else "")

