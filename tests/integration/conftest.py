"""The real local stack for integration tests: a Cosmos-compatible server and real daprd
sidecars started by explorer.localstack, seeded once per session and always stopped.

The session's stack (`seeded_stack`, also `stack` unless a module has a stack of its own) runs
the workflow and actor apps (`LocalStack(apps=True)`), so its workflow and actor documents are
the ones daprd wrote; a module's own stack (`own_stack`) runs them only when asked (`apps=True`),
which keeps the stacks that edit plain keys quick to start."""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest

from explorer.localstack.manager import LocalStack
from explorer.localstack.seed import seed


@pytest.fixture(scope="session")
def seeded_stack(tmp_path_factory):
    """The session's stack with the apps, seeded once; tests read it and must not change it."""
    local = LocalStack(run_dir=tmp_path_factory.mktemp("stack"), apps=True)
    local.start()
    try:
        asyncio.run(seed(local))
        yield local
    finally:
        local.stop()


@pytest.fixture(scope="session")
def stack(seeded_stack):
    return seeded_stack


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


@contextlib.contextmanager
def stack_env(local: LocalStack):
    """os.environ pointing at `local` (the component files resolve COSMOS_URL and the key from it)
    for the block, then as it was: for a test that reads another stack than its module's."""
    saved = dict(os.environ)
    os.environ.update(local.client_env())
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
