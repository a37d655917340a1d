"""The hot-path benchmark runs end to end (so it does not rot) and what it leaves in the database is right:
every tapped contest answer stored once, every attempt finished. It prints figures; no time is asserted."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_hot_path_bench_stores_each_answer_once(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bench.hotpath", "--students", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    lines = out.strip().splitlines()
    assert "µs CPU/update" in lines[0] and "SQL per update" in lines[0]
    assert ast.literal_eval(lines[1].strip()) == {"answers": 80, "finished": 4, "open": 0, "duplicate_answers": 0}
