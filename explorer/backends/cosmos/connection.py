"""How the explorer connects to a Cosmos DB account: endpoint, credential and TLS trust.

What it is for: one place that builds azure-cosmos clients (sync and async) the
same way everywhere. TLS is always verified: the SDK skips verification for
hosts named localhost/127.0.0.1 unless given an explicit CA, so we always pass
one (SSL_CERT_FILE or --cosmos-ca-file, else the certifi bundle).

Every client is gentle on the account (docs/production-load.md): its requests are Cosmos DB's low
priority, and the SDK does not retry a 429 by itself (the lister waits out the server's retry-after
and says so; writes go through Dapr, never through these clients).

What it must never do: turn verification off, or show the key.
"""

from __future__ import annotations

import os

from azure.cosmos.documents import ConnectionPolicy, RetryOptions, SSLConfiguration


def trusted_ca_file(explicit: str | None = None) -> str:
    """The CA bundle that Cosmos TLS connections are verified against."""
    if explicit:
        return explicit
    env = os.environ.get("SSL_CERT_FILE") or os.environ.get("REQUESTS_CA_BUNDLE")
    if env:
        return env
    import certifi

    return certifi.where()


#: Every request of ours is Cosmos DB's low priority (priority-based execution): when the account
#: is at its provisioned RU/s, ours are throttled before the app's (docs/production-load.md).
PRIORITY = "Low"
#: Appended to the SDK's user agent, so the account's diagnostics can tell the explorer's requests.
USER_AGENT_SUFFIX = "dapr-explorer"


def gentle_connection_policy() -> ConnectionPolicy:
    """The SDK's connection policy with its own throttle retries off: on a 429 the caller (the lister)
    waits out x-ms-retry-after-ms itself, says so, and asks again. (The kwarg `retry_throttle_total=0`
    cannot do it: azure-cosmos reads it with `or`, so 0 means its default of 9.)"""
    policy = ConnectionPolicy()
    policy.RetryOptions = RetryOptions(max_retry_attempt_count=0)
    return policy


def client_kwargs(ca_file: str | None = None) -> dict:
    """Keyword arguments for CosmosClient(...): verified TLS, low priority on every request (the
    client-wide default covers the SDK's own metadata reads too), no throttle retries of the SDK's."""
    ca = trusted_ca_file(ca_file)
    ssl = SSLConfiguration()
    ssl.SSLCaCerts = ca
    return {"ssl_config": ssl, "connection_verify": ca, "priority": PRIORITY,
            "connection_policy": gentle_connection_policy(), "user_agent_suffix": USER_AGENT_SUFFIX}


def sync_client(url: str, credential: object, ca_file: str | None = None):
    """`credential`: an account key (text) or a sync token credential; never shown."""
    from azure.cosmos import CosmosClient

    return CosmosClient(url, credential=credential, **client_kwargs(ca_file))


def async_client(url: str, credential: object, ca_file: str | None = None):
    """`credential`: an account key (text) or an async token credential (Entra ID, explorer.backends.cosmos.entra_id);
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
