"""Where the files the app needs besides its code are: styles, default component files, the
local stack's build files, and the user cache.

What it is for: one place that answers "where is X" the same way in a source checkout, an
editable install (`pip install -e .`) and an installed wheel (`pip install`, `pipx install`).
The repository keeps `styles/`, `components/` and `stack/` at its top level; pyproject.toml's
`package-dir` maps them into the wheel as `explorer/_data/styles`, `explorer/_data/components`
and `explorer/_data/stack` (only the files listed in its `package-data`: no node_modules). An
editable install serves `explorer` from the checkout, where those folders are the top-level
ones beside the package (setuptools' editable finder cannot serve folders without an
`__init__.py` under a regular package), so both places are looked up here, the packaged one
first, through importlib.resources.

What it must never do: write anything (callers create caches and run folders), or look
anywhere else — every other module asks here instead of walking up from `__file__`.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Mapping
from pathlib import Path

from explorer.errors import InstallError

#: The folder inside the installed package that pyproject.toml maps the top-level folders into.
PACKAGED_DATA = "_data"


def _folder(name: str) -> Path:
    """The top-level folder `name` of the repository, as packaged or as checked out."""
    package = importlib.resources.files("explorer")
    if not isinstance(package, Path):  # e.g. a zip import: daprd and node need real files
        raise InstallError(f"dapr-explorer must be installed as files on disk, not in {package}; reinstall it with pip or pipx")
    packaged = package / PACKAGED_DATA / name
    if packaged.is_dir():
        return packaged
    checkout = package.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / name).is_dir():
        return checkout / name
    raise InstallError(f"dapr-explorer is installed without its {name}/ folder (looked in {packaged}); reinstall it")


def styles_dir() -> Path:
    """The Textual CSS of the app (one .tcss a pane)."""
    return _folder("styles")


def default_components_dir() -> Path:
    """The Dapr component files of the three stores this tool is built around (the local stack's)."""
    return _folder("components")


def stack_dir() -> Path:
    """The local stack's build files: `build-daprd.sh`, `build-dapr-services.sh`, `daprd/` (Go sources),
    `cosmos/` (server), `identity/` (token endpoint), `entra/components/`."""
    return _folder("stack")


def build_daprd_script() -> Path:
    """The script that builds daprd into the cache and prints the binary's path."""
    return stack_dir() / "build-daprd.sh"


def build_dapr_services_script() -> Path:
    """The script that builds Dapr's placement and scheduler (same modules as daprd) into the cache
    and prints their paths, one a line."""
    return stack_dir() / "build-dapr-services.sh"


def daprd_sources() -> Path:
    """Our daprd's Go module: main.go, go.mod, go.sum, stub/components.go."""
    return stack_dir() / "daprd"


def cosmos_server_sources() -> Path:
    """server.js, package.json and package-lock.json of the Cosmos-compatible server (node_modules
    too in a checkout after `make install`; never in an installed package)."""
    return stack_dir() / "cosmos"


def identity_sources() -> Path:
    """The local stack's stand-in managed identity endpoint: token_endpoint.js and identities.json
    (the Entra ID mode's tenant and identities)."""
    return stack_dir() / "identity"


def entra_components_dir() -> Path:
    """The component files of the local stack's Entra ID mode (Cosmos stores without a masterKey)."""
    return stack_dir() / "entra" / "components"


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """`${DAPR_EXPLORER_CACHE:-${XDG_CACHE_HOME:-~/.cache}/dapr-explorer}`: daprd builds, the server's node_modules."""
    env = os.environ if environ is None else environ
    if env.get("DAPR_EXPLORER_CACHE"):
        return Path(env["DAPR_EXPLORER_CACHE"])
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dapr-explorer"
