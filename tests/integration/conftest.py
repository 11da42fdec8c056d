"""The real local stack for integration tests: a Cosmos-compatible server and real daprd
sidecars started by explorer.localstack, seeded once per session and always stopped."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from explorer.localstack.manager import LocalStack
from explorer.localstack.seed import seed


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    local = LocalStack(run_dir=tmp_path_factory.mktemp("stack"))
    local.start()
    try:
        asyncio.run(seed(local))
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def cosmos(stack):
    return stack.cosmos_client()


def container(cosmos, database: str, name: str):
    return cosmos.get_database_client(database).get_container_client(name)


@contextlib.contextmanager
def own_seeded_stack(tmp_path_factory, name: str):
    """A seeded stack of a test module's own, for modules that edit, delete or freeze what others read."""
    with LocalStack(run_dir=tmp_path_factory.mktemp(name)) as local:
        asyncio.run(seed(local))
        yield local
