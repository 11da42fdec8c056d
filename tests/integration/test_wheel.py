"""dapr-explorer installs like a Python tool: a wheel, installed into a fresh venv and run from
a folder that is not the repository, has its styles, component files and local stack.

The wheel is built (`pip wheel --no-deps`, no extra build tool) from a copy of the files git
would ship (tracked, plus untracked ones it does not ignore), so a stale `build/` or
`node_modules/` of the work tree cannot hide a file the package forgot. The venv gets the
wheel's real dependencies from the index (pip's cache makes repeats quick); nothing of the
repository's venv leaks in. An editable install (the Makefile's `pip install -e .`) of such a
copy must find the same files in the checkout's top-level folders. The demo runs with its own TMPDIR and a fresh cache for the
server's node packages, so their one-time `npm ci` into the cache is exercised every run;
daprd is the cached build (DAPR_EXPLORER_DAPRD), and one test shows that the package's own
build-daprd.sh finds that build without Go.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from explorer.dapr.processes import free_port

from .test_stack_lifecycle import Terminal, children_of, wait_dead

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Installed:
    wheel: Path
    bin: Path  # the venv's bin/
    site_package: Path  # <venv>/lib/pythonX.Y/site-packages/explorer
    elsewhere: Path  # an empty working folder, not the repository

    def run(self, *argv: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in argv], cwd=self.elsewhere, env=env, capture_output=True, text=True,
                              timeout=timeout)

    def python(self, code: str) -> str:
        result = self.run(self.bin / "python", "-c", code)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()


def shipped_files(repo: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=repo,
                            capture_output=True, check=True).stdout.decode()
    return [name for name in listed.split("\0") if name and (repo / name).is_file()]


def copy_of_the_checkout(target: Path) -> Path:
    for name in shipped_files(REPO):
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    return target


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    source = copy_of_the_checkout(root / "source")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(source)],
                   check=True, timeout=300)
    [wheel] = (root / "dist").glob("dapr_explorer-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], check=True, timeout=600)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    site = subprocess.run([str(venv / "bin" / "python"), "-c", "import explorer, os; print(os.path.dirname(explorer.__file__))"],
                          cwd=elsewhere, capture_output=True, text=True, check=True).stdout.strip()
    return Installed(wheel, venv / "bin", Path(site), elsewhere)


def test_the_wheel_carries_every_module_and_the_files_the_app_needs(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    modules = {name for name in shipped_files(REPO) if name.startswith("explorer/") and name.endswith(".py")}
    assert modules - names == set(), "pyproject.toml's package list misses a package"
    for folder, pattern in (("styles", "*.tcss"), ("components", "*.yaml")):
        for path in (REPO / folder).glob(pattern):
            assert f"explorer/_data/{folder}/{path.name}" in names
    for name in ("build-daprd.sh", "build-dapr-services.sh", "dapr-scratch.sh", "daprd/main.go", "daprd/go.mod",
                 "daprd/go.sum", "daprd/stub/components.go", "cosmos/server.js", "cosmos/package.json", "cosmos/package-lock.json",
                 "cosmos/entra.js", "identity/token_endpoint.js", "identity/identities.json",
                 "entra/components/statestore-entra.yaml", "entra/components/statestore-entra-reader.yaml"):
        assert f"explorer/_data/stack/{name}" in names
    assert not [n for n in names if "node_modules" in n]
    assert "explorer/_data/stack/cosmos/throttle.js" in names  # server.js requires it
    assert "explorer/_data/stack/cosmos/linear-parser.js" in names  # and this
    assert installed.site_package.is_relative_to(installed.bin.parent) and not installed.site_package.is_relative_to(REPO)


def test_help_and_stores_from_another_folder(installed):
    assert installed.run(installed.bin / "dapr-explorer", "--help").returncode == 0
    components = installed.python("from explorer.resources import default_components_dir; print(default_components_dir())")
    assert Path(components) == installed.site_package / "_data" / "components"
    result = installed.run(installed.bin / "dapr-explorer", "stores", "--json", "--resources-path", components,
                           "--dapr-grpc-port", str(free_port()))
    assert result.returncode == 0, result.stderr
    assert "statestore-agents-cosmos" in result.stdout


def test_the_entra_modes_files_are_found_in_the_package_and_its_token_endpoint_runs(installed, tmp_path):
    code = ("from pathlib import Path; from explorer.resources import identity_sources, entra_components_dir;"
            "from explorer.localstack.entra import TokenEndpoint, load_tenant;"
            "print(identity_sources()); print(entra_components_dir()); print(sorted(load_tenant()[1]));"
            f"e = TokenEndpoint(Path({str(tmp_path)!r}), 60, 30); print(e.issued()); e.process.stop()")
    lines = installed.python(code).splitlines()
    assert lines[:2] == [str(installed.site_package / "_data" / "stack" / "identity"),
                         str(installed.site_package / "_data" / "stack" / "entra" / "components")]
    assert lines[2:] == ["['contributor', 'reader']", "{'reader': 0, 'contributor': 0}"]


def quit_with_q(term: Terminal) -> int:
    term.press(b"q")
    deadline = time.monotonic() + 30
    while term.process.poll() is None and time.monotonic() < deadline:
        term.read(0.2)
    return term.process.wait(timeout=5)


def test_the_tui_starts_with_its_styles_and_quits(installed):
    components = installed.site_package / "_data" / "components"
    term = Terminal([str(installed.bin / "dapr-explorer"), "--resources-path", str(components),
                     "--dapr-grpc-port", str(free_port())], cwd=installed.elsewhere)
    try:
        term.wait_for("statestore-workflows-cosmos", timeout=60)
        assert quit_with_q(term) == 0, term.text()[-2000:]
    finally:
        if term.process.poll() is None:
            term.process.kill()
        os.close(term.master)


def test_the_packages_build_script_finds_the_cached_daprd_without_go(installed, tmp_path):
    """build-daprd.sh run from site-packages hashes the same sources to the same cache key: no rebuild
    (Go is left off its PATH, so a rebuild would fail)."""
    from explorer.localstack.installs import find_daprd

    cached = find_daprd()  # the repository's (builds it once if this machine has none)
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("dirname", "awk", "cat", "sha256sum", "cut"):
        (tools / tool).symlink_to(shutil.which(tool))
    script = installed.site_package / "_data" / "stack" / "build-daprd.sh"
    env = {k: v for k, v in os.environ.items() if k != "DAPR_EXPLORER_DAPRD"}
    result = installed.run("/bin/bash", script, env=dict(env, PATH=str(tools)))
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == cached


def test_demo_from_the_wheel_runs_the_real_stack_and_leaves_nothing(installed, tmp_path):
    from explorer.localstack.installs import agents_python, find_daprd, find_dapr_services
    from explorer.resources import cache_dir

    temp, cache = tmp_path / "tmp", tmp_path / "cache"
    temp.mkdir()
    cache.mkdir()
    find_dapr_services()  # the cached placement and scheduler builds (the wheel's script finds the same key)
    (cache / "dapr-services").symlink_to(cache_dir() / "dapr-services")
    agents_venv = agents_python().parent.parent  # the agents app's venv: the wheel's requirements hash to the same key
    (cache / agents_venv.name).symlink_to(agents_venv)
    env = dict(os.environ, TMPDIR=str(temp), DAPR_EXPLORER_CACHE=str(cache), DAPR_EXPLORER_DAPRD=str(find_daprd()))
    term = Terminal([str(installed.bin / "dapr-explorer"), "demo"], cwd=installed.elsewhere, env=env)
    try:
        term.wait_for("4 sidecars", timeout=120)
        kids = children_of(term.process.pid)
        assert len(kids) == 10, "server, placement, scheduler, four daprd and the three apps"
        argvs = [Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") for pid in kids]
        scripts = [Path(arg.decode()) for argv in argvs for arg in argv if arg.endswith(b"server.js")]
        assert scripts == [installed.site_package / "_data" / "stack" / "cosmos" / "server.js"]
        apps = sorted(argv[2].decode() for argv in argvs if argv[1:2] == [b"-m"])
        assert apps == ["explorer.localstack.apps.actor_app", "explorer.localstack.apps.workflow_app"]
        assert {Path(argv[0].decode()).parent for argv in argvs if argv[1:2] == [b"-m"]} == {installed.bin}, \
            "the apps run on the wheel's venv"
        [agents_app] = [argv for argv in argvs if argv[1:2] and argv[1].endswith(b"app.py")]
        assert Path(agents_app[1].decode()) == installed.site_package / "_data" / "stack" / "agents" / "app.py"
        assert Path(agents_app[0].decode()) == cache / agents_venv.name / "bin" / "python", "the agents app on its own venv"
        [packages] = cache.glob("cosmos-server-*")
        assert (packages / ".installed").is_file(), "the server's node packages went into the cache"
        assert list(temp.glob("dapr-explorer-stack-*")), "the run folder is in TMPDIR while it runs"
        assert quit_with_q(term) == 0, term.text()[-2000:]
        assert wait_dead(kids) == []
        assert list(temp.glob("dapr-explorer-*")) == [], "quitting removes the run folder"
    finally:
        if term.process.poll() is None:
            term.process.kill()
        os.close(term.master)


def test_an_editable_install_finds_the_top_level_folders_of_its_checkout(installed, tmp_path):
    """`pip install -e .` (the Makefile's) serves the same lookups from the checkout's own folders."""
    source = copy_of_the_checkout(tmp_path / "checkout")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "-e", str(source)], check=True, timeout=600)
    probe = ("from explorer import resources as r; from explorer.tui import app; "
             "print(r.styles_dir(), r.default_components_dir(), r.stack_dir(), all(p.is_file() for p in app.ExplorerApp.CSS_PATH))")
    result = installed.run(venv / "bin" / "python", "-c", probe)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(source / "styles"), str(source / "components"), str(source / "stack"), "True"]


def test_a_failed_start_from_the_wheel_says_why_in_one_line_and_leaves_no_folder(installed, tmp_path):
    env = dict(os.environ, TMPDIR=str(tmp_path), DAPR_EXPLORER_DAPRD=str(tmp_path / "no-daprd"))
    result = installed.run(installed.bin / "dapr-explorer", "stack", env=env)
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if line.startswith("dapr-explorer: ")] == [
        f"dapr-explorer: daprd not found at {tmp_path / 'no-daprd'}. Pass a daprd binary, or unset DAPR_EXPLORER_DAPRD "
        "to build one."
    ]
    assert list(tmp_path.iterdir()) == []
