"""The benchmark runs end to end on a tiny scenario (the figures themselves are measured by hand)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from costcutter import registry
from costcutter.faults import THROTTLED, FaultInjector, Faults

ROOT = Path(__file__).resolve().parents[1]


def test_bench_runs_on_a_tiny_scenario_and_writes_its_table(tmp_path):
    out = tmp_path / "benchmarks.md"
    finished = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "bench" / "run.py"), "--regions", "1", "--count", "1",
         "--types", "ec2.key_pairs", "--types", "sqs.queues", "--types", "elbv2.target_groups", "--no-peers",
         "--repetitions", "1", "--latency", "0", "--throttle", "--out", str(out)],
        capture_output=True, text=True, timeout=180)
    assert finished.returncode == 0, finished.stderr
    text = out.read_text()
    row = next(line for line in text.splitlines() if line.startswith("| CostCutter |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1:3] == ["3", "3"]   # three types, one of each seeded
    assert cells[5] == "0"            # nothing left
    assert float(cells[11]) > 0 and float(cells[12]) > 0  # the server's CPU seconds, and CostCutter's
    assert float(cells[13]) >= 0      # the event log's share of the wall time
    assert "DeleteKeyPair 1" in text and "DeleteQueue 1" in text  # calls counted at the server, per action
    # elbv2 signs as elasticloadbalancing, as elb does: its calls are counted under elbv2 all the same
    assert "| elbv2 | 1 | 0 | 1 | 2 | 2.00 | DeleteTargetGroup 1, DescribeTargetGroups 1 |" in text
    # and per type: each call under the type whose work sent it; the identity check under none
    by_type = text.split("By type:")[1]
    assert "| ec2.key_pairs | 0 | 1 | 2 | 2.00 | DeleteKeyPair 1, DescribeKeyPairs 1 |" in by_type
    assert "| sqs.queues | 0 | 1 | 2 | 2.00 | DeleteQueue 1, ListQueues 1 |" in by_type
    assert "| (other) | | | 2 | | iam:ListAccountAliases 1, sts:GetCallerIdentity 1 |" in by_type
    throttled = next(line for line in text.splitlines() if line.startswith("| CostCutter | 0.0% |"))
    assert "| 0 | 0.0 (no bucket runs out) |" in throttled  # no failure from throttling; the bound
    assert "python3 scripts/bench/run.py --regions 1" in text


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "scripts" / "bench" / "run.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_the_rate_limit_bound_counts_the_answered_calls_beyond_each_buckets_burst_and_adds_up_along_dependencies():
    bench = load_bench()
    injector = FaultInjector()
    injector.actions.update({("r", "ec2", "DeregisterImage"): 61, ("r", "ec2", "DeleteSnapshot"): 121,
                             ("r", "ec2", "DeleteVolume"): 61, ("r", "ec2", "DescribeVolumes"): 30,
                             ("r", "s3", "DeleteObjects"): 500, ("q", "ec2", "DeleteSnapshot"): 60})
    injector.faulted[("r", "ec2", "DeleteSnapshot", THROTTLED)] = 1   # throttled: not a call the run needed
    buckets = bench.bucket_seconds(Faults(throttle=bench.throttling(), buckets_per_action=True), injector)

    assert bench.rate_limit_bound(buckets) == (pytest.approx(14.0), "ec2:DeleteSnapshot in r")  # (120 - 50) / 5
    types = [registry.by_key()[key] for key in ("ec2.amis", "ec2.snapshots", "ec2.volumes", "s3.buckets")]
    assert bench.rate_limit_chain(buckets, types) == (pytest.approx(2.2 + 14.0 + 2.2),
                                                      "ec2.amis → ec2.snapshots → ec2.volumes in r")


def test_costcutter_0_1_4_runs_without_the_callers_pythonpath(tmp_path, monkeypatch):
    """With a checkout of ours on PYTHONPATH, 0.1.4's interpreter imported our costcutter
    package in place of its own, and failed at once."""
    spec = importlib.util.spec_from_file_location("bench_peers", ROOT / "scripts" / "bench" / "peers.py")
    peers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(peers)
    monkeypatch.setenv("PYTHONPATH", str(ROOT))

    argv, environment, workdir = peers.original_command(tmp_path / "bin" / "costcutter", tmp_path,
                                                        "http://127.0.0.1:1", ["us-east-1"])

    assert "PYTHONPATH" not in environment
    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:1" and workdir == tmp_path
