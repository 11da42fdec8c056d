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
def own_stack(tmp_path_factory, name: str, seeded: bool = True, **options):
    """A stack of a test module's own (seeded unless asked not to), for modules that edit, delete or
    freeze what others read, or need a stack shaped otherwise (`options` go to LocalStack)."""
    with LocalStack(run_dir=tmp_path_factory.mktemp(name), **options) as local:
        if seeded:
            asyncio.run(seed(local))
        yield local
