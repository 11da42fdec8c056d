"""The real local stack for integration tests: a Cosmos-compatible server and real daprd
sidecars started by explorer.localstack, seeded once per session and always stopped.

The session's stack (`seeded_stack`, also `stack` unless a module has a stack of its own) runs
the workflow, actor and dapr-agents apps (`LocalStack(apps=True)`), so its workflow, actor and agent
documents are the ones daprd and dapr-agents wrote; a module's own stack (`own_stack`) runs them only
when asked (`apps=True`), which keeps the stacks that edit plain keys quick to start. Every seeded
stack also holds the editing tests' own plain keys (tests.support.write_editing_keys)."""

from __future__ import annotations

import asyncio
import contextlib
import os

import pytest

from explorer.localstack.manager import LocalStack
from explorer.localstack.seed import seed
from tests.support import write_editing_keys


@pytest.fixture(scope="session")
def seeded_stack(tmp_path_factory):
    """The session's stack with the apps, seeded once; tests read it and must not change it."""
    local = LocalStack(run_dir=tmp_path_factory.mktemp("stack"), apps=True)
    local.start()
    try:
        seed_for_tests(local)
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
            seed_for_tests(local)
        yield local


def seed_for_tests(local: LocalStack):
    """The seed, then the editing tests' own plain keys; what the seed left (its SeedSummary)."""
    summary = asyncio.run(seed(local))
    if "agent-registry" in local.sidecars:
        asyncio.run(write_editing_keys(local))
    return summary


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
