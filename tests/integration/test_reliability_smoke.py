"""The reliability script's races, fuzzing and hostile names (bench/reliability.py R2, R6, R7) at small
counts, so the code behind docs/reliability.md's figures keeps running: each part starts its own real
stack (daprd and the Cosmos-compatible server), and the script exits 1 when a figure breaks its guarantee.
A smoke run, not a timed test: the figures themselves come from full runs (docs/reliability.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_races_fuzzing_and_hostile_names_hold_their_guarantees_at_small_counts():
    result = subprocess.run([sys.executable, str(REPO / "bench" / "reliability.py"), "--only", "R2,R6,R7", "--smoke"],
                            capture_output=True, text=True, timeout=600, cwd=REPO)
    summary = result.stdout[result.stdout.rfind("== summary"):]
    assert result.returncode == 0, summary or result.stderr[-3000:]
    assert "0 broke their guarantee" in summary
    for part in ("R2 bulk and import races in all", "R6", "R7 CLI raw control characters reaching the terminal: 0",
                 "R7 TUI raw control characters in what is drawn: 0"):
        assert part in summary, part
