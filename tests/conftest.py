"""Every test run keeps the explorer's per-user files in a folder of its own.

The audit log ($XDG_STATE_HOME/dapr-explorer/audit.jsonl) and any other state or config the
explorer reads from the XDG folders go to a temporary folder for the whole run, for this process
and every `dapr-explorer` subprocess a test starts: a test run never appends to the developer's
own audit log or reads their own contexts. Tests that need a file of their own set the variable
for their subprocess.
"""

from __future__ import annotations

import os
import shutil
import tempfile

_HOME = tempfile.mkdtemp(prefix="dapr-explorer-test-xdg-")


def pytest_configure(config):  # noqa: ARG001 - pytest's hook signature
    for name in ("XDG_STATE_HOME", "XDG_CONFIG_HOME"):
        os.environ[name] = os.path.join(_HOME, name.lower())
    os.environ.pop("DAPR_EXPLORER_AUDIT_LOG", None)


def pytest_unconfigure(config):  # noqa: ARG001
    shutil.rmtree(_HOME, ignore_errors=True)
