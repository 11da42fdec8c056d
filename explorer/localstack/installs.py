"""What the local stack runs, found in the user cache or made there once: daprd, Dapr's placement and
scheduler, the Cosmos-compatible server's node packages, and the dapr-agents app's own venv.

What it is for: `LocalStack` (explorer.localstack.manager) asks here before it starts anything. It
works from an installed package too (explorer.resources finds the stack's files): daprd, placement
and scheduler are built into the cache by stack/build-daprd.sh and build-dapr-services.sh; the
server's node packages, which a package cannot carry, are installed once with `npm ci`; the agents
app's venv is installed once with pip, from stack/agents/requirements.txt. Each is made in a partial
folder and renamed into place (`install_once`), so a folder that is there is whole.

What it must never do: start a process of the stack (manager does), or be imported by the product:
the explorer's own daprd finds its binary without building one (explorer.dapr.own_sidecar).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from explorer.errors import StackError
from explorer.resources import build_daprd_script, build_dapr_services_script, cache_dir, cosmos_server_sources, stack_dir


def find_daprd(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--daprd / DAPR_EXPLORER_DAPRD, else the cached build from stack/build-daprd.sh (building it if needed)."""
    candidate = explicit or os.environ.get("DAPR_EXPLORER_DAPRD")
    if candidate:
        path = Path(candidate)
        if not path.is_file():
            raise StackError(f"daprd not found at {path}. Pass a daprd binary, or unset DAPR_EXPLORER_DAPRD to build one.")
        return path
    return _cached_build(build_daprd_script(), "daprd", 1)[0]


def find_dapr_services() -> tuple[Path, Path]:
    """placement and scheduler: the cached build from stack/build-dapr-services.sh (building what is missing)."""
    placement, scheduler = _cached_build(build_dapr_services_script(), "placement and scheduler", 2)
    return placement, scheduler


def _cached_build(script: Path, what: str, count: int) -> list[Path]:
    """Run one of the stack's build scripts (each prints the paths of its cached binaries, building
    what is missing) and return those paths; a StackError in one line when it says why it failed."""
    result = subprocess.run(["bash", str(script)], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        said = result.stderr.strip().splitlines()
        prefix = f"{script.stem}: "
        if said and said[-1].startswith(prefix):  # the script's own diagnosis, last (no Go, a missing file, …)
            raise StackError(said[-1])
        raise StackError(f"building {what} failed (bash {script}):\n{result.stderr.strip()[-2000:]}")
    lines = result.stdout.strip().splitlines()
    if len(lines) < count:
        raise StackError(f"bash {script} printed {result.stdout!r}, not the path(s) of {what}")
    return [Path(line) for line in lines[-count:]]



#: The npm package of the Cosmos-compatible server (stack/cosmos/package.json).
COSMOS_SERVER_PACKAGE = "@vercel/cosmosdb-server"


def cosmos_server(environ: Mapping[str, str] | None = None) -> tuple[Path, dict[str, str]]:
    """server.js, and the environment node needs to find its packages.

    A checkout after `make install` has them in stack/cosmos/node_modules. Otherwise (an
    installed package) they are installed once into `<cache>/cosmos-server-<hash of
    package-lock.json>` and found through NODE_PATH; server.js runs from the package.
    """
    sources = cosmos_server_sources()
    if (sources / "node_modules" / COSMOS_SERVER_PACKAGE).is_dir():
        return sources / "server.js", {}
    return sources / "server.js", {"NODE_PATH": str(install_cosmos_server(sources, cache_dir(environ)))}


def install_cosmos_server(sources: Path, cache: Path) -> Path:
    """`npm ci` of the server's package-lock.json into the cache (once per lock file); its node_modules."""
    lock = (sources / "package-lock.json").read_bytes()
    target = cache / f"cosmos-server-{hashlib.sha256(lock).hexdigest()[:12]}"
    npm = shutil.which("npm")
    if npm is None and not (target / ".installed").is_file():
        raise StackError("npm is not installed; the local Cosmos-compatible server needs it once, to install its packages "
                         "(Debian: apt-get install nodejs npm).")

    def install(work: Path) -> None:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(sources / name, work / name)
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work,
                                capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if result.returncode != 0 or not (work / "node_modules" / COSMOS_SERVER_PACKAGE).is_dir():
            raise StackError(f"installing the Cosmos-compatible server's packages failed (npm ci into {target}): "
                             + _last_line(result))

    return install_once(target, install) / "node_modules"


def install_once(target: Path, install: Callable[[Path], None]) -> Path:
    """`target`, made once: `install(work)` fills a fresh partial folder beside it, which is then renamed
    into place, so a folder that is there (with its `.installed` mark) is always whole. A half-made
    folder of an older run is replaced; a parallel start that got there first wins."""
    if (target / ".installed").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{target.name}.partial-", dir=target.parent))
    try:
        install(work)
        (work / ".installed").touch()
        if target.exists() and not (target / ".installed").is_file():
            shutil.rmtree(target, ignore_errors=True)  # a half-made folder from an older version of this code
        try:
            work.rename(target)
        except OSError:
            if not (target / ".installed").is_file():  # not a parallel start that got there first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _last_line(result: subprocess.CompletedProcess) -> str:
    """What a failed install said last (its error), for a one-line StackError."""
    said = (result.stderr.strip() or result.stdout.strip()).splitlines()
    return said[-1] if said else f"exit code {result.returncode}"


#: The Pythons dapr-agents 1.0.9 runs on (its Requires-Python: >=3.11,<3.14).
AGENTS_PYTHONS = ((3, 13), (3, 12), (3, 11))


def agents_python(environ: Mapping[str, str] | None = None) -> Path:
    """The interpreter of the dapr-agents app's own venv (stack/agents/requirements.txt), installed once
    into `<cache>/agents-venv-<hash of the requirements and the Python version>` (a minute, and
    ~550 MB, the first time; nothing after). Its own venv because dapr-agents 1.0.9 pins dapr < 1.19,
    which ours cannot hold."""
    requirements = agents_app_sources() / "requirements.txt"
    base, version = agents_base_python()
    digest = hashlib.sha256(requirements.read_bytes() + f"python {version}".encode()).hexdigest()[:12]
    target = cache_dir(environ) / f"agents-venv-{digest}"

    def install(work: Path) -> None:
        for argv in ([base, "-m", "venv", str(work)],
                     [str(work / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                      "--quiet", "-r", str(requirements)]):
            result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            if result.returncode != 0:
                raise StackError(f"installing the dapr-agents app's packages failed ({' '.join(argv[:3])} … into "
                                 f"{target}): {_last_line(result)}")

    return install_once(target, install) / "bin" / "python"


def agents_base_python() -> tuple[str, str]:
    """A Python dapr-agents runs on, and its version (major.minor): ours if it is one, else the newest
    python3.X on the PATH that is."""
    if sys.version_info[:2] in AGENTS_PYTHONS:
        return sys.executable, f"{sys.version_info[0]}.{sys.version_info[1]}"
    for major, minor in AGENTS_PYTHONS:
        found = shutil.which(f"python{major}.{minor}")
        if found:
            return found, f"{major}.{minor}"
    raise StackError("the dapr-agents app needs Python 3.11, 3.12 or 3.13 (dapr-agents 1.0.9 supports no other); "
                     f"this is Python {sys.version_info[0]}.{sys.version_info[1]} and none of python3.11–3.13 is on the PATH")


def agents_app_sources() -> Path:
    """stack/agents: the dapr-agents app (app.py) and its pinned requirements."""
    return stack_dir() / "agents"
