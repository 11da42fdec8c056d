"""Doctor: compares what a Cosmos state store's component file declares with
what Dapr (state.azure.cosmosdb) and Cosmos DB actually do.

Pure: it never does I/O (no network, files or environment); whatever was
observed in Cosmos arrives as `CosmosFacts`. A finding never contains a secret
value, and never the value an `{env:VAR}` or envRef would resolve to.

The fields Dapr reads come from components-contrib's
state/azure/cosmosdb/metadata.yaml and cosmosdb.go (url, masterKey, database,
collection, contentType), its Azure AD settings (common/authentication/azure,
including the spn*/clientId aliases), and the generic state-store fields daprd
itself consumes (keyPrefix, actorStateStore, outbox*). See
/work/shared/notes/dapr-cosmos.md. Names are matched case-insensitively, as
Dapr's metadata decoding does. How the store signs in (account key or Dapr's
Entra ID chain) comes from explorer.core.azure_auth, planned without resolving
references and without an environment (the doctor cannot see daprd's).
"""

from __future__ import annotations

import difflib
import enum
from dataclasses import dataclass

from explorer.core import azure_auth
from explorer.core.component_model import MASK, Component, MetadataValue, is_secret_field

COSMOS_TYPE = "state.azure.cosmosdb"
DAPR_PARTITION_KEY_PATH = "/partitionKey"


class Severity(enum.Enum):
    """How bad a finding is; ERROR < WARNING < INFO so that errors sort first."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True)
class Finding:
    """One thing the doctor noticed: `message` says what, `fix` says what to do."""

    store: str
    code: str
    severity: Severity
    field: str | None
    message: str
    fix: str


@dataclass(frozen=True)
class CosmosFacts:
    """What the I/O side observed in Cosmos; None / False means "not known"."""

    partition_key_paths: tuple[str, ...] | None = None
    default_ttl: int | None = None
    container_ttl_known: bool = False  # True when default_ttl was read (None then means TTL off)
    # The id of one item carrying a ttl, found by a query over the whole container (None: none/unknown).
    # Every fact about item contents comes from such a query, never from a sample of the items.
    ttl_item_seen: str | None = None
    account_consistency: str | None = None
    container_found: bool | None = None
    workflow_state_seen: str | None = None  # the id of one workflow metadata document found (None: none/unknown)
    legacy_reminder_ids: tuple[str, ...] | None = None  # some `actors||<type>…` ids found (None: not asked)


# Codes (stable; the UI and tests key on them).
IGNORED_FIELD = "ignored-field"
ENV_TEMPLATE = "env-template"
MISSING_FIELD = "missing-field"
NO_AUTH = "no-auth"
PLAIN_SECRET = "plain-secret"
PARTITION_KEY_PATH = "partition-key-path"
CONTAINER_TTL_OFF = "container-ttl-off"
TTL_NOT_ENFORCED = "ttl-not-enforced"
CONSISTENCY_ACCOUNT = "consistency-account"
KEY_PREFIX = "key-prefix"
KEY_PREFIX_ILLEGAL = "key-prefix-illegal"
CONTENT_TYPE = "content-type"
CONTAINER_NOT_FOUND = "container-not-found"
NOT_ACTOR_STATE_STORE = "not-actor-state-store"
LEGACY_REMINDERS = "legacy-reminders"
AUTH = "auth"  # how the store signs in (info)
AZURE_IGNORED = "azure-ignored"  # Azure fields beside a masterKey
AZURE_ENVIRONMENT = "azure-environment"  # an azureEnvironment Dapr refuses
AUTH_METHOD = "auth-method"  # an azureAuthMethods Dapr refuses, or a method it leaves out
AUTH_NOT_MIRRORED = "auth-not-mirrored"  # a method the explorer cannot do (SPIFFE)

#: Dapr's kit/strings.IsTruthy, which daprd applies to `actorStateStore`.
_TRUTHY = frozenset({"y", "yes", "true", "t", "on", "1"})

# Every name common/authentication/azure reads (metadata-properties.go MetadataKeys, aliases included).
_AZURE_AD_FIELDS = tuple(azure_auth.AZURE_FIELDS.values())
_COSMOS_FIELDS = ("url", "masterKey", "database", "collection", "contentType")
_GENERIC_STATE_FIELDS = (
    "actorStateStore", "keyPrefix",
    "outboxPublishPubsub", "outboxPublishTopic", "outboxPubsub", "outboxDiscardWhenMissingState",
)
KNOWN_FIELDS: tuple[str, ...] = _COSMOS_FIELDS + _AZURE_AD_FIELDS + _GENERIC_STATE_FIELDS
_KNOWN_LOWER = {n.lower(): n for n in KNOWN_FIELDS}

_TTL_FIELDS = frozenset({"defaultttlinseconds", "ttlinseconds", "ttl", "defaultttl"})

_IN_AZURE_FIX = "remove it; set this on the Cosmos account or container in Azure (portal, az CLI, Bicep), not in the component"
# lower-case name -> (why it does nothing, fix)
_EXPLAINED: dict[str, tuple[str, str]] = {
    "partitionkey": (
        "the partition key is per-request metadata, so this does nothing and every key stays its own partition",
        "remove it; pass partitionKey request metadata on each state call (save, get, delete, transaction)",
    ),
    "consistency": (
        "consistency is a per-request StateOptions setting",
        "remove it; pass consistency in StateOptions on each call (strong→Cosmos Session, eventual→Eventual)",
    ),
    "preferredregions": ("region preference is an account/client setting Dapr's component has no option for", _IN_AZURE_FIX),
    "enableendpointdiscovery": (
        "Dapr's Cosmos client has no endpoint-discovery option",
        "remove it; Dapr's component exposes no endpoint-discovery setting",
    ),
    "allowinsecureconnection": (
        "Dapr always verifies Cosmos' TLS certificate",
        "remove it; make daprd trust the server's certificate instead (e.g. SSL_CERT_FILE=<ca file>)",
    ),
    "enableautomaticfailover": ("failover is an account setting", _IN_AZURE_FIX),
    "enablemultiplewritelocations": ("multi-region writes are an account setting", _IN_AZURE_FIX),
    "indexingpolicy": ("the indexing policy is a container setting", _IN_AZURE_FIX),
    "throughputtype": ("throughput is a database/container setting", _IN_AZURE_FIX),
    "requestunits": ("throughput (RU/s) is a database/container setting", _IN_AZURE_FIX),
    "azurefederatedtokenfile": (
        "workload identity reads AZURE_FEDERATED_TOKEN_FILE from daprd's environment, not from the component",
        "remove it; the workload identity webhook sets AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE "
        "in the pod",
    ),
    "azureauthorityhost": (
        "the authority comes from azureEnvironment (AZURE_AUTHORITY_HOST in daprd's environment for workload identity)",
        "remove it; set azureEnvironment (AzurePublicCloud, AzureChinaCloud or AzureUSGovernmentCloud)",
    ),
}
# Names people use for fields Dapr does read under another name.
_RENAMES = {
    "container": "collection", "containername": "collection", "databasename": "database",
    "endpoint": "url", "accountendpoint": "url", "uri": "url",
    "key": "masterKey", "accountkey": "masterKey", "primarykey": "masterKey",
}
_BACKUP_EXPLAINED = ("backup policy is an account setting", _IN_AZURE_FIX)


def diagnose(component: Component, facts: CosmosFacts | None = None, namespace: str | None = None) -> list[Finding]:
    """Findings for one state.azure.cosmosdb component, errors first ([] for other types)."""
    if component.type != COSMOS_TYPE:
        return []
    facts = facts or CosmosFacts()
    findings: list[Finding] = []
    findings += _field_findings(component, facts)
    findings += _required_findings(component)
    findings += _fact_findings(component, facts)
    findings.append(_key_prefix_finding(component, namespace))
    findings += _content_type_findings(component)
    findings += _auth_findings(component)
    findings = [_scrub(f, _secret_values(component)) for f in findings]
    return sorted(findings, key=lambda f: f.severity.rank)


# --- per-field rules -------------------------------------------------------


def _field_findings(component: Component, facts: CosmosFacts) -> list[Finding]:
    out: list[Finding] = []
    store = component.name
    for item in component.metadata:
        lower = item.name.lower()
        var = item.env_template()
        if var is not None:
            out.append(Finding(
                store, ENV_TEMPLATE, Severity.ERROR, item.name,
                f"'{item.name}' is the literal '{{env:{var}}}': Dapr passes '{{env:VAR}}' on literally, it does not read {var}",
                f"write `envRef: {var}` instead of `value:` (or use secretKeyRef with a secret store)",
            ))
        elif _is_plain_secret(item):
            out.append(Finding(
                store, PLAIN_SECRET, Severity.WARNING, item.name,
                f"secret stored in the component file: '{item.name}' is a plain value",
                "move it out of the file: use secretKeyRef (with auth.secretStore) or `envRef: VAR`",
            ))
        if lower in _TTL_FIELDS:
            out.append(_ttl_finding(component, item, facts))
        elif lower not in _KNOWN_LOWER:
            out.append(_ignored_finding(store, item))
    return out


def _is_plain_secret(item: MetadataValue) -> bool:
    # *File fields (azureCertificateFile, azureFederatedTokenFile) hold paths, not secrets.
    if not is_secret_field(item.name) or item.name.lower().endswith("file"):
        return False
    return item.source == "value" and bool(item.value and item.value.strip())


def _ignored_finding(store: str, item: MetadataValue) -> Finding:
    lower = item.name.lower()
    explained = _EXPLAINED.get(lower) or (_BACKUP_EXPLAINED if lower.startswith("backup") else None)
    if explained is not None:
        why, fix = explained
        return Finding(store, IGNORED_FIELD, Severity.WARNING, item.name,
                       f"Dapr ignores component field '{item.name}': {why}", fix)
    if lower in _RENAMES:
        hint = f"did you mean '{_RENAMES[lower]}'? "
    else:
        close = difflib.get_close_matches(lower, list(_KNOWN_LOWER), n=1, cutoff=0.8)
        hint = f"did you mean '{_KNOWN_LOWER[close[0]]}'? " if close else ""
    return Finding(
        store, IGNORED_FIELD, Severity.WARNING, item.name,
        f"Dapr's azure.cosmosdb ignores component field '{item.name}' without a word",
        f"{hint}remove it or rename it to a field Dapr reads (url, masterKey, database, collection, contentType, keyPrefix, actorStateStore, azure*)",
    )


def _ttl_finding(component: Component, item: MetadataValue, facts: CosmosFacts) -> Finding:
    declared = _int(item.value) if item.source == "value" else None
    shown = f"{item.name}={item.value}" if item.source == "value" and item.value is not None else item.name
    severity = Severity.WARNING
    effect = ""
    if facts.container_ttl_known:
        if facts.default_ttl is None:
            effect = "; the container's TTL is off, so nothing expires"
        elif facts.default_ttl == -1:
            effect = "; container TTL is on with no default, so items saved without ttlInSeconds never expire"
        else:
            effect = f"; the effective default is the container's defaultTtl of {facts.default_ttl}s"
            if declared == facts.default_ttl:
                severity = Severity.INFO
    return Finding(
        component.name, TTL_NOT_ENFORCED, severity, item.name,
        f"declares a TTL ({shown}) that nothing enforces: Dapr ignores this field{effect}",
        "remove it; pass ttlInSeconds request metadata on each save, and turn container TTL on in Cosmos "
        "(defaultTtl -1, or N for a default of N seconds)",
    )


# --- required fields -------------------------------------------------------


def _present(component: Component, name: str) -> bool:
    item = component.get(name)
    if item is None:
        return False
    if item.source != "value":
        return True
    return bool(item.value and item.value.strip())


def _required_findings(component: Component) -> list[Finding]:
    out: list[Finding] = []
    for name, what in (("url", "the account endpoint, e.g. https://<account>.documents.azure.com:443/"),
                       ("database", "the database name"), ("collection", "the container name")):
        if not _present(component, name):
            out.append(Finding(
                component.name, MISSING_FIELD, Severity.ERROR, name,
                f"required field '{name}' is missing or empty: daprd fails to initialise the store ('{name} is required')",
                f"add `{name}` ({what}) to {component.source.name}",
            ))
    item = component.get("contentType")
    if item is not None and item.source == "value" and not (item.value or "").strip():
        out.append(Finding(
            component.name, MISSING_FIELD, Severity.ERROR, item.name,
            "contentType is empty: daprd fails to initialise the store ('contentType is required')",
            "remove contentType (application/json is the default) or give it a value",
        ))
    return out


# --- what Cosmos was seen to do -------------------------------------------


def _fact_findings(component: Component, facts: CosmosFacts) -> list[Finding]:
    out: list[Finding] = []
    store = component.name
    collection = component.plain("collection") or "the container"
    if facts.container_found is False:
        out.append(Finding(
            store, CONTAINER_NOT_FOUND, Severity.ERROR, "collection",
            f"container '{collection}' was not found: daprd fails to initialise the store",
            f"create container '{collection}' partitioned on {DAPR_PARTITION_KEY_PATH}",
        ))
    paths = facts.partition_key_paths
    if paths is not None and tuple(paths) != (DAPR_PARTITION_KEY_PATH,):
        shown = ", ".join(paths) if paths else "no path"
        out.append(Finding(
            store, PARTITION_KEY_PATH, Severity.ERROR, None,
            f"container is partitioned on {shown}; Dapr writes partitionKey, so its writes fail",
            f"recreate the container partitioned on {DAPR_PARTITION_KEY_PATH} and copy the items over",
        ))
    if facts.container_ttl_known and facts.default_ttl is None and facts.ttl_item_seen is not None:
        out.append(Finding(
            store, CONTAINER_TTL_OFF, Severity.WARNING, None,
            f"items carry a ttl (e.g. {facts.ttl_item_seen!r}) but the container's TTL is off: they never expire",
            "set the container's defaultTtl to -1 (TTL on, no default) so per-item ttl is honoured",
        ))
    out.extend(_actor_findings(component, facts))
    consistency = component.get("consistency")
    if consistency is not None and facts.account_consistency:
        out.append(_consistency_finding(component, consistency, facts.account_consistency))
    return out


def _actor_findings(component: Component, facts: CosmosFacts) -> list[Finding]:
    """Workflow state in a store daprd will not use for actors (so not for workflows); reminders that Dapr stopped
    reading from state stores (dapr/dapr pkg/runtime/processor/state: `actorStateStore` goes through
    kit's IsTruthy; reminders live in the scheduler since 1.15, state-store reminders were dropped in 1.17)."""
    out: list[Finding] = []
    store = component.name
    declared = (component.plain("actorStateStore") or "").strip().lower()
    if facts.workflow_state_seen is not None and declared not in _TRUTHY:
        said = f"actorStateStore is {declared!r}" if component.get("actorStateStore") is not None else "actorStateStore is not set"
        out.append(Finding(
            store, NOT_ACTOR_STATE_STORE, Severity.ERROR, "actorStateStore",
            f"the container holds Dapr workflow state (e.g. {facts.workflow_state_seen!r}) but {said}: daprd will "
            "not use this store for actors, so its workflows and actors fail ('actors: state store does not exist "
            "or incorrectly configured')",
            'add metadata {name: actorStateStore, value: "true"} to this component (one store per app may have it)',
        ))
    if facts.legacy_reminder_ids:
        shown = ", ".join(repr(i) for i in facts.legacy_reminder_ids[:3])
        out.append(Finding(
            store, LEGACY_REMINDERS, Severity.WARNING, None,
            f"reminder documents left over from Dapr before 1.17 ({shown}…): reminders live in Dapr's scheduler "
            "since 1.15 and daprd 1.17+ never reads these, so they are dead weight (and fire nothing)",
            "after migrating reminders to the scheduler (Dapr 1.15/1.16 does it at start), delete the `actors||…` "
            "documents through the Cosmos SDK or portal; Dapr's state API cannot address them",
        ))
    return out


def _consistency_finding(component: Component, item: MetadataValue, account: str) -> Finding:
    said = (item.value or "").strip() if item.source == "value" else f"<{item.source}>"
    wants_strong = said.lower() == "strong"
    account_strong = account.replace(" ", "").lower() == "strong"
    severity = Severity.WARNING if wants_strong and not account_strong else Severity.INFO
    return Finding(
        component.name, CONSISTENCY_ACCOUNT, severity, item.name,
        f"file says consistency={said}; Dapr ignores it; the account default is {account}; "
        "per-request strong→Session, eventual→Eventual",
        f"rely on the account default ({account}) or pass consistency per request; "
        "change the account's default consistency in Azure if you need Strong",
    )


# --- informational ---------------------------------------------------------


def _key_prefix_finding(component: Component, namespace: str | None) -> Finding:
    item = component.get("keyPrefix")
    store = component.name
    field = item.name if item is not None else "keyPrefix"
    if item is not None and item.source != "value":
        ref = item.env_ref if item.env_ref is not None else item.secret_name
        return Finding(
            store, KEY_PREFIX, Severity.INFO, field,
            f"keyPrefix comes from {item.source} {ref}: ids are <prefix>||<key> unless it resolves to appid/name/namespace/none",
            "write keyPrefix as a plain value so the id shape is visible in the file",
        )
    raw = "appid" if item is None else (item.value or "")
    if "||" in raw:
        return Finding(
            store, KEY_PREFIX_ILLEGAL, Severity.ERROR, field,
            f"keyPrefix '{raw}' contains '||': daprd refuses to load the store",
            "use a keyPrefix without '||' (appid, name, namespace, none or a plain word)",
        )
    strategy = raw.lower()  # daprd lower-cases the strategy, custom prefixes included
    if strategy == "appid":
        shape = "<app-id>||<key>"
        how = "appid (default)" if item is None else "appid"
    elif strategy == "name":
        shape, how = f"{store}||<key>", "name"
    elif strategy == "namespace":
        how = "namespace"
        if namespace:
            shape = f"{namespace}.<app-id>||<key>"
        elif namespace is None:
            shape = "<NAMESPACE>.<app-id>||<key> (<app-id>||<key> when NAMESPACE is unset)"
        else:
            shape = "<app-id>||<key> (NAMESPACE is unset, so appid applies)"
    elif strategy == "none":
        shape, how = "<key>", "none"
    else:
        shape, how = f"{strategy}||<key>", f"custom '{raw}'"
        if strategy != raw:
            shape += " (daprd lower-cases the prefix)"
    return Finding(
        store, KEY_PREFIX, Severity.INFO, field,
        f"keyPrefix {how}: Cosmos item ids are {shape}",
        "look items up by that id; change keyPrefix only together with migrating existing items",
    )


def _content_type_findings(component: Component) -> list[Finding]:
    item = component.get("contentType")
    if item is None or item.source != "value" or not (item.value or "").strip():
        return []
    value = item.value.strip()
    base = value.lower().split(";", 1)[0].strip()
    if base == "application/json":
        return []
    if base.startswith("text/") or base == "application/xml":
        stored = "stored as plain strings (isBinary false)"
    else:
        stored = "stored base64-encoded (isBinary true), never as JSON objects"
    return [Finding(
        component.name, CONTENT_TYPE, Severity.INFO, item.name,
        f"contentType is {value}: values are {stored}",
        "keep it if intended; use application/json (the default) to store JSON objects queryable in Cosmos",
    )]


# --- how the store signs in --------------------------------------------------

_AUTH_CODES = {
    azure_auth.IGNORED_FOR_KEY: (AZURE_IGNORED, Severity.WARNING,
                                 "remove the Azure fields, or remove masterKey to sign in with Entra ID"),
    azure_auth.INVALID_CLOUD: (AZURE_ENVIRONMENT, Severity.ERROR,
                               "use AzurePublicCloud (the default), AzureChinaCloud or AzureUSGovernmentCloud"),
    azure_auth.UNKNOWN_METHOD: (AUTH_METHOD, Severity.ERROR,
                                "write azureAuthMethods as a comma list of clientcredentials, clientcertificate, "
                                "workloadidentity, managedidentity, commandlineinterface (or creds, cert, wi, mi, cli)"),
    azure_auth.METHODS_DISABLED: (AUTH_METHOD, Severity.ERROR,
                                  "remove 'none' from azureAuthMethods, or give masterKey"),
    azure_auth.NO_PROVIDER: (NO_AUTH, Severity.ERROR,
                             "give the settings of a method azureAuthMethods names (e.g. azureClientId, azureTenantId "
                             "and azureClientSecret for creds), add mi, or give masterKey"),
    azure_auth.SKIPPED: (AUTH_METHOD, Severity.WARNING,
                         "give the method its settings, or drop it from azureAuthMethods"),
    azure_auth.NOT_MIRRORED: (AUTH_NOT_MIRRORED, Severity.WARNING,
                              "name the method daprd should use in azureAuthMethods (e.g. managedidentity), or remove "
                              "azureTenantId where no SPIFFE federation is meant"),
    azure_auth.AMBIGUOUS_FIELD: (IGNORED_FIELD, Severity.WARNING, "keep one spelling of the field"),
}


def _auth_findings(component: Component) -> list[Finding]:
    """How daprd signs this store in, and what in its Azure fields it refuses, ignores or the explorer
    cannot mirror. References are planned as given-but-unknown; no environment is read."""
    metadata: dict[str, azure_auth.Value] = {}
    for item in component.metadata:
        if item.name.lower() in azure_auth.AZURE_FIELDS:
            metadata[item.name] = item.value if item.source == "value" and item.value is not None else azure_auth.UNRESOLVED
    key = component.get("masterKey")
    master_key = None if key is None else (key.value if key.source == "value" else azure_auth.UNRESOLVED)
    plan = azure_auth.plan_auth(metadata, {}, master_key=master_key)
    out = [Finding(component.name, code, severity, problem.field, problem.message, fix)
           for problem in plan.problems for code, severity, fix in [_AUTH_CODES[problem.code]]]
    if plan.kind is azure_auth.Kind.MASTER_KEY:
        said, fix = "signs in with the account key (masterKey)", "keep the key in a secret store; rotate it in Azure"
    elif plan.refusal is None:
        chain = " → ".join(step.method.label for step in plan.steps)
        said = (f"signs in with Entra ID; daprd tries {chain}" + (" (workload identity first where daprd's environment "
                "has AZURE_FEDERATED_TOKEN_FILE; the CLI is left out on Azure hosts)" if plan.explicit_methods is None else ""))
        fix = ("grant the identity a Cosmos DB data-plane role: Built-in Data Reader to browse, Data Contributor to "
               "write (docs/entra-id.md)")
    else:
        return out
    return out + [Finding(component.name, AUTH, Severity.INFO, "masterKey" if master_key else None, said, fix)]


# --- helpers ---------------------------------------------------------------


def _int(text: str | None) -> int | None:
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def _secret_values(component: Component) -> tuple[str, ...]:
    """Plain values of secret fields, long enough to scrub without mangling prose."""
    return tuple(
        item.value for item in component.metadata
        if item.value and is_secret_field(item.name) and len(item.value) >= 4 and item.env_template() is None
    )


def _scrub(finding: Finding, secrets: tuple[str, ...]) -> Finding:
    """Belt and braces: no secret value survives into a finding, and each text is one line."""
    message, fix = finding.message, finding.fix
    for secret in secrets:
        message = message.replace(secret, MASK)
        fix = fix.replace(secret, MASK)
    message = " ".join(message.split())
    fix = " ".join(fix.split())
    if (message, fix) == (finding.message, finding.fix):
        return finding
    return Finding(finding.store, finding.code, finding.severity, finding.field, message, fix)
