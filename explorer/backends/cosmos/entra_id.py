"""The explorer's Entra ID credential for a store: Dapr's chain, built with azure-identity (async).

What it is for: turning an `AuthPlan` (explorer.core.azure_auth) into one
`StoreCredential` — a ChainedTokenCredential of ClientSecretCredential,
CertificateCredential (PEM inline, PEM/PFX file, password), WorkloadIdentityCredential,
ManagedIdentityCredential(client_id=…) and AzureCliCredential, in the plan's order,
with the plan's authority host — so the explorer signs in to Cosmos DB as the
app's own sidecar does. Steps Python cannot do (SPIFFE) are left out, and a
certificate that cannot be read or decoded leaves its step out as daprd does
(auth.go CertConfig.GetTokenCredential adds the error to `errs` and goes on).
`StoreCredential.describe()` says which identity the store uses — the one that
answered once a token was issued — for the status line and the audit log.

What it must never do: log, print or put into an error a token, a client secret,
a certificate or its password; read a file other than the plan's certificate file;
or add a credential the plan does not have (no DefaultAzureCredential: its order is
not Dapr's).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from azure.core.exceptions import ClientAuthenticationError

from explorer.core.azure_auth import MASK, AuthPlan, Kind, Method, Step, describe_chain
from explorer.errors import ComponentError, SignInFailed

#: auth.go addCLIProvider wraps the CLI credential in a 30 s timeout.
CLI_TIMEOUT_SECONDS = 30


class _Recorded:
    """One credential of the chain that tells its owner when it issued a token (so the description
    can name the identity that answered). Errors pass through unchanged: ChainedTokenCredential
    moves on past CredentialUnavailableError only, as azidentity's chain does."""

    def __init__(self, credential: Any, step: Step, owner: StoreCredential):
        self._credential, self.step, self._owner = credential, step, owner

    async def get_token(self, *scopes: str, **kwargs: Any):
        token = await self._credential.get_token(*scopes, **kwargs)
        self._owner.answered = self.step
        return token

    async def get_token_info(self, *scopes: str, options: Any = None):
        if hasattr(self._credential, "get_token_info"):
            info = await self._credential.get_token_info(*scopes, options=options)
        else:  # pragma: no cover - every azure-identity credential has it since 1.19
            from azure.core.credentials import AccessTokenInfo

            token = await self._credential.get_token(*scopes, **dict(options or {}))
            info = AccessTokenInfo(token.token, token.expires_on)
        self._owner.answered = self.step
        return info

    async def close(self) -> None:
        await self._credential.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class StoreCredential:
    """An async token credential for one store (what azure-cosmos' CosmosClient takes), with the
    plan it was built from and the identity it signs in as."""

    def __init__(self, plan: AuthPlan, built: Sequence[tuple[Step, Any]], left_out: Sequence[str] = ()):
        from azure.identity.aio import ChainedTokenCredential

        self.plan = plan
        self.left_out = tuple(left_out)  # one line per step left out here, never a secret
        self.answered: Step | None = None
        self._steps = tuple(step for step, _ in built)
        self._chain = ChainedTokenCredential(*(_Recorded(credential, step, self) for step, credential in built))

    async def get_token(self, *scopes: str, **kwargs: Any):
        try:
            return await self._chain.get_token(*scopes, **kwargs)
        except ClientAuthenticationError as exc:
            raise self._failed(exc) from None

    async def get_token_info(self, *scopes: str, options: Any = None):
        try:
            return await self._chain.get_token_info(*scopes, options=options)
        except ClientAuthenticationError as exc:
            raise self._failed(exc) from None

    def _failed(self, exc: Exception) -> SignInFailed:
        """The chain's failure as one line: who tried, and each credential's first reason (azure-identity
        lists them under "Attempted credentials:"), scrubbed of the plan's secrets all the same."""
        text = getattr(exc, "message", None) or str(exc)
        reasons = [line.strip().split(": ", 1)[-1] for line in text.splitlines()  # "\t<Credential>: <why>"
                   if line.startswith(("\t", "    ")) and ": " in line]
        reasons = [r[len("(None) "):] if r.startswith("(None) ") else r for r in reasons]
        reason = "; ".join(r.rstrip(". ") for r in reasons) or next(
            (line.strip() for line in text.splitlines() if line.strip()), "").rstrip(". ")
        for secret in self._secrets():
            reason = reason.replace(secret, MASK)
        reason = " ".join(reason.split())[:400]
        return SignInFailed(f"signing in to Cosmos DB with Entra ID as {self.describe()} failed: {reason}. "
                            "Nothing was sent; check the identity exists where the explorer runs "
                            "(docs/entra-id.md).")

    def _secrets(self) -> list[str]:
        found = []
        for step in self.plan.steps:
            for secret in (step.client_secret, step.certificate, step.certificate_password):
                if secret is not None and len(secret.reveal()) >= 4:
                    found.append(secret.reveal())
        return found

    async def close(self) -> None:
        await self._chain.close()

    async def __aenter__(self) -> StoreCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def describe(self) -> str:
        """Which identity this store uses: the one that issued a token, else the first the chain
        tries (with the ones it can still reach). Never a secret."""
        return self.answered.describe() if self.answered is not None else describe_chain(self._steps)


def credential_for(plan: AuthPlan, store: str = "") -> StoreCredential:
    """The azure-identity chain for an Entra ID plan. Raises ComponentError (one line, no secret)
    when daprd would refuse the store, or when nothing the explorer can build is left."""
    if plan.kind is not Kind.ENTRA_ID:
        raise ValueError("a master-key plan has no Entra ID credential")
    what = f"component {store}" if store else "the component"
    if plan.refusal is not None:
        raise ComponentError(f"{what}: {plan.refusal}; daprd refuses this store too. Run the doctor (f) for the fix.")
    built: list[tuple[Step, Any]] = []
    left_out: list[str] = []
    for step in plan.steps:
        if not step.mirrored:
            left_out.append(f"{step.method.label}: the explorer cannot sign in this way (daprd can, with Dapr mTLS)")
            continue
        try:
            built.append((step, _credential(step)))
        except _LeftOut as exc:
            left_out.append(f"{step.method.label}: {exc}")
    if not built:
        raise ComponentError(
            f"{what}: no Entra ID method the explorer can use ({'; '.join(left_out) or 'none in the chain'}). "
            "Set azureAuthMethods to one the explorer mirrors, or give masterKey.")
    return StoreCredential(plan, built, left_out)


class _LeftOut(Exception):
    """A step that cannot be built here, as daprd leaves it out (internal; the text has no secret)."""


def _credential(step: Step) -> Any:
    from azure.identity.aio import (
        AzureCliCredential, CertificateCredential, ClientSecretCredential, ManagedIdentityCredential,
        WorkloadIdentityCredential,
    )

    if step.method is Method.CLIENT_SECRET:
        assert step.client_secret is not None and step.tenant_id and step.client_id
        return ClientSecretCredential(step.tenant_id, step.client_id, step.client_secret.reveal(),
                                      authority=step.authority_host)
    if step.method is Method.CERTIFICATE:
        data, password = _certificate(step)
        return CertificateCredential(step.tenant_id or "", step.client_id or "", certificate_data=data,
                                     password=password, authority=step.authority_host)
    if step.method is Method.WORKLOAD_IDENTITY:
        return WorkloadIdentityCredential(tenant_id=step.tenant_id, client_id=step.client_id,
                                          token_file_path=step.token_file, authority=step.authority_host)
    if step.method is Method.MANAGED_IDENTITY:
        return ManagedIdentityCredential(client_id=step.client_id)
    if step.method is Method.AZURE_CLI:
        return AzureCliCredential(process_timeout=CLI_TIMEOUT_SECONDS)
    raise _LeftOut("not built by the explorer")  # pragma: no cover - SPIFFE is filtered out above


def _certificate(step: Step) -> tuple[bytes, bytes | None]:
    """The certificate bytes and the password to pass, decoded the way Dapr decodes them
    (auth.go decodeCertificate): PKCS#12 with the password first, else PEM with a CERTIFICATE and an
    unencrypted RSA key among its first two blocks (the password is not used for PEM)."""
    if step.certificate_file:
        try:
            data = Path(step.certificate_file).read_bytes()
        except OSError as exc:
            raise _LeftOut(f"cannot read the certificate file {step.certificate_file} "
                           f"({exc.strerror or exc.__class__.__name__})") from None
    else:
        assert step.certificate is not None
        data = step.certificate.reveal().encode("utf-8", "surrogateescape")
    password = step.certificate_password.reveal() if step.certificate_password else ""
    if not data:
        raise _LeftOut("the certificate is empty")
    if _pkcs12_rsa(data, password):
        return data, password.encode() if password else None
    if _pem_rsa(data):
        return data, None
    where = f"file {step.certificate_file}" if step.certificate_file else "azureCertificate"
    raise _LeftOut(f"the certificate in {where} is neither a PKCS#12 bundle with an RSA key (with the given password) "
                   "nor PEM with a CERTIFICATE and an unencrypted RSA PRIVATE KEY")


def _pkcs12_rsa(data: bytes, password: str) -> bool:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    try:
        key, cert, _ = pkcs12.load_key_and_certificates(data, password.encode() if password else None)
    except (ValueError, TypeError):
        return False
    return cert is not None and isinstance(key, rsa.RSAPrivateKey)


def _pem_rsa(data: bytes) -> bool:
    """auth.go decodePEM: the first two PEM blocks must be one CERTIFICATE and one RSA key
    ("PRIVATE KEY" PKCS#8 or "RSA PRIVATE KEY" PKCS#1); other block types are passed over."""
    import base64
    import re

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    blocks = re.findall(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", data, re.S)[:2]
    cert = key = None
    for kind, body in blocks:
        try:
            der = base64.b64decode(b"".join(line for line in body.split() if b":" not in line))
            if kind == b"CERTIFICATE":
                if cert is not None:
                    return False
                cert = x509.load_der_x509_certificate(der)
            elif kind in (b"PRIVATE KEY", b"RSA PRIVATE KEY"):
                if key is not None:
                    return False
                key = load_der_private_key(der, password=None)
                if not isinstance(key, rsa.RSAPrivateKey):
                    return False
        except (ValueError, TypeError):
            return False
    return cert is not None and key is not None
