"""bench/fuzz_inputs.py (reliability figure R6) in a small smoke run: every target it fuzzes still
takes its generated inputs with 0 unexpected exceptions, so the script keeps working as the parsers
change between full runs (`bench/reliability.py --only R6`, 200,000 inputs)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_fuzz_inputs_smoke_run_has_no_unexpected_exception():
    result = subprocess.run([sys.executable, str(REPO / "bench" / "fuzz_inputs.py"), "--seed", "7", "--count", "3400"],
                            capture_output=True, text=True, timeout=300, cwd=REPO)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if "inputs" in line]
    targets = [line for line in rows if not line.startswith("total")]
    assert len(targets) >= 17, rows  # the first seven, and every parser of untrusted input added since
    assert all(int(re.search(r"inputs\s+(\d+)", line).group(1)) > 0 for line in targets), rows
    assert re.search(r"^total .*unexpected exceptions\s+0\b", result.stdout, re.MULTILINE), result.stdout
