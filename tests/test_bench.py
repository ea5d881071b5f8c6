"""The benchmark runs end to end on a tiny scenario (the figures themselves are measured by hand)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_on_a_tiny_scenario_and_writes_its_table(tmp_path):
    out = tmp_path / "benchmarks.md"
    finished = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench" / "run.py"), "--regions", "1", "--count", "1",
         "--types", "ec2.key_pairs", "--types", "sqs.queues", "--no-peers", "--repetitions", "1",
         "--latency", "0", "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| CostCutter |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1:3] == ["2", "2"]   # two types, one of each seeded
    assert cells[5] == "0"            # nothing left
    assert "DeleteKeyPair 1" in text and "DeleteQueue 1" in text  # calls counted at the server, per action
    assert "python3 scripts/bench/run.py --regions 1" in text
