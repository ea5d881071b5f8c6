"""Every way a run can be stopped ends in bounded time, with the run recorded as
interrupted (or resumable) and no CostCutter process left behind.

The CLI runs as a subprocess, in a session of its own, against the fault-injecting moto
server, with every deletion slowed down so there is a middle to stop in.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costcutter import registry, sandbox
from costcutter.faults import Faults, deletions_of
from costcutter.killloop import region_processes, session_processes
from costcutter.store import EventStore, StoreError

REGIONS = ("us-east-1", "eu-west-1")
SERVICES = ("ec2",)
SLOW_DELETE_SECONDS = 0.3
STOPPED_WITHIN_SECONDS = 60


@pytest.fixture
def slow_sandbox(fault_server):
    _, injector = fault_server
    for region in REGIONS:
        sandbox.seed(region, {"ec2.key_pairs": 30}, default_count=0)
    types = [t for t in registry.resource_types() if t.service in SERVICES]
    injector.configure(Faults(latency={pattern: SLOW_DELETE_SECONDS for pattern in deletions_of(types)}))


def start(db_path: Path, *wrapper: str) -> subprocess.Popen:
    command = [*wrapper, sys.executable, "-m", "costcutter", "run", "--no-dry-run", "--yes", "--db", str(db_path),
               *[arg for region in REGIONS for arg in ("--region", region)],
               *[arg for service in SERVICES for arg in ("--service", service)]]
    environment = {**os.environ, "COSTCUTTER_THREADS_PER_RESOURCE_TYPE": "2"}
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def deleting(db_path: Path, process: subprocess.Popen, at_least: int = 4) -> str:
    """Wait until the run has deleted something; returns its id."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be stopped:\n" + process.stdout.read()
        try:
            with EventStore(db_path, read_only=True) as store:
                runs = store.runs()
        except StoreError:  # not made yet, or made but its tables not yet written
            runs = []
        if runs and runs[0]["deleted"] >= at_least:
            return runs[0]["id"]
        time.sleep(0.1)
    raise AssertionError("the run deleted too little in time")


def assert_nothing_left_running(session: int, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while session_processes(session) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert session_processes(session) == []


def assert_interrupted(process: subprocess.Popen, db_path: Path, run_id: str) -> str:
    output, _ = process.communicate(timeout=STOPPED_WITHIN_SECONDS)
    assert process.returncode == 130, output
    with EventStore(db_path, read_only=True) as store:
        assert store.status(run_id) == "interrupted"
    assert_nothing_left_running(process.pid)
    return output


@pytest.mark.parametrize("stop", [
    pytest.param(lambda process: process.send_signal(signal.SIGINT), id="ctrl-c"),
    pytest.param(lambda process: process.send_signal(signal.SIGTERM), id="sigterm-to-the-main-process"),
    pytest.param(lambda process: os.killpg(process.pid, signal.SIGTERM), id="sigterm-to-the-process-group"),
])
def test_a_stop_finishes_the_deletions_in_flight_and_exits_130(slow_sandbox, db_path, stop):
    process = start(db_path)
    run_id = deleting(db_path, process)
    stop(process)
    output = assert_interrupted(process, db_path, run_id)
    assert f"costcutter run --resume {run_id}" in output
    with EventStore(db_path, read_only=True) as store:
        assert store.outcome_counts(run_id)["pending"] == 0  # every deletion sent got its answer recorded


def test_timeout_stops_a_run_like_sigterm(slow_sandbox, db_path):
    """timeout(1) signals the command's whole process group; told to stop early (rather
    than at a deadline a loaded machine may reach before the run starts), it does the same."""
    process = start(db_path, "timeout", "--preserve-status", "600")
    run_id = deleting(db_path, process)
    process.send_signal(signal.SIGTERM)
    assert_interrupted(process, db_path, run_id)


def test_a_second_ctrl_c_stops_at_once(slow_sandbox, db_path):
    process = start(db_path)
    run_id = deleting(db_path, process)
    process.send_signal(signal.SIGINT)
    time.sleep(SLOW_DELETE_SECONDS / 3)  # while the first stop still waits for the deletions in flight
    process.send_signal(signal.SIGINT)
    output = assert_interrupted(process, db_path, run_id)
    assert "stopped at once" in output


def test_ctrl_c_after_a_region_process_died_still_stops(slow_sandbox, db_path):
    """A process killed while the others wait on a shared lock could leave the stop hanging forever."""
    process = start(db_path)
    run_id = deleting(db_path, process)
    os.kill(region_processes(process.pid)[0], signal.SIGKILL)
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    assert_interrupted(process, db_path, run_id)


def test_killing_the_main_process_alone_leaves_no_region_process_behind(slow_sandbox, db_path):
    process = start(db_path)
    run_id = deleting(db_path, process)
    workers = region_processes(process.pid)
    assert workers
    process.kill()
    process.wait()
    assert_nothing_left_running(process.pid)  # they stop after the deletions in flight, then exit
    with EventStore(db_path, read_only=True) as store:
        assert store.status(run_id) == "incomplete"  # resumable: test_resume.py resumes such runs
