"""The explorer's Entra ID credential (explorer.backends.cosmos.entra_id): azure-identity built from a plan.

The chain tests sign in for real against a token endpoint in this process that speaks the App
Service managed-identity protocol (IDENTITY_ENDPOINT/IDENTITY_HEADER) — azure-identity's own
ManagedIdentityCredential talks to it over loopback. Certificates are generated here with
`cryptography`. No Cosmos DB and no daprd are involved.
"""

from __future__ import annotations

import datetime
import json
import time

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from explorer.core.azure_auth import Method, plan_auth
from explorer.errors import ComponentError
from explorer.backends.cosmos.entra_id import credential_for

CLIENT = "1f3c2a9b-7d41-4a8e-9c55-0a1b2c3d4e5f"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SECRET = "s3cr3t~Value.with-Specials_0123"
SCOPE = "https://127.0.0.1/.default"


def _cert_and_key(key):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "explorer-test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return cert


def pem(key, fmt=serialization.PrivateFormat.PKCS8) -> bytes:
    cert = _cert_and_key(key)
    return cert.public_bytes(serialization.Encoding.PEM) + key.private_bytes(
        serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def pfx(key, password: bytes | None) -> bytes:
    cert = _cert_and_key(key)
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return pkcs12.serialize_key_and_certificates(b"x", key, cert, None, encryption)


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def methods(credential) -> list[Method]:
    return [step.method for step in credential._steps]


# --- building the chain --------------------------------------------------------------------------


async def test_the_chain_follows_the_plan_and_leaves_spiffe_out():
    plan = plan_auth({"azureAuthMethods": "creds,spiffe,mi,cli", "azureClientId": CLIENT, "azureTenantId": TENANT,
                      "azureClientSecret": SECRET}, {})
    async with credential_for(plan, "orders") as credential:
        assert methods(credential) == [Method.CLIENT_SECRET, Method.MANAGED_IDENTITY, Method.AZURE_CLI]
        assert len(credential.left_out) == 1 and "SPIFFE" in credential.left_out[0]
        assert credential.describe() == "client secret, app 1f3c2a9b…"


@pytest.mark.parametrize("make", [
    lambda tmp: ({"azureCertificate": pem(RSA_KEY).decode()}, None),
    lambda tmp: ({"azureCertificate": pem(RSA_KEY, serialization.PrivateFormat.TraditionalOpenSSL).decode()}, None),
    lambda tmp: ({"azureCertificateFile": _write(tmp / "c.pem", pem(RSA_KEY))}, None),
    lambda tmp: ({"azureCertificateFile": _write(tmp / "c.pfx", pfx(RSA_KEY, b"pfx-pw")),
                  "azureCertificatePassword": "pfx-pw"}, None),
    lambda tmp: ({"azureCertificateFile": _write(tmp / "c.pfx", pfx(RSA_KEY, None))}, None),
])
async def test_certificates_dapr_decodes_are_used(tmp_path, make):
    extra, _ = make(tmp_path)
    plan = plan_auth({"azureClientId": CLIENT, "azureTenantId": TENANT, "azureAuthMethods": "cert", **extra}, {})
    async with credential_for(plan) as credential:
        assert methods(credential) == [Method.CERTIFICATE] and credential.left_out == ()
        assert credential.describe() == "client certificate, app 1f3c2a9b…"


def _write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize(("make", "says"), [
    (lambda tmp: {"azureCertificate": pem(EC_KEY).decode()}, "RSA"),  # Dapr takes RSA keys only
    (lambda tmp: {"azureCertificateFile": _write(tmp / "c.pfx", pfx(RSA_KEY, b"right")),
                  "azureCertificatePassword": "wrong-password-xyz"}, "PKCS#12"),
    (lambda tmp: {"azureCertificateFile": str(tmp / "missing.pem")}, "cannot read the certificate file"),
    (lambda tmp: {"azureCertificate": "not a certificate"}, "neither"),
])
async def test_a_certificate_dapr_cannot_use_leaves_its_step_out_with_one_line(tmp_path, make, says):
    plan = plan_auth({"azureClientId": CLIENT, "azureTenantId": TENANT, "azureAuthMethods": "cert,mi", **make(tmp_path)}, {})
    async with credential_for(plan) as credential:
        assert methods(credential) == [Method.MANAGED_IDENTITY]  # auth.go: the error goes to errs, the chain goes on
        [line] = credential.left_out
        assert says in line and "wrong-password-xyz" not in line and "BEGIN" not in line


async def test_refusals_are_one_line_without_secrets():
    with pytest.raises(ComponentError) as refused:
        credential_for(plan_auth({"azureAuthMethods": "creds,none", "azureClientSecret": SECRET}, {}), "orders")
    assert "disabled" in str(refused.value) and "orders" in str(refused.value) and SECRET not in str(refused.value)
    with pytest.raises(ComponentError) as nothing:
        credential_for(plan_auth({"azureAuthMethods": "spiffe", "azureClientId": CLIENT, "azureTenantId": TENANT}, {}))
    assert "no Entra ID method the explorer can use" in str(nothing.value)


def test_a_master_key_plan_has_no_credential():
    with pytest.raises(ValueError):
        credential_for(plan_auth({}, {}, master_key="a2V5"))


# --- signing in through a real token endpoint -------------------------------------------------------


@pytest.fixture
async def token_endpoint(monkeypatch):
    """An App Service managed-identity endpoint on loopback: answers with a token naming the client id asked for."""
    asked: list[dict] = []

    async def token(request: web.Request) -> web.Response:
        asked.append({"client_id": request.query.get("client_id"), "header": request.headers.get("X-IDENTITY-HEADER")})
        if (request.query.get("client_id") or "").startswith("00000000"):
            return web.Response(status=400, content_type="application/json", text=json.dumps(
                {"error": "invalid_request", "error_description": "No user-assigned identity with that client_id"}))
        body = {"access_token": f"token-for-{request.query.get('client_id') or 'system'}",
                "expires_on": str(int(time.time()) + 3600), "resource": request.query.get("resource"),
                "token_type": "Bearer"}
        return web.Response(text=json.dumps(body), content_type="application/json")

    app = web.Application()
    app.router.add_get("/msi/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"http://127.0.0.1:{port}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", "header-value")
    monkeypatch.delenv("IDENTITY_SERVER_THUMBPRINT", raising=False)
    yield asked
    await runner.cleanup()


async def test_managed_identity_signs_in_with_the_component_s_client_id(token_endpoint):
    import os

    plan = plan_auth({"azureClientId": CLIENT}, dict(os.environ))
    async with credential_for(plan) as credential:
        token = await credential.get_token(SCOPE)
        assert token.token == f"token-for-{CLIENT}"
        assert credential.describe() == "managed identity, client id 1f3c2a9b…"
    assert token_endpoint == [{"client_id": CLIENT, "header": "header-value"}]


async def test_an_unavailable_cli_passes_on_to_managed_identity_and_the_description_names_who_answered(
        token_endpoint, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `az` anywhere: the CLI credential is unavailable
    plan = plan_auth({"azureAuthMethods": "cli,mi"}, {})
    async with credential_for(plan) as credential:
        assert credential.describe() == "Azure CLI, the signed-in account (else managed identity)"
        token = await credential.get_token_info(SCOPE)
        assert token.token == "token-for-system"
        assert credential.describe() == "managed identity, system-assigned"


async def test_an_identity_the_endpoint_does_not_know_fails_in_one_line_naming_it(token_endpoint):
    from explorer.errors import SignInFailed, is_retryable

    plan = plan_auth({"azureClientId": "00000000-1111-2222-3333-444444444444"}, {"IDENTITY_ENDPOINT": "x"})
    async with credential_for(plan) as credential:
        with pytest.raises(SignInFailed) as failed:
            await credential.get_token(SCOPE)
    line = str(failed.value)
    assert "\n" not in line and "managed identity, client id 00000000…" in line and "Nothing was sent" in line
    assert "No user-assigned identity" in line and is_retryable(failed.value)
