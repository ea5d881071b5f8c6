"""Two runs on one event log at the same time, as two scheduled sweeps of different
regions or services would be: both finish, each counts only its own work, and the log
stays whole.

The CLI runs twice as subprocesses, started together on a log that does not exist yet,
against the fault-injecting moto server with deletions slowed down so the runs overlap.
"""

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from costcutter import registry, sandbox
from costcutter.faults import Faults, deletions_of

SEEDED = {"ec2.key_pairs": 6, "ec2.security_groups": 3, "ec2.volumes": 2, "s3.buckets": 2}
US, EU = "us-east-1", "eu-west-1"


def start(db_path, region: str, service: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "costcutter", "run", "--region", region, "--service", service, "--no-dry-run", "--yes",
         "--db", str(db_path)], env={**os.environ, "COSTCUTTER_THREADS_PER_RESOURCE_TYPE": "2"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def given(region: str, service: str) -> dict[str, int]:
    """How many resources of each type the run of this region and service is given."""
    return {key.split(".")[1]: len(ids) for key, ids in sandbox.inventory(region).items()
            if key.startswith(f"{service}.") and ids}


def deleted_by_run(db_path, output: str) -> dict[tuple[str, str], int]:
    run_id = re.match(r"Run (\w+): REAL deletion", output).group(1)
    report = subprocess.run([sys.executable, "-m", "costcutter", "report", run_id, "--json", "--db", str(db_path)],
                            capture_output=True, text=True, check=True)
    return {(row["region"], row["resource_type"]): row["count"] for row in json.loads(report.stdout)["summary"]
            if row["outcome"] == "deleted"}


@pytest.mark.parametrize("first, second", [
    pytest.param((US, "ec2"), (EU, "ec2"), id="different-regions"),
    pytest.param((US, "ec2"), (US, "s3"), id="different-services"),
])
def test_two_runs_on_one_log_at_once_both_finish_and_count_only_their_own(fault_server, db_path, first, second):
    _, injector = fault_server
    for region, service in (first, second):
        sandbox.seed(region, SEEDED, default_count=0, services=(service,))
    expected = [given(*first), given(*second)]
    slowed = deletions_of(t for t in registry.resource_types() if t.service in ("ec2", "s3"))
    injector.configure(Faults(latency={pattern: 0.1 for pattern in slowed}))

    runs = [start(db_path, *first), start(db_path, *second)]
    outputs = [run.communicate(timeout=180)[0] for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    for (region, _), counts, output in zip((first, second), expected, outputs):
        assert deleted_by_run(db_path, output) == {(region, name): n for name, n in counts.items()}
    for region in {first[0], second[0]}:
        assert {key: ids for key, ids in sandbox.inventory(region).items() if ids and key in SEEDED} == {}
    connection = sqlite3.connect(db_path)
    spans = connection.execute("SELECT min(seq), max(seq) FROM events GROUP BY run_id").fetchall()
    assert len(spans) == 2 and max(start for start, _ in spans) < min(end for _, end in spans)  # at the same time
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()
