"""The TUI's first paint must not wait on the SDKs: the entry point, its argument parser and
the app's first screen import no azure-cosmos, gRPC or Dapr module (they load after the store
list is drawn). Run in a fresh interpreter, so other tests' imports do not hide a regression."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
import explorer.cli.main as cli
from explorer.cli.parser import parse_args
parse_args([])
import explorer.tui.app, explorer.tui.screens.browser
print(",".join(m for m in ("azure.cosmos", "grpc", "dapr.proto", "aiohttp") if m in sys.modules))
"""


def test_entry_point_and_first_screen_load_no_sdk():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"loaded before the first paint: {result.stdout.strip()}"
