"""scripts/chaos.py in its short mode: under dropped connections and a PostgreSQL restart, no answer is a 500,
every acknowledged create exists exactly once, and every case keeps its invariants (issue 11)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_short_chaos_run_passes_every_check() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "chaos.py"), "--seconds", "6", "--restart-every", "3", "--quiet"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    report = result.stdout
    assert "PostgreSQL restarts" in report and " 0 PostgreSQL restarts" not in report
    assert " 0 connections dropped" not in report
    lines = [line for line in report.splitlines() if line.startswith("| ") and not line.startswith("| check")]
    assert len(lines) == 12 and all(line.endswith("| yes |") for line in lines), report
