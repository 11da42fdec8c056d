"""Where a sidecar is by default: the gRPC address from a port, DAPR_GRPC_ENDPOINT or DAPR_GRPC_PORT.

What it is for: the one reading of Dapr's address variables, shared by the contexts (explorer.session)
and the sidecar client. What it must never do: import an SDK (gRPC, Dapr): the CLI's first paint reads
it before the SDKs load.
"""

from __future__ import annotations

import os
from collections.abc import Mapping


def address_from_env(environ: Mapping[str, str] | None = None, port: int | None = None) -> str:
    """--dapr-grpc-port, else DAPR_GRPC_ENDPOINT, else DAPR_GRPC_PORT, else 127.0.0.1:50001."""
    env = os.environ if environ is None else environ
    if port:
        return f"127.0.0.1:{port}"
    endpoint = env.get("DAPR_GRPC_ENDPOINT")
    if endpoint:
        for scheme in ("http://", "https://"):
            if endpoint.startswith(scheme):
                endpoint = endpoint[len(scheme):]
        return endpoint.rstrip("/")
    return f"127.0.0.1:{env.get('DAPR_GRPC_PORT', '50001')}"
