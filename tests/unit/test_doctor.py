"""The doctor (explorer.core.doctor): pure-logic tests.

Components are parsed from YAML text and what Cosmos "showed" is a hand-built
CosmosFacts; nothing here touches a network, a Cosmos server or a daprd.
"""

from __future__ import annotations

import builtins
import dataclasses
import socket
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.components.files import load_components, parse_components
from explorer.core.component_model import Component, MetadataValue
from explorer.core.doctor import CosmosFacts, Finding, Severity, diagnose

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "fixtures" / "doctor-misconfigured" / "statestore.yaml"
FIXTURE_KEY = "ZmFrZS1rZXktZm9yLWRvY3Rvci10ZXN0cy1ub3QtYS1yZWFsLXNlY3JldA=="

GOOD = """
kind: Component
metadata: {name: orders}
spec:
  type: state.azure.cosmosdb
  version: v1
  metadata:
    - {name: url, envRef: COSMOS_URL}
    - name: masterKey
      secretKeyRef: {name: COSMOS_KEY, key: COSMOS_KEY}
    - {name: database, value: db}
    - {name: collection, value: coll}
%s
auth: {secretStore: envs}
"""


def fixture_component() -> Component:
    [component] = parse_components(FIXTURE.read_text(encoding="utf-8"), FIXTURE)
    return component


def good(extra: str = "") -> Component:
    """A correct component, plus extra metadata lines (YAML, indented 4)."""
    [component] = parse_components(GOOD % extra, Path("orders.yaml"))
    return component


def by_field(findings: list[Finding], field: str) -> list[Finding]:
    return [f for f in findings if f.field is not None and f.field.lower() == field.lower()]


def codes(findings: list[Finding]) -> set[str]:
    return {f.code for f in findings}


def text_of(findings: list[Finding]) -> str:
    return "\n".join(f"{f.store} {f.code} {f.field} {f.message} {f.fix}" for f in findings)


# --- the misconfigured fixture ---------------------------------------------


@pytest.mark.parametrize(
    ("field", "code", "severity", "fix_says"),
    [
        ("url", "env-template", Severity.ERROR, "envRef: COSMOS_URL"),
        ("masterKey", "plain-secret", Severity.WARNING, "secretKeyRef"),
        ("partitionKey", "ignored-field", Severity.WARNING, "pass partitionKey request metadata on each state call"),
        ("consistency", "ignored-field", Severity.WARNING, "strong→Cosmos Session, eventual→Eventual"),
        ("defaultTtlInSeconds", "ttl-not-enforced", Severity.WARNING, "ttlInSeconds request metadata"),
        ("preferredRegions", "ignored-field", Severity.WARNING, "in Azure"),
        ("enableEndpointDiscovery", "ignored-field", Severity.WARNING, "remove it"),
        ("backupIntervalInMinutes", "ignored-field", Severity.WARNING, "in Azure"),
    ],
)
def test_fixture_reports_each_misconfiguration_with_its_fix(field, code, severity, fix_says):
    findings = diagnose(fixture_component())
    matching = [f for f in by_field(findings, field) if f.code == code]
    assert matching, f"no {code} finding for {field}; got:\n{text_of(findings)}"
    finding = matching[0]
    assert finding.severity is severity
    assert finding.store == "statestore"
    assert fix_says in finding.fix


def test_fixture_ttl_fix_says_how_to_get_ttl_for_real():
    [ttl] = [f for f in diagnose(fixture_component()) if f.code == "ttl-not-enforced"]
    assert "Dapr ignores" in ttl.message and "3600" in ttl.message
    assert "ttlInSeconds" in ttl.fix and "defaultTtl -1" in ttl.fix


def test_fixture_env_template_message_names_the_literal_and_the_variable():
    [env] = [f for f in diagnose(fixture_component()) if f.code == "env-template"]
    assert "{env:COSMOS_URL}" in env.message and "literally" in env.message


def test_fixture_findings_sort_errors_first():
    severities = [f.severity for f in diagnose(fixture_component())]
    assert severities == sorted(severities, key=lambda s: s.rank)
    assert severities[0] is Severity.ERROR and severities[-1] is Severity.INFO


def test_no_finding_contains_the_plain_master_key():
    facts = CosmosFacts(partition_key_paths=("/id",), container_ttl_known=True, default_ttl=None,
                        ttl_item_seen="app||k", account_consistency="Session", container_found=True)
    text = text_of(diagnose(fixture_component(), facts, namespace="prod"))
    assert FIXTURE_KEY not in text
    assert FIXTURE_KEY[:16] not in text


def test_env_template_never_shows_what_the_variable_holds(monkeypatch):
    monkeypatch.setenv("COSMOS_URL", "https://very-private-account.documents.azure.com:443/")
    text = text_of(diagnose(fixture_component()))
    assert "very-private-account" not in text


def test_diagnose_does_no_io(monkeypatch):
    component = fixture_component()

    def refuse(*args, **kwargs):
        raise AssertionError("the doctor must not do I/O")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr("os.getenv", refuse)
    monkeypatch.setattr("os.environ", _RefusingMapping())
    findings = diagnose(component, CosmosFacts(container_found=False), namespace=None)
    assert "container-not-found" in codes(findings)


class _RefusingMapping(dict):
    def __getitem__(self, key):
        raise AssertionError("the doctor must not read the environment")

    get = __getitem__


# --- the repo's own components ---------------------------------------------


def test_repo_components_have_no_errors_or_warnings():
    components = load_components([REPO / "components"])
    cosmos = [c for c in components if c.type == "state.azure.cosmosdb"]
    assert len(cosmos) >= 3
    for component in cosmos:
        findings = diagnose(component)
        bad = [f for f in findings if f.severity is not Severity.INFO]
        assert not bad, text_of(bad)
        assert "key-prefix" in codes(findings)


def test_repo_components_stay_clean_against_a_correct_container():
    facts = CosmosFacts(partition_key_paths=("/partitionKey",), container_ttl_known=True, default_ttl=-1,
                        ttl_item_seen="app||k", account_consistency="Session", container_found=True)
    for component in load_components([REPO / "components"]):
        assert all(f.severity is Severity.INFO for f in diagnose(component, facts))


def test_other_component_types_get_no_findings():
    components = load_components([REPO / "components"])
    secret_store = next(c for c in components if c.type.startswith("secretstores."))
    assert diagnose(secret_store) == []


# --- rules on the file -----------------------------------------------------


@pytest.mark.parametrize("missing", ["url", "database", "collection"])
def test_missing_required_field_is_an_error(missing):
    text = "\n".join(line for line in (GOOD % "").splitlines() if f"name: {missing}," not in line)
    [component] = parse_components(text, Path("orders.yaml"))
    [finding] = [f for f in diagnose(component) if f.code == "missing-field"]
    assert finding.field == missing and finding.severity is Severity.ERROR
    assert f"add `{missing}`" in finding.fix


def test_empty_required_value_counts_as_missing():
    [component] = parse_components((GOOD % "").replace("{name: database, value: db}", "{name: database, value: ''}"),
                                   Path("orders.yaml"))
    assert [f.field for f in diagnose(component) if f.code == "missing-field"] == ["database"]


WITHOUT_KEY = (GOOD % "%s").replace("    - name: masterKey\n      secretKeyRef: {name: COSMOS_KEY, key: COSMOS_KEY}\n", "")


def keyless(extra: str = "") -> Component:
    """The correct component without masterKey (Entra ID), plus extra metadata lines."""
    [component] = parse_components(WITHOUT_KEY % extra, Path("orders.yaml"))
    return component


def test_no_master_key_and_no_azure_fields_is_the_ambient_identity_in_dapr_s_order():
    """Dapr's default chain always holds managed identity: a system-assigned identity needs no field."""
    findings = diagnose(keyless())
    assert "no-auth" not in codes(findings)
    assert not [f for f in findings if f.severity is not Severity.INFO], text_of(findings)
    [auth] = [f for f in findings if f.code == "auth"]
    assert "signs in with Entra ID" in auth.message and "managed identity → Azure CLI" in auth.message
    assert "Data Contributor" in auth.fix


def test_a_master_key_store_says_it_signs_in_with_the_key():
    [auth] = [f for f in diagnose(good()) if f.code == "auth"]
    assert "account key" in auth.message and auth.severity is Severity.INFO


def test_azure_fields_beside_a_master_key_are_reported_as_ignored():
    component = good("    - {name: azureClientId, value: c7dd251f-811f-4ba2-a905-acd4d3f8f08b}\n"
                     "    - {name: SPNTENANTID, envRef: TENANT}\n    - {name: azureEnvironment, value: Mars}")
    [finding] = [f for f in diagnose(component) if f.code == "azure-ignored"]
    assert finding.severity is Severity.WARNING
    for name in ("azureClientId", "SPNTENANTID", "azureEnvironment"):
        assert name in finding.message
    assert "masterKey" in finding.fix
    assert "azure-environment" not in codes(diagnose(component))  # Dapr never reads it with a key


@pytest.mark.parametrize("name", ["Mars", "AzureGermanCloud", "public"])
def test_an_unknown_azure_environment_is_an_error_like_daprd_s(name):
    [finding] = [f for f in diagnose(keyless(f"    - {{name: azureCloud, value: {name}}}")) if f.code == "azure-environment"]
    assert finding.severity is Severity.ERROR and finding.field == "azureCloud"
    assert f"'{name}'" in finding.message and "refuses" in finding.message and "AzureChinaCloud" in finding.fix


@pytest.mark.parametrize("name", ["AzureChinaCloud", "azureusgovernment", "AZUREPUBLIC"])
def test_known_azure_environments_are_quiet(name):
    assert "azure-environment" not in codes(diagnose(keyless(f"    - {{name: azureEnvironment, value: {name}}}")))


@pytest.mark.parametrize(("methods", "says"), [("mi,serviceprincipal", "'serviceprincipal'"), ("mi,none", "disabled"),
                                               ("mi,", "empty name")])
def test_auth_methods_dapr_refuses_are_errors(methods, says):
    [finding] = [f for f in diagnose(keyless(f"    - {{name: entraIDAuthMethods, value: '{methods}'}}"))
                 if f.code == "auth-method"]
    assert finding.severity is Severity.ERROR and says in finding.message and finding.field == "entraIDAuthMethods"


@pytest.mark.parametrize(("name", "value"), [
    ("azureAuthMethods", "mi"), ("azureADAuthMethods", "mi"), ("entraIDAuthMethods", "mi"),
    ("microsoftEntraIDAuthMethods", "mi"), ("azureCloud", "AzurePublicCloud"), ("spnCertificateFile", "/c.pem"),
])
def test_every_spelling_dapr_reads_is_a_known_field(name, value):
    assert "ignored-field" not in codes(diagnose(keyless(f"    - {{name: {name}, value: {value}}}")))


def test_spiffe_that_hides_managed_identity_is_reported_as_not_mirrored():
    component = keyless("    - {name: azureClientId, value: c7dd251f-811f-4ba2-a905-acd4d3f8f08b}\n"
                        "    - {name: azureTenantId, value: 72f988bf-86f1-41af-91ab-2d7cd011db47}")
    [finding] = [f for f in diagnose(component) if f.code == "auth-not-mirrored"]
    assert finding.severity is Severity.WARNING and finding.field == "azureTenantId"
    assert "SPIFFE" in finding.message and "never tries managed identity" in finding.message
    assert "azureAuthMethods" in finding.fix
    # naming the method removes the surprise
    pinned = keyless("    - {name: azureClientId, value: c7dd251f-811f-4ba2-a905-acd4d3f8f08b}\n"
                     "    - {name: azureTenantId, value: 72f988bf-86f1-41af-91ab-2d7cd011db47}\n"
                     "    - {name: azureAuthMethods, value: managedidentity}")
    assert "auth-not-mirrored" not in codes(diagnose(pinned))
    assert not [f for f in diagnose(pinned) if f.severity is not Severity.INFO]


def test_a_named_method_without_its_settings_leaves_no_credential():
    findings = diagnose(keyless("    - {name: azureAuthMethods, value: creds}"))
    [error] = [f for f in findings if f.code == "no-auth"]
    assert error.severity is Severity.ERROR and "azureClientSecret" in error.fix
    assert "auth-method" in codes(findings)


def test_fields_dapr_does_not_read_for_cosmos_are_ignored_with_the_reason():
    findings = diagnose(keyless("    - {name: azureFederatedTokenFile, value: /var/run/token}\n"
                                "    - {name: azureAuthorityHost, value: 'https://login.example/'}"))
    ignored = {f.field: f for f in findings if f.code == "ignored-field"}
    assert "AZURE_FEDERATED_TOKEN_FILE" in ignored["azureFederatedTokenFile"].message
    assert "azureEnvironment" in ignored["azureAuthorityHost"].fix


def test_an_inline_certificate_is_a_secret_and_never_shown():
    pem = "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC-----END PRIVATE KEY-----"
    component = keyless(f"    - {{name: azureCertificate, value: '{pem}'}}\n"
                        "    - {name: azureClientId, value: c7dd251f-811f-4ba2-a905-acd4d3f8f08b}\n"
                        "    - {name: azureTenantId, value: 72f988bf-86f1-41af-91ab-2d7cd011db47}")
    findings = diagnose(component)
    assert [f.field for f in findings if f.code == "plain-secret"] == ["azureCertificate"]
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in text_of(findings)
    assert component.masked()["azureCertificate"] == "••••••"


@pytest.mark.parametrize("field", ["database", "collection", "masterKey", "keyPrefix"])
def test_env_template_is_an_error_on_any_field(field):
    component = good(f"    - {{name: {field}, value: '{{env:SOME_VAR}}'}}")
    hits = [f for f in diagnose(component) if f.code == "env-template"]
    assert hits and all(f.severity is Severity.ERROR for f in hits)
    assert "envRef: SOME_VAR" in hits[0].fix
    # a template is not a plain secret
    assert "plain-secret" not in codes(diagnose(component))


def test_plain_azure_client_secret_is_a_warning_but_file_paths_are_not():
    component = good("    - {name: azureClientSecret, value: s3cr3t-value-xyz}\n"
                     "    - {name: azureFederatedTokenFile, value: /var/run/secrets/token}")
    plain = [f for f in diagnose(component) if f.code == "plain-secret"]
    assert [f.field for f in plain] == ["azureClientSecret"]
    assert "s3cr3t-value-xyz" not in text_of(diagnose(component))


def test_unknown_field_is_ignored_with_a_spelling_hint():
    component = good("    - {name: colection, value: coll2}\n    - {name: container, value: coll3}")
    findings = {f.field: f for f in diagnose(component) if f.code == "ignored-field"}
    assert "did you mean 'collection'" in findings["colection"].fix
    assert "did you mean 'collection'" in findings["container"].fix


def test_known_fields_match_case_insensitively():
    component = good("    - {name: ContentType, value: application/json}\n    - {name: ACTORSTATESTORE, value: 'true'}")
    assert "ignored-field" not in codes(diagnose(component))


@pytest.mark.parametrize(
    "field", ["enableAutomaticFailover", "enableMultipleWriteLocations", "indexingPolicy", "throughputType",
              "requestUnits", "backupRetentionIntervalInHours", "allowInsecureConnection"],
)
def test_account_settings_in_the_component_are_reported(field):
    [finding] = by_field(diagnose(good(f"    - {{name: {field}, value: 'x'}}")), field)
    assert finding.code == "ignored-field" and finding.severity is Severity.WARNING
    assert f"'{field}'" in finding.message and finding.fix.startswith("remove it")


@pytest.mark.parametrize(
    ("prefix", "namespace", "shape"),
    [
        (None, None, "<app-id>||<key>"),
        ("appid", None, "<app-id>||<key>"),
        ("name", None, "orders||<key>"),
        ("namespace", "prod", "prod.<app-id>||<key>"),
        ("namespace", None, "<NAMESPACE>.<app-id>||<key> (<app-id>||<key> when NAMESPACE is unset)"),
        ("namespace", "", "<app-id>||<key>"),
        ("none", None, "<key>"),
        ("NONE", None, "<key>"),
        ("billing", None, "billing||<key>"),
        ("Billing", None, "billing||<key>"),
    ],
)
def test_key_prefix_describes_the_item_id(prefix, namespace, shape):
    extra = "" if prefix is None else f"    - {{name: keyPrefix, value: {prefix}}}"
    [finding] = [f for f in diagnose(good(extra), namespace=namespace) if f.code == "key-prefix"]
    assert finding.severity is Severity.INFO
    assert f"ids are {shape}" in finding.message


def test_key_prefix_with_separator_is_an_error():
    [finding] = by_field(diagnose(good("    - {name: keyPrefix, value: 'a||b'}")), "keyPrefix")
    assert finding.code == "key-prefix-illegal" and finding.severity is Severity.ERROR


@pytest.mark.parametrize(
    ("content_type", "says"),
    [("application/octet-stream", "base64"), ("text/plain", "plain strings"), ("application/xml", "plain strings")],
)
def test_non_json_content_type_explains_how_values_are_stored(content_type, says):
    [finding] = [f for f in diagnose(good(f"    - {{name: contentType, value: '{content_type}'}}")) if f.code == "content-type"]
    assert finding.severity is Severity.INFO and says in finding.message


def test_json_content_type_with_charset_is_fine():
    assert "content-type" not in codes(diagnose(good("    - {name: contentType, value: 'application/json; charset=utf-8'}")))


# --- rules on what Cosmos showed -------------------------------------------


def test_wrong_partition_key_path_is_an_error():
    findings = diagnose(good(), CosmosFacts(partition_key_paths=("/id",)))
    [finding] = [f for f in findings if f.code == "partition-key-path"]
    assert finding.severity is Severity.ERROR
    assert "partitioned on /id" in finding.message and "writes fail" in finding.message
    assert "/partitionKey" in finding.fix
    assert findings[0] is finding  # errors come first


def test_hierarchical_partition_keys_are_an_error_too():
    findings = diagnose(good(), CosmosFacts(partition_key_paths=("/partitionKey", "/tenant")))
    assert "partition-key-path" in codes(findings)


def test_right_partition_key_path_is_quiet():
    assert "partition-key-path" not in codes(diagnose(good(), CosmosFacts(partition_key_paths=("/partitionKey",))))


def test_items_with_ttl_in_a_container_without_ttl_never_expire():
    facts = CosmosFacts(container_ttl_known=True, default_ttl=None, ttl_item_seen="app||k")
    [finding] = [f for f in diagnose(good(), facts) if f.code == "container-ttl-off"]
    assert finding.severity is Severity.WARNING
    assert "items carry a ttl (e.g. 'app||k')" in finding.message and "never expire" in finding.message
    assert "defaultTtl to -1" in finding.fix


@pytest.mark.parametrize(
    "facts",
    [
        CosmosFacts(container_ttl_known=True, default_ttl=-1, ttl_item_seen="app||k"),  # TTL on
        CosmosFacts(container_ttl_known=False, default_ttl=None, ttl_item_seen="app||k"),  # not read
        CosmosFacts(container_ttl_known=True, default_ttl=None, ttl_item_seen=None),  # nothing carries ttl
    ],
)
def test_container_ttl_rule_stays_quiet_when_nothing_is_wrong(facts):
    assert "container-ttl-off" not in codes(diagnose(good(), facts))


def test_declared_ttl_names_the_containers_effective_default():
    component = good("    - {name: defaultTtlInSeconds, value: '3600'}")
    [on] = [f for f in diagnose(component, CosmosFacts(container_ttl_known=True, default_ttl=600)) if f.code == "ttl-not-enforced"]
    assert "defaultTtl of 600s" in on.message and on.severity is Severity.WARNING
    [off] = [f for f in diagnose(component, CosmosFacts(container_ttl_known=True, default_ttl=None)) if f.code == "ttl-not-enforced"]
    assert "TTL is off" in off.message
    [same] = [f for f in diagnose(component, CosmosFacts(container_ttl_known=True, default_ttl=3600)) if f.code == "ttl-not-enforced"]
    assert same.severity is Severity.INFO


def test_consistency_is_compared_with_the_account_default():
    component = good("    - {name: consistency, value: strong}")
    assert "consistency-account" not in codes(diagnose(component))  # account unknown
    [finding] = [f for f in diagnose(component, CosmosFacts(account_consistency="Session")) if f.code == "consistency-account"]
    assert finding.severity is Severity.WARNING
    for part in ("file says consistency=strong", "Dapr ignores it", "account default is Session",
                 "strong→Session", "eventual→Eventual"):
        assert part in finding.message
    [relaxed] = [f for f in diagnose(good("    - {name: consistency, value: eventual}"),
                                     CosmosFacts(account_consistency="Session")) if f.code == "consistency-account"]
    assert relaxed.severity is Severity.INFO


def test_missing_container_is_an_error():
    [finding] = [f for f in diagnose(good(), CosmosFacts(container_found=False)) if f.code == "container-not-found"]
    assert finding.severity is Severity.ERROR
    assert "'coll'" in finding.message and "/partitionKey" in finding.fix
    assert "container-not-found" not in codes(diagnose(good(), CosmosFacts(container_found=True)))


# --- the types -------------------------------------------------------------


def test_severity_orders_errors_first():
    assert sorted([Severity.INFO, Severity.ERROR, Severity.WARNING]) == [Severity.ERROR, Severity.WARNING, Severity.INFO]


def test_findings_are_frozen():
    finding = diagnose(good())[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.message = "changed"  # type: ignore[misc]


_NAMES = st.sampled_from(
    ["url", "masterKey", "database", "collection", "partitionKey", "consistency", "defaultTtlInSeconds",
     "keyPrefix", "contentType", "azureClientSecret", "apiToken", "preferredRegions", "whatever", "accountKey"]
)
_SECRET = st.text(alphabet=st.characters(codec="ascii", categories=("L", "N", "P")), min_size=8, max_size=40)


@settings(max_examples=150, deadline=None)
@given(
    secret=_SECRET,
    others=st.lists(st.tuples(_NAMES, st.text(max_size=20)), max_size=8),
    facts=st.builds(
        CosmosFacts,
        partition_key_paths=st.none() | st.sampled_from([("/partitionKey",), ("/id",), ()]),
        default_ttl=st.none() | st.integers(-1, 10_000),
        container_ttl_known=st.booleans(),
        ttl_item_seen=st.none() | st.text(max_size=20),
        account_consistency=st.none() | st.sampled_from(["Strong", "Session", "Eventual"]),
        container_found=st.none() | st.booleans(),
    ),
)
def test_any_component_gives_sorted_one_line_findings_without_the_secret(secret, others, facts):
    metadata = (MetadataValue("masterKey", value=secret),) + tuple(
        MetadataValue(name, value=value) for name, value in others if name != "masterKey"
    )
    component = Component("orders", "state.azure.cosmosdb", "v1", metadata, Path("orders.yaml"))
    findings = diagnose(component, facts)
    assert findings, "a Cosmos component always gets at least the keyPrefix finding"
    assert [f.severity.rank for f in findings] == sorted(f.severity.rank for f in findings)
    for f in findings:
        assert secret not in f.message and secret not in f.fix
        assert "\n" not in f.message and "\n" not in f.fix
        assert f.message and f.fix


# --- workflow stores and old reminders (issue 10) ------------------------------------------

WORKFLOW_METADATA_ID = "order-processor||dapr.internal.default.order-processor.workflow||order-1001||metadata"


@pytest.mark.parametrize("extra", ["", "    - {name: actorStateStore, value: \"false\"}",
                                   "    - {name: actorStateStore, value: \"truthy\"}"])
def test_a_store_holding_workflow_state_without_actorStateStore_true_is_an_error_naming_the_fix(extra):
    findings = diagnose(good(extra), CosmosFacts(workflow_state_seen=WORKFLOW_METADATA_ID))
    [finding] = [f for f in findings if f.code == "not-actor-state-store"]
    assert finding.severity is Severity.ERROR and finding.field == "actorStateStore"
    assert WORKFLOW_METADATA_ID in finding.message and 'value: "true"' in finding.fix


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "yes", "on", " t "])
def test_actorStateStore_counts_as_set_for_every_spelling_daprd_takes_as_true(value):
    extra = f"    - {{name: ActorStateStore, value: \"{value}\"}}"
    findings = diagnose(good(extra), CosmosFacts(workflow_state_seen=WORKFLOW_METADATA_ID))
    assert "not-actor-state-store" not in codes(findings)


def test_a_store_without_workflow_state_needs_no_actorStateStore():
    assert "not-actor-state-store" not in codes(diagnose(good(), CosmosFacts(workflow_state_seen=None)))


def test_reminder_documents_from_before_dapr_1_17_are_reported_as_left_over():
    ids = ("actors||CartActor", "actors||CartActor||metadata", "actors||CartActor||0")
    [finding] = [f for f in diagnose(good(), CosmosFacts(legacy_reminder_ids=ids)) if f.code == "legacy-reminders"]
    assert finding.severity is Severity.WARNING and "'actors||CartActor'" in finding.message
    assert "1.17" in finding.message and "scheduler" in finding.message
    assert "legacy-reminders" not in codes(diagnose(good(), CosmosFacts(legacy_reminder_ids=())))
