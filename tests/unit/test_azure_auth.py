"""The authentication plan (explorer.core.azure_auth): pure-logic tests against Dapr's rules.

Each case is a rule of components-contrib v1.18.3 common/authentication/azure (auth.go,
metadata-properties.go, spiffe.go) or of azidentity v1.7.0 that the plan must mirror; the cases
marked "measured" were run through that Go code itself (a small main calling
NewEnvironmentSettings + GetTokenCredential + GetToken against a local App Service managed
identity endpoint). Metadata and the environment are plain dicts here: nothing touches the
network, files or os.environ.
"""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.azure_auth import (
    ALIASES, AZURE_FIELDS, UNRESOLVED, Cloud, Kind, Method, Secret, parse_methods, plan_auth, valid_tenant_id,
)

CLIENT = "1f3c2a9b-7d41-4a8e-9c55-0a1b2c3d4e5f"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SECRET = "s3cr3t~Value.with-Specials_0123"
PASSWORD = "pfx-Password-9876"
PEM = "-----BEGIN CERTIFICATE-----\nMIIBinlinecertificatebytes\n-----END CERTIFICATE-----\n"
APP_SERVICE = {"IDENTITY_ENDPOINT": "http://127.0.0.1:9/msi/token", "IDENTITY_HEADER": "h"}
WORKLOAD = {"AZURE_CLIENT_ID": "wi-client", "AZURE_TENANT_ID": TENANT, "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"}


def methods(plan) -> list[Method]:
    return [step.method for step in plan.steps]


def codes(plan) -> list[str]:
    return [p.code for p in plan.problems]


# --- master key --------------------------------------------------------------------------------


def test_a_master_key_wins_and_every_azure_field_is_reported_as_ignored():
    plan = plan_auth({"azureClientId": CLIENT, "AZURECLIENTSECRET": SECRET, "url": "https://x"}, {}, master_key="a2V5")
    assert plan.kind is Kind.MASTER_KEY and plan.steps == () and plan.describe() == "account key"
    [problem] = plan.problems
    assert problem.code == "ignored-for-key" and "azureClientId" in problem.message and "AZURECLIENTSECRET" in problem.message
    assert SECRET not in problem.message and "url" not in problem.message


def test_a_master_key_makes_an_unknown_cloud_harmless():
    """cosmosdb.go Init reads the Azure settings only when masterKey is empty."""
    plan = plan_auth({"azureEnvironment": "Mars"}, {}, master_key="a2V5")
    assert plan.refusal is None and codes(plan) == ["ignored-for-key"]


@pytest.mark.parametrize("empty", [None, ""])
def test_an_empty_master_key_means_entra_id(empty):
    assert plan_auth({}, {}, master_key=empty).kind is Kind.ENTRA_ID


# --- names and aliases (metadata-properties.go, metadata/utils.go GetMetadataProperty) ----------


@pytest.mark.parametrize("alias", ALIASES["ClientID"])
def test_every_client_id_alias_reaches_managed_identity(alias):
    [mi, cli] = plan_auth({alias: CLIENT}, {}).steps
    assert (mi.method, mi.client_id, cli.method) == (Method.MANAGED_IDENTITY, CLIENT, Method.AZURE_CLI)


@pytest.mark.parametrize("secret_alias", ALIASES["ClientSecret"])
@pytest.mark.parametrize("tenant_alias", ALIASES["TenantID"])
def test_every_secret_and_tenant_alias_makes_a_client_secret_step(secret_alias, tenant_alias):
    plan = plan_auth({"spnClientId": CLIENT, secret_alias: SECRET, tenant_alias: TENANT}, {})
    first = plan.steps[0]
    assert first.method is Method.CLIENT_SECRET and first.tenant_id == TENANT
    assert first.client_secret is not None and first.client_secret.reveal() == SECRET


def test_the_first_alias_present_wins_even_when_it_is_empty():
    """measured: azureClientId= clientId=abc -> the managed identity request carries no client_id."""
    [mi, _] = plan_auth({"clientId": "abc", "azureClientId": ""}, {}).steps
    assert mi.client_id is None
    [mi, _] = plan_auth({"clientId": "abc", "spnClientId": "def"}, {}).steps
    assert mi.client_id == "def"  # spnClientId comes before clientId in Dapr's list


def test_names_are_case_insensitive():
    """measured: AZURECLIENTID=abc -> client_id=abc."""
    [mi, _] = plan_auth({"AZURECLIENTID": "abc"}, {}).steps
    assert mi.client_id == "abc"


def test_a_name_given_twice_in_different_cases_is_reported():
    plan = plan_auth({"azureClientId": "a", "AzureClientID": "b"}, {})
    assert "ambiguous-field" in codes(plan)


def test_fields_dapr_does_not_read_change_nothing():
    """azureFederatedTokenFile/azureAuthorityHost are not in MetadataKeys: workload identity reads the environment."""
    with_extra = plan_auth({"azureClientId": CLIENT, "azureFederatedTokenFile": "/t", "azureAuthorityHost": "https://x/"}, {})
    assert with_extra == plan_auth({"azureClientId": CLIENT}, {})


# --- the cloud (auth.go GetAzureEnvironment) -----------------------------------------------------


@pytest.mark.parametrize(("name", "cloud", "host"), [
    (None, Cloud.PUBLIC, "https://login.microsoftonline.com/"),
    ("", Cloud.PUBLIC, "https://login.microsoftonline.com/"),
    ("AzurePublicCloud", Cloud.PUBLIC, "https://login.microsoftonline.com/"),
    ("azurepublic", Cloud.PUBLIC, "https://login.microsoftonline.com/"),
    ("AzureChinaCloud", Cloud.CHINA, "https://login.chinacloudapi.cn/"),
    ("AZURECHINA", Cloud.CHINA, "https://login.chinacloudapi.cn/"),
    ("AzureUSGovernmentCloud", Cloud.US_GOVERNMENT, "https://login.microsoftonline.us/"),
    ("AzureUSGovernment", Cloud.US_GOVERNMENT, "https://login.microsoftonline.us/"),
])
def test_the_cloud_sets_the_authority_of_secret_and_certificate_steps(name, cloud, host):
    metadata = {"azureClientId": CLIENT, "azureClientSecret": SECRET, "azureTenantId": TENANT}
    if name is not None:
        metadata["azureCloud"] = name
    plan = plan_auth(metadata, {})
    assert plan.cloud is cloud and plan.steps[0].authority_host == host
    assert plan_auth({**metadata, "azureClientSecret": "", "azureCertificate": PEM}, {}).steps[0].authority_host == host


@pytest.mark.parametrize("name", ["Mars", "AzureGermanCloud", "public", " AzurePublicCloud"])
def test_an_unknown_cloud_is_refused_like_daprd(name):
    """measured: azureEnvironment=Mars -> 'invalid Azure cloud: Mars' before any credential."""
    plan = plan_auth({"azureEnvironment": name, "azureClientId": CLIENT}, {})
    assert plan.refusal is not None and plan.steps == ()
    [problem] = plan.problems
    assert problem.code == "invalid-cloud" and problem.severity.value == "error" and problem.field == "azureEnvironment"


# --- Dapr's default order (auth.go GetTokenCredential) -------------------------------------------


def test_everything_given_makes_dapr_s_whole_order():
    metadata = {"azureClientId": CLIENT, "azureClientSecret": SECRET, "azureTenantId": TENANT,
                "azureCertificateFile": "/certs/app.pem"}
    assert methods(plan_auth(metadata, WORKLOAD)) == [
        Method.CLIENT_SECRET, Method.CERTIFICATE, Method.WORKLOAD_IDENTITY, Method.SPIFFE,
        Method.MANAGED_IDENTITY, Method.AZURE_CLI]


def test_nothing_given_still_tries_managed_identity_then_the_cli():
    plan = plan_auth({}, {})
    assert methods(plan) == [Method.MANAGED_IDENTITY, Method.AZURE_CLI] and plan.refusal is None
    assert plan.describe() == "managed identity, system-assigned (else Azure CLI)"


@pytest.mark.parametrize("missing", ["azureClientId", "azureClientSecret", "azureTenantId"])
def test_a_client_secret_needs_all_three(missing):
    metadata = {"azureClientId": CLIENT, "azureClientSecret": SECRET, "azureTenantId": TENANT}
    metadata[missing] = ""
    assert Method.CLIENT_SECRET not in methods(plan_auth(metadata, {}))


@pytest.mark.parametrize("tenant", ["contoso.onmicrosoft.com", TENANT, "common"])
def test_valid_tenant_ids(tenant):
    assert valid_tenant_id(tenant)


@pytest.mark.parametrize("tenant", ["", "contoso/onmicrosoft", "tenant id", "tënant", "a_b"])
def test_a_tenant_azidentity_refuses_skips_the_method_with_a_line(tenant):
    plan = plan_auth({"azureClientId": CLIENT, "azureClientSecret": SECRET, "azureTenantId": tenant}, {})
    assert Method.CLIENT_SECRET not in methods(plan)
    if tenant:  # an empty one never gets past GetClientCredentials: no error recorded
        assert "method-skipped" in codes(plan)


def test_the_certificate_file_wins_over_inline_data_and_keeps_its_password():
    plan = plan_auth({"azureClientId": CLIENT, "azureTenantId": TENANT, "azureCertificate": PEM,
                      "spnCertificateFile": "/certs/app.pfx", "azureCertificatePassword": PASSWORD}, {})
    cert = plan.steps[0]
    assert cert.method is Method.CERTIFICATE and cert.certificate_file == "/certs/app.pfx" and cert.certificate is None
    assert cert.certificate_password == Secret(PASSWORD)
    inline = plan_auth({"azureClientId": CLIENT, "azureTenantId": TENANT, "spnCertificate": PEM}, {}).steps[0]
    assert inline.certificate == Secret(PEM) and inline.certificate_file is None


@pytest.mark.parametrize("missing", ["AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"])
def test_workload_identity_comes_from_the_environment_only(missing):
    env = {k: v for k, v in WORKLOAD.items() if k != missing}
    assert Method.WORKLOAD_IDENTITY not in methods(plan_auth({"azureClientId": CLIENT, "azureTenantId": TENANT}, env))
    [wi] = [s for s in plan_auth({"azureClientId": CLIENT}, WORKLOAD).steps if s.method is Method.WORKLOAD_IDENTITY]
    assert (wi.client_id, wi.tenant_id, wi.token_file) == ("wi-client", TENANT, "/var/run/token")


def test_workload_identity_ignores_azure_environment_and_reads_azure_authority_host():
    """Dapr passes no cloud to NewWorkloadIdentityCredential: AZURE_AUTHORITY_HOST or public."""
    [wi] = [s for s in plan_auth({"azureEnvironment": "AzureChinaCloud"}, WORKLOAD).steps
            if s.method is Method.WORKLOAD_IDENTITY]
    assert wi.authority_host == "https://login.microsoftonline.com/"
    env = {**WORKLOAD, "AZURE_AUTHORITY_HOST": "https://login.example/"}
    [wi] = [s for s in plan_auth({}, env).steps if s.method is Method.WORKLOAD_IDENTITY]
    assert wi.authority_host == "https://login.example/"


@pytest.mark.parametrize("var", ["IDENTITY_ENDPOINT", "IMDS_ENDPOINT", "MSI_ENDPOINT"])
def test_the_cli_is_left_out_on_a_cloud_host(var):
    assert methods(plan_auth({}, {var: "http://169.254.0.1/"})) == [Method.MANAGED_IDENTITY]
    assert methods(plan_auth({}, {var: ""})) == [Method.MANAGED_IDENTITY, Method.AZURE_CLI]  # os.Getenv != ""


def test_client_id_alone_is_managed_identity_with_that_id():
    """measured: azureClientId only, IDENTITY_ENDPOINT set -> token from the endpoint with client_id."""
    plan = plan_auth({"azureClientId": CLIENT}, APP_SERVICE)
    assert methods(plan) == [Method.MANAGED_IDENTITY] and plan.steps[0].client_id == CLIENT
    assert plan.describe() == "managed identity, client id 1f3c2a9b…" and plan.problems == ()


def test_client_and_tenant_id_put_spiffe_first_and_it_hides_managed_identity():
    """measured: azureClientId + azureTenantId -> 'ClientAssertionCredential: …', managed identity untried."""
    plan = plan_auth({"azureClientId": CLIENT, "azureTenantId": TENANT}, APP_SERVICE)
    assert methods(plan) == [Method.SPIFFE, Method.MANAGED_IDENTITY]
    [problem] = plan.problems
    assert problem.code == "not-mirrored" and "never tries managed identity" in problem.message
    assert problem.field == "azureTenantId"
    # the explorer skips what it cannot mirror
    assert [s.method for s in plan.mirrored_steps] == [Method.MANAGED_IDENTITY]


def test_spiffe_behind_a_client_secret_is_never_reached_so_not_reported():
    plan = plan_auth({"azureClientId": CLIENT, "azureTenantId": TENANT, "azureClientSecret": SECRET}, {})
    assert Method.SPIFFE in methods(plan) and "not-mirrored" not in codes(plan)
    assert plan.describe() == "client secret, app 1f3c2a9b…"  # its failure ends the chain: no 'else'


# --- azureAuthMethods -------------------------------------------------------------------------


@pytest.mark.parametrize("field", ALIASES["AzureAuthMethods"])
def test_every_spelling_of_auth_methods_replaces_the_order(field):
    plan = plan_auth({field: " CLI , mi", "azureClientId": CLIENT}, APP_SERVICE)
    assert methods(plan) == [Method.AZURE_CLI, Method.MANAGED_IDENTITY]
    assert plan.explicit_methods == ("cli", "mi")


@pytest.mark.parametrize(("text", "expected"), [
    ("clientcredentials,creds", [Method.CLIENT_SECRET, Method.CLIENT_SECRET]),
    ("ClientCertificate,cert", [Method.CERTIFICATE, Method.CERTIFICATE]),
    ("WorkloadIdentity, wi", [Method.WORKLOAD_IDENTITY, Method.WORKLOAD_IDENTITY]),
    ("SPIFFEWorkloadIdentity,spiffe", [Method.SPIFFE, Method.SPIFFE]),
    ("ManagedIdentity,MI", [Method.MANAGED_IDENTITY, Method.MANAGED_IDENTITY]),
    ("CommandLineInterface,cli", [Method.AZURE_CLI, Method.AZURE_CLI]),
])
def test_each_long_and_short_spelling(text, expected):
    metadata = {"azureAuthMethods": text, "azureClientId": CLIENT, "azureTenantId": TENANT,
                "azureClientSecret": SECRET, "azureCertificate": PEM}
    assert methods(plan_auth(metadata, WORKLOAD)) == expected


def test_an_explicit_cli_is_kept_on_a_cloud_host():
    """measured: azureAuthMethods=cli with IDENTITY_ENDPOINT set -> the CLI is tried."""
    assert methods(plan_auth({"azureAuthMethods": "cli"}, APP_SERVICE)) == [Method.AZURE_CLI]


@pytest.mark.parametrize(("text", "code", "says"), [
    ("mi,none", "methods-disabled", "disabled"),  # measured
    ("None", "methods-disabled", "disabled"),
    ("mi,", "unknown-method", "empty name"),  # measured: 'invalid Azure auth method: '
    ("serviceprincipal", "unknown-method", "'serviceprincipal'"),
    ("mi,bogus,none", "unknown-method", "'bogus'"),  # the first bad name refuses
])
def test_bad_auth_methods_are_refused_like_daprd(text, code, says):
    plan = plan_auth({"azureAuthMethods": text}, {})
    assert plan.refusal is not None and says in plan.refusal and plan.steps == ()
    assert codes(plan) == [code] and plan.problems[0].severity.value == "error"


def test_blank_auth_methods_mean_the_default_order():
    assert methods(plan_auth({"azureAuthMethods": "  "}, {})) == [Method.MANAGED_IDENTITY, Method.AZURE_CLI]


def test_a_named_method_without_its_settings_leaves_no_credential():
    """measured: azureAuthMethods=creds, no secret -> 'no suitable token provider for Azure AD'."""
    plan = plan_auth({"azureAuthMethods": "creds"}, {})
    assert plan.steps == () and plan.refusal is not None and "no-provider" in codes(plan)
    assert "method-skipped" in codes(plan)
    assert plan.describe() == "Entra ID (no usable credential)"


def test_an_explicit_spiffe_is_reported_and_skipped_by_the_explorer():
    plan = plan_auth({"azureAuthMethods": "spiffe,mi", "azureClientId": CLIENT, "azureTenantId": TENANT}, {})
    assert methods(plan) == [Method.SPIFFE, Method.MANAGED_IDENTITY]
    assert "not-mirrored" in codes(plan) and plan.describe() == "managed identity, client id 1f3c2a9b…"


def test_parse_methods_splits_like_go():
    assert parse_methods(" MI ,Cli ") == (["mi", "cli"], None)


# --- references (the doctor plans without resolving) ----------------------------------------------


def test_references_count_as_given_values():
    plan = plan_auth({"azureClientId": UNRESOLVED, "azureClientSecret": UNRESOLVED, "azureTenantId": UNRESOLVED}, {})
    assert methods(plan)[0] is Method.CLIENT_SECRET
    assert plan_auth({"azureEnvironment": UNRESOLVED}, {}).cloud is None
    assert plan_auth({}, {}, master_key=UNRESOLVED).kind is Kind.MASTER_KEY


# --- secrets never shown -----------------------------------------------------------------------


def test_secrets_never_appear_in_repr_str_or_problems():
    metadata = {"azureClientId": CLIENT, "azureClientSecret": SECRET, "azureTenantId": "bad tenant",
                "azureCertificate": PEM, "azureCertificatePassword": PASSWORD, "azureAuthMethods": "creds,cert,mi"}
    for plan in (plan_auth(metadata, {}), plan_auth({**metadata, "azureTenantId": TENANT}, {}),
                 plan_auth(metadata, {}, master_key="bWFzdGVyLWtleS1zZWNyZXQ=")):
        shown = " ".join([repr(plan), str(plan), plan.describe(), *(repr(s) for s in plan.steps),
                          *(p.message for p in plan.problems)])
        for secret in (SECRET, PASSWORD, "MIIBinlinecertificatebytes", "bWFzdGVyLWtleS1zZWNyZXQ="):
            assert secret not in shown


def test_a_secret_shows_only_as_a_mask_and_cannot_be_pickled():
    secret = Secret(SECRET)
    assert SECRET not in repr(secret) and SECRET not in str(secret) and SECRET not in f"{secret}"
    assert secret.reveal() == SECRET
    with pytest.raises(TypeError):
        pickle.dumps(secret)


# --- properties ------------------------------------------------------------------------------

_SETTINGS = st.fixed_dictionaries({}, optional={
    "ClientID": st.sampled_from([CLIENT, "", "abc"]),
    "ClientSecret": st.sampled_from([SECRET, ""]),
    "TenantID": st.sampled_from([TENANT, "", "bad tenant"]),
    "Certificate": st.sampled_from([PEM, ""]),
    "CertificateFile": st.sampled_from(["/c.pem", ""]),
    "CertificatePassword": st.sampled_from([PASSWORD]),
    "AzureEnvironment": st.sampled_from(["AzureChinaCloud", "azurepublic", "Mars", ""]),
    "AzureAuthMethods": st.sampled_from(["", "mi,cli", "creds", "cert,wi,spiffe", "none", "x"]),
})
_ENV = st.fixed_dictionaries({}, optional={
    "IDENTITY_ENDPOINT": st.sampled_from(["http://127.0.0.1:1/", ""]),
    "MSI_ENDPOINT": st.just("http://127.0.0.1:2/"),
    "AZURE_CLIENT_ID": st.just("wi"), "AZURE_TENANT_ID": st.just(TENANT),
    "AZURE_FEDERATED_TOKEN_FILE": st.just("/t"),
})


def decision(plan):
    """All a plan decides; problems by code and severity (their text names each field as it is written)."""
    return (plan.kind, plan.cloud, plan.steps, plan.explicit_methods, plan.refusal is None, plan.describe(),
            [(p.code, p.severity) for p in plan.problems])


def _random_case(draw, name: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(name, flips))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), chosen=_SETTINGS, environ=_ENV)
def test_spelling_a_setting_with_any_alias_in_any_case_never_changes_the_plan(data, chosen, environ):
    canonical = {ALIASES[s][0]: v for s, v in chosen.items()}
    respelled = {}
    for setting, value in chosen.items():
        alias = data.draw(st.sampled_from(ALIASES[setting]))
        respelled[_random_case(data.draw, alias)] = value
    order = data.draw(st.permutations(list(respelled)))
    respelled = {name: respelled[name] for name in order}
    assert decision(plan_auth(respelled, environ)) == decision(plan_auth(canonical, environ))


@settings(max_examples=200, deadline=None)
@given(chosen=_SETTINGS, environ=_ENV, key=st.sampled_from([None, "", "a2V5LXNlY3JldA=="]))
def test_any_plan_is_consistent_and_shows_no_secret(chosen, environ, key):
    metadata = {ALIASES[s][0]: v for s, v in chosen.items()}
    plan = plan_auth(metadata, environ, master_key=key)
    shown = repr(plan) + plan.describe() + " ".join(p.message for p in plan.problems)
    for secret in (SECRET, PASSWORD, "MIIBinlinecertificatebytes", "a2V5LXNlY3JldA=="):
        assert secret not in shown
    assert all("\n" not in p.message for p in plan.problems)
    if key:
        assert plan.kind is Kind.MASTER_KEY and plan.steps == ()
    else:
        # daprd initialises the store exactly when the plan has a chain
        assert (plan.refusal is None) == bool(plan.steps)
        assert all(name.lower() in AZURE_FIELDS for name in metadata)
