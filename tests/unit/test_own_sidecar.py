"""Which app-id the explorer's own daprd runs as, and which daprd binary it uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.core.component_model import Component
from explorer.dapr.own_sidecar import (
    DEFAULT_APP_ID,
    OwnSidecarError,
    ScopedAway,
    choose_app_id,
    daprd_binary,
)


def comp(name: str, kind: str = "state.azure.cosmosdb", scopes=(), secret_store: str | None = None) -> Component:
    return Component(name, kind, "v1", (), Path(f"/c/{name}.yaml"), secret_store=secret_store, scopes=tuple(scopes))


SECRETS = comp("local-secrets", "secretstores.local.env")


def test_a_keys_own_app_id_is_used_when_no_scope_leaves_it_out():
    assert choose_app_id(comp("s"), [SECRETS], "orders") == "orders"
    assert choose_app_id(comp("s", scopes=["orders", "cart"]), [SECRETS], "orders") == "orders"


def test_a_key_whose_app_id_is_scoped_away_is_refused_with_the_scopes():
    with pytest.raises(ScopedAway, match=r"scoped to cart.*'orders'.*Add orders to its scopes"):
        choose_app_id(comp("s", scopes=["cart"]), [SECRETS], "orders")


def test_the_secret_stores_scopes_count_too():
    secrets = comp("vault", "secretstores.local.env", scopes=["cart"])
    with pytest.raises(ScopedAway, match="component vault is scoped to cart"):
        choose_app_id(comp("s", secret_store="vault"), [secrets], "orders")


def test_keys_without_app_id_use_the_fixed_id_unless_scopes_say_otherwise():
    assert choose_app_id(comp("s"), [SECRETS], None) == DEFAULT_APP_ID
    assert choose_app_id(comp("s", scopes=["cart", "orders"]), [SECRETS], None) == "cart"
    assert choose_app_id(comp("s", scopes=["cart", DEFAULT_APP_ID]), [SECRETS], None) == DEFAULT_APP_ID
    secrets = comp("vault", "secretstores.local.env", scopes=["orders"])
    assert choose_app_id(comp("s", scopes=["cart", "orders"], secret_store="vault"), [secrets], None) == "orders"


def test_no_app_id_fits_every_scope():
    secrets = comp("vault", "secretstores.local.env", scopes=["orders"])
    with pytest.raises(ScopedAway, match="no app-id is in the scopes"):
        choose_app_id(comp("s", scopes=["cart"], secret_store="vault"), [secrets], None)


def _exe(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def no_daprd(tmp_path, monkeypatch):
    """A home without ~/.dapr and an empty stack cache."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DAPR_EXPLORER_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_explicit_daprd_must_be_an_executable(no_daprd):
    assert daprd_binary(_exe(no_daprd / "bin" / "daprd")) == no_daprd / "bin" / "daprd"
    with pytest.raises(OwnSidecarError, match="--daprd .*no executable file"):
        daprd_binary(no_daprd / "missing")


def test_nothing_found_says_how_to_get_one(no_daprd):
    with pytest.raises(OwnSidecarError, match=r"--daprd PATH.*~/.dapr/bin/daprd.*make daprd"):
        daprd_binary()


def test_the_dapr_clis_daprd_comes_before_the_stack_cache(no_daprd):
    _exe(no_daprd / "cache" / "daprd" / "1.0.0-aaaaaaaaaaaa" / "daprd")
    assert daprd_binary() == no_daprd / "cache" / "daprd" / "1.0.0-aaaaaaaaaaaa" / "daprd"
    cli = _exe(no_daprd / "home" / ".dapr" / "bin" / "daprd")
    assert daprd_binary() == cli


def test_without_the_current_build_the_newest_cached_one_is_used(no_daprd):
    import os

    old = _exe(no_daprd / "cache" / "daprd" / "1.0.0-aaaaaaaaaaaa" / "daprd")
    new = _exe(no_daprd / "cache" / "daprd" / "1.0.1-bbbbbbbbbbbb" / "daprd")
    os.utime(old, (1, 1))
    assert daprd_binary() == new


def test_a_refusing_sidecar_stops_every_write_that_would_start_our_own_daprd(tmp_path):
    """Workspace logic only (no sidecar, no daprd): while a sidecar refused the token, its app-id is unknown,
    so a key of any app-id no answering sidecar owns is refused with that sidecar and variable named, and
    no launcher is made."""
    import asyncio

    from explorer.core.envelope import KeyPrefix, parse_document_id
    from explorer.errors import SidecarRefused
    from explorer.session.sidecars import Sidecars
    from explorer.session.workspace import Workspace

    refusal = SidecarRefused("127.0.0.1:50002", "Unauthorized").naming("CHAT_TOKEN")
    ws = Workspace([comp("s")], sidecars=Sidecars(refusals={refusal.address: refusal}))
    for doc_id, whose in (("chat-api||k", "of app-id 'chat-api' answers"), ("k", "answers for this key")):
        state_key = parse_document_id(doc_id, KeyPrefix.from_metadata("appid" if "||" in doc_id else "none"), "s")
        with pytest.raises(SidecarRefused) as refused:
            asyncio.run(ws._own_sidecar("s", state_key))  # noqa: SLF001
        line = str(refused.value)
        assert line.startswith(f"nothing was written: no sidecar {whose}, and the sidecar at 127.0.0.1:50002 "
                               "refused the request: Unauthorized. Set CHAT_TOKEN to its token — it may be ")
        assert "\n" not in line and refused.value.refused
    assert ws._launcher is None  # noqa: SLF001


def test_starting_a_child_while_grpc_is_busy_prints_no_fork_warning(tmp_path):
    """As the explorer starts a daprd (ManagedProcess: fork, then exec) with a gRPC channel open: gRPC's
    fork handlers print "Other threads are currently calling into gRPC, skipping fork() handlers" (and
    can abort the child) unless the explorer turned fork support off. A new Python process, as a user's
    shell starts the CLI, even with GRPC_ENABLE_FORK_SUPPORT=true in its environment."""
    import os
    import subprocess
    import sys

    script = f"""
import asyncio
from pathlib import Path
from explorer.dapr.processes import ManagedProcess
from explorer.dapr.sidecar import SidecarClient

async def main():
    client = SidecarClient("127.0.0.1:1", timeout=0.3)
    try:
        await client.metadata()
    except Exception:
        pass
    for n in range(5):
        child = ManagedProcess("true", ["/bin/true"], Path({str(tmp_path)!r}) / f"{{n}}.log", {{}})
        child.process.wait()
        assert child.process.returncode == 0, child.process.returncode
    await client.close()

asyncio.run(main())
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, GRPC_ENABLE_FORK_SUPPORT="true"))
    assert result.returncode == 0, result.stderr
    assert "fork" not in result.stderr and "epoll" not in result.stderr, result.stderr
