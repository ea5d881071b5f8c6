"""Stopping a real run in the middle, every way it can stop, then resuming it.

The costcutter CLI runs as a subprocess against a moto server on 127.0.0.1 that records
every mutating request (and slows deletions down, so there is a middle to stop in): that
record, not the event log, is the proof that nothing is deleted twice.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from costcutter import registry, sandbox
from costcutter.faults import Faults, deletions_of
from costcutter.killloop import region_processes
from costcutter.store import EventStore

REGIONS = ("us-east-1", "eu-west-1")
SERVICES = ("ec2", "s3")  # enough to stop in the middle of; the engine does the same for every type
DELETE_ACTIONS = deletions_of(t for t in registry.resource_types() if t.service in SERVICES)
DELETE_DELAY_SECONDS = 0.1
MANY = {"ec2.key_pairs": 25, "ec2.snapshots": 10, "ec2.security_groups": 8, "ec2.volumes": 6}  # the rest: 3 each
RECORDED_SERVICES = ("ec2", "s3")  # those whose delete requests DeleteRecorder reads; the others are swept empty


@pytest.fixture
def sandbox_with_recorder(fault_server):
    _, injector = fault_server
    made = {region: sandbox.seed(region, MANY, default_count=3, services=SERVICES) for region in REGIONS}
    injector.configure(Faults(latency={pattern: DELETE_DELAY_SECONDS for pattern in DELETE_ACTIONS}))
    injector.clear()
    return made, injector


def costcutter(db_path, *args) -> subprocess.Popen:
    environment = {**os.environ, "COSTCUTTER_THREADS_PER_RESOURCE_TYPE": "2", "COSTCUTTER_WAIT_TIMEOUT": "5"}
    return subprocess.Popen([sys.executable, "-m", "costcutter", *args, "--db", str(db_path)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def start_real_run(db_path) -> subprocess.Popen:
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    services = [arg for service in SERVICES for arg in ("--service", service)]
    return costcutter(db_path, "run", *regions, *services, "--no-dry-run", "--yes")


def wait_for_deletions(db_path: Path, at_least: int, process: subprocess.Popen, timeout=60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be stopped:\n" + process.stdout.read()
        if db_path.exists():
            store = EventStore(db_path)
            runs = store.runs()
            if runs and store.event_counts(runs[0]["id"]).get("deleted", 0) >= at_least:
                return runs[0]["id"]
        time.sleep(0.05)
    raise AssertionError("the run deleted too little in time")


def all_events(db_path, run_id):
    return [tuple(event.values()) for event in EventStore(db_path).events(run_id)]


def resume(db_path, run_id) -> tuple[int, str]:
    process = costcutter(db_path, "run", "--resume", run_id, "--yes")
    output, _ = process.communicate(timeout=180)
    return process.returncode, output


def assert_everything_deleted_once(made, recorder, db_path, run_id):
    for region in REGIONS:
        assert {kind: ids for kind, ids in sandbox.inventory(region).items() if ids} == {}
    counts = recorder.per_resource(DELETE_ACTIONS)
    assert {call: n for call, n in counts.items() if n > 1} == {}, "deleted more than once"
    seeded = {(region, rid) for region in REGIONS for ids in made[region].values() for rid in ids}
    recorded = {(region, rid) for region in REGIONS for kind, ids in made[region].items()
                if kind.split(".")[0] in RECORDED_SERVICES for rid in ids}
    assert {resource for resource in recorded if counts.get(resource) != 1} == set()
    store = EventStore(db_path)
    states = {(region, rid): state for region in REGIONS
              for (_, _, rid), state in store.resource_states(run_id, region).items()}
    assert {resource for resource in seeded if states.get(resource) != "deleted"} == set()


def test_kill_9_in_the_middle_then_resume_finishes_without_deleting_twice(sandbox_with_recorder, db_path):
    made, recorder = sandbox_with_recorder
    process = start_real_run(db_path)
    run_id = wait_for_deletions(db_path, at_least=15, process=process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    before = all_events(db_path, run_id)
    deletions_before = recorder.per_resource(DELETE_ACTIONS).total()
    assert EventStore(db_path).status(run_id) == "incomplete"

    code, output = resume(db_path, run_id)

    assert code == 0, output
    assert recorder.per_resource(DELETE_ACTIONS).total() > deletions_before  # the kill did leave work for the resume
    after = all_events(db_path, run_id)
    assert after[:len(before)] == before  # nothing written before the kill was lost or changed
    assert EventStore(db_path).status(run_id) == "finished"
    assert_everything_deleted_once(made, recorder, db_path, run_id)


def test_ctrl_c_stops_cleanly_exits_130_and_resume_finishes(sandbox_with_recorder, db_path):
    made, recorder = sandbox_with_recorder
    process = start_real_run(db_path)
    run_id = wait_for_deletions(db_path, at_least=10, process=process)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)
    assert process.returncode == 130, output
    assert f"costcutter run --resume {run_id}" in output
    store = EventStore(db_path)
    assert store.status(run_id) == "interrupted"
    assert store.outcome_counts(run_id)["pending"] == 0  # deletions in flight were finished and recorded

    code, output = resume(db_path, run_id)

    assert code == 0, output
    assert_everything_deleted_once(made, recorder, db_path, run_id)


def test_a_crashed_region_process_is_recorded_and_retried(sandbox_with_recorder, db_path):
    made, recorder = sandbox_with_recorder
    process = start_real_run(db_path)
    run_id = wait_for_deletions(db_path, at_least=5, process=process)
    os.kill(region_processes(process.pid)[0], signal.SIGKILL)
    output, _ = process.communicate(timeout=180)
    assert process.returncode == 0, output
    crashes = [e for e in EventStore(db_path).events(run_id) if e["kind"] == "region_crashed"]
    assert crashes and "retrying the region" in crashes[0]["message"]
    assert_everything_deleted_once(made, recorder, db_path, run_id)


def test_two_resumes_started_at_once_one_goes_on_the_other_is_refused(sandbox_with_recorder, db_path):
    made, recorder = sandbox_with_recorder
    process = start_real_run(db_path)
    run_id = wait_for_deletions(db_path, at_least=5, process=process)
    os.killpg(process.pid, signal.SIGKILL)  # its claim on the run stays behind, held by a dead process
    process.wait()

    resumes = [costcutter(db_path, "run", "--resume", run_id, "--yes") for _ in range(2)]
    outputs = [resume.communicate(timeout=180)[0] for resume in resumes]

    codes = [resume.returncode for resume in resumes]
    assert sorted(codes) == [0, 2], outputs
    going_on = resumes[codes.index(0)]
    assert re.fullmatch(rf"Error: run {run_id} is being run by pid {going_on.pid} on host \S+ since [^;]+ UTC; .*",
                        outputs[codes.index(2)].strip())
    assert_everything_deleted_once(made, recorder, db_path, run_id)


def test_a_run_going_on_cannot_be_resumed_by_another_process(sandbox_with_recorder, db_path):
    process = start_real_run(db_path)
    run_id = wait_for_deletions(db_path, at_least=1, process=process)

    code, output = resume(db_path, run_id)

    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    assert code == 2
    assert output.startswith(f"Error: run {run_id} is being run by pid {process.pid} on host ")
