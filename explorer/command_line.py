"""The command line's shape: subcommands, their options, and where a sidecar is by default.

What it is for: argparse definitions and environment defaults the entry point needs before it
knows whether it will open the TUI or run a command.

What it must never do: import an SDK (azure-cosmos, gRPC, Dapr) — the TUI's first paint waits
on this module, and the SDKs load only after the store list is drawn.
"""

from __future__ import annotations

import argparse
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


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    sub.add_parser("stores", parents=[common], help="list state stores from component files and sidecars")
    sub.add_parser("doctor", parents=[common], help="declared versus effective settings of each Cosmos store")
    p = sub.add_parser("partitions", parents=[common], help="stream a store's partition keys")
    p.add_argument("store")
    p = sub.add_parser("keys", parents=[common], help="one page of a partition's keys")
    p.add_argument("store")
    p.add_argument("--partition", required=True)
    p.add_argument("--page-size", type=int, default=100)
    p.add_argument("--continuation")
    for name, text in (("get", "read one key"), ("set", "save one key through Dapr (etag-checked)"),
                       ("delete", "delete one key through Dapr (etag-checked)")):
        p = sub.add_parser(name, parents=[common], help=text)
        p.add_argument("store")
        p.add_argument("key")
        if name == "set":
            p.add_argument("value", help="JSON (or base64 with --base64)")
            p.add_argument("--base64", action="store_true", help="VALUE is base64 bytes (stored isBinary)")
            p.add_argument("--ttl", default="keep", help="keep (default) | restart | none | SECONDS")
        if name != "get":
            p.add_argument("--etag", help="expected etag (default: the etag read just before writing)")
        p.add_argument("--partition", help="the item's partitionKey (default: the document id, as Dapr does)")
        p.add_argument("--app-id", help="the app that owns the key (its id prefix)")
    p = sub.add_parser("export", parents=[common], help="JSON lines of every item (or one partition)")
    p.add_argument("store")
    p.add_argument("--partition")
