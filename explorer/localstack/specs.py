"""What the local stack is made of, as values: the Cosmos-compatible server's endpoint, a sidecar the
stack started, and the Cosmos containers its component files need.

What it is for: `LocalStack` (explorer.localstack.manager) holds these and hands them to tests, the
seeder and the apps; `container_specs` reads the containers from the component files (partitioned on
/partitionKey, as Dapr requires; a local default TTL from an annotation).

What it must never do: start or stop anything, or show the account key (`CosmosEndpoint`'s repr
masks it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from explorer.core.component_model import Component
from explorer.dapr.daprd import Daprd
from explorer.dapr.processes import ManagedProcess
from explorer.errors import StackError

LOCAL_TTL_ANNOTATION = "dapr-explorer.dev/local-container-default-ttl"
PARTITION_KEY_PATH = "/partitionKey"


@dataclass(frozen=True)
class CosmosEndpoint:
    url: str
    master_key: str
    ca_file: Path

    def __repr__(self) -> str:  # keep the key out of tracebacks and logs
        return f"CosmosEndpoint(url={self.url!r}, master_key='••••••', ca_file={str(self.ca_file)!r})"


@dataclass
class Sidecar:
    app_id: str
    daprd: Daprd

    @property
    def grpc_port(self) -> int:
        return self.daprd.ports.grpc

    @property
    def http_port(self) -> int:
        return self.daprd.ports.http

    @property
    def process(self) -> ManagedProcess:
        return self.daprd.process

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"


@dataclass(frozen=True)
class ContainerSpec:
    store: str
    database: str
    container: str
    default_ttl: int | None


def container_specs(components: Iterable[Component]) -> list[ContainerSpec]:
    """The Cosmos containers the Cosmos state stores in `components` need."""
    specs = []
    for comp in components:
        if not comp.is_cosmos:
            continue
        database, container = comp.plain("database"), comp.plain("collection")
        if not database or not container:
            raise StackError(f"component {comp.name} ({comp.source}) needs plain 'database' and 'collection' values")
        ttl_text = comp.annotations.get(LOCAL_TTL_ANNOTATION)
        specs.append(ContainerSpec(comp.name, database, container, int(ttl_text) if ttl_text is not None else None))
    return specs

