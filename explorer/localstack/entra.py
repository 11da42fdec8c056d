"""The local stack's Entra ID mode: its stand-in tenant, the managed identity token endpoint, and
the Cosmos server's Entra configuration.

What it is for: `LocalStack(entra=True)` (explorer.localstack.manager) starts a `TokenEndpoint`
(stack/identity/token_endpoint.js: the App Service managed identity protocol on loopback, tokens
signed by a key pair it makes at start) before the server, and writes the `--entra` config the
server reads (stack/cosmos/entra.js): the endpoint's public key, the tenant, each identity's
object id and role, the containers to create at boot. The identities and tenant come from
stack/identity/identities.json, the one source the endpoint reads too.

What it must never do: log, print or put in an exception a token or the identity header (the
secret every token request carries; it reaches the endpoint and daprd through their environment
only); listen on anything but loopback.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from explorer.dapr.processes import ManagedProcess
from explorer.errors import StackError
from explorer.localstack.services import wait_ready_line
from explorer.resources import identity_sources

#: Cosmos DB's built-in data-plane role definitions, by id.
ROLE_NAMES = {
    "00000000-0000-0000-0000-000000000001": "Cosmos DB Built-in Data Reader",
    "00000000-0000-0000-0000-000000000002": "Cosmos DB Built-in Data Contributor",
}

#: The name the server gives the account in its refusals ("Request blocked by Auth <account> : …").
ACCOUNT_NAME = "dapr-explorer-local"

#: The environment variables of the managed identity protocols a client could pick instead of App
#: Service's (azidentity and azure-identity check them); a stack's children must not inherit them.
OTHER_IDENTITY_VARIABLES = ("IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "MSI_ENDPOINT", "MSI_SECRET",
                            "AZURE_FEDERATED_TOKEN_FILE")


@dataclass(frozen=True)
class Identity:
    """One user-assigned managed identity of the stand-in tenant."""

    name: str
    client_id: str  # what a Dapr component's azureClientId and ManagedIdentityCredential(client_id=) name
    object_id: str  # the principal id: a token's oid, what role assignments name
    role: str  # the role definition id assigned to it on the whole account

    @property
    def role_name(self) -> str:
        return ROLE_NAMES.get(self.role, self.role)


def load_tenant(path: Path | None = None) -> tuple[str, dict[str, Identity]]:
    """The stand-in tenant id and its identities, by name, from stack/identity/identities.json."""
    path = path or identity_sources() / "identities.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    identities = {name: Identity(name, spec["clientId"], spec["objectId"], spec["role"])
                  for name, spec in data["identities"].items()}
    return data["tenant"], identities


def server_config(public_key_file: Path, tenant: str, identities: Iterable[Identity], containers: Iterable[dict]) -> dict:
    """The `--entra` config of stack/cosmos/entra.js: who holds which role, and what to create at boot."""
    return {
        "account": ACCOUNT_NAME,
        "publicKeyFile": str(public_key_file),
        "tenant": tenant,
        "clockSkewSeconds": 5,
        "principals": [{"name": i.name, "objectId": i.object_id, "roleDefinitionIds": [i.role]} for i in identities],
        "containers": list(containers),
    }


class TokenEndpoint:
    """stack/identity/token_endpoint.js, started on a free loopback port with its log in the run
    folder; `url` is what IDENTITY_ENDPOINT names, `header` the IDENTITY_HEADER secret."""

    def __init__(self, run_dir: Path, lifetime: int, startup_timeout: float):
        node = shutil.which("node")
        if node is None:
            raise StackError("Node.js is not installed; the local token endpoint needs it (Debian: apt-get install nodejs).")
        self.header = secrets.token_urlsafe(32)
        self.public_key_file = run_dir / "identity" / "token-signing-public.pem"
        self.public_key_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "IDENTITY_HEADER": self.header}
        self.process = ManagedProcess(
            "token-endpoint",
            [node, str(identity_sources() / "token_endpoint.js"), "--port", "0", "--host", "127.0.0.1",
             "--lifetime", str(lifetime), "--public-key-out", str(self.public_key_file)],
            run_dir / "token-endpoint.log", env=env,
        )
        url = wait_ready_line(self.process, startup_timeout)
        if not url:
            state = "exited" if not self.process.alive() else f"did not report READY within {startup_timeout:.0f}s"
            self.process.stop()
            raise StackError(f"the local token endpoint {state}. Its log ({self.process.log_path}):\n{self.process.log_tail()}")
        self.url = url

    def __repr__(self) -> str:  # keep the identity header out of tracebacks and logs
        return f"TokenEndpoint(url={self.url!r}, header='••••••')"

    def _get(self, path: str, params: dict[str, str] | None = None, *, secret: bool = False) -> dict:
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
        try:
            conn.request("GET", path + (f"?{urlencode(params)}" if params else ""),
                         headers={"X-IDENTITY-HEADER": self.header} if secret else {})
            response = conn.getresponse()
            body = json.loads(response.read() or b"{}")
        except (OSError, ValueError) as exc:
            raise StackError(f"the local token endpoint at {self.url} did not answer {path}: {exc}") from None
        finally:
            conn.close()
        if response.status != 200:
            raise StackError(f"the local token endpoint refused {path}: {body.get('message', response.status)}")
        return body

    def issued(self) -> dict[str, int]:
        """Tokens issued per identity since the endpoint started (its /_explorer/issued test hook)."""
        return dict(self._get("/_explorer/issued")["issued"])

    def mint(self, identity: str = "contributor", **claims: str | int) -> str:
        """A token with chosen claims for negative tests (the endpoint's /_explorer/mint hook): `aud`,
        `oid`, `iss`, `tid`, `lifetime` and `nbf` (seconds from now; a negative lifetime is already
        expired), `forge=1` (signed by another key). Never print what it returns."""
        params = {"identity": identity, **{k: str(v) for k, v in claims.items()}}
        return self._get("/_explorer/mint", params, secret=True)["access_token"]

    def env(self) -> dict[str, str]:
        """The App Service managed identity environment that leads clients here."""
        return {"IDENTITY_ENDPOINT": self.url, "IDENTITY_HEADER": self.header}
