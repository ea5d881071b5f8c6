"""Stopping a real run in the middle, every way it can stop, then resuming it.

The costcutter CLI runs as a subprocess against a moto server on 127.0.0.1 whose every
delete request is noted (and slowed down, so there is a middle to stop in): that record,
not the event log, is the proof that nothing is deleted twice.
"""

import io
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from costcutter import sandbox
from costcutter.store import EventStore

REGIONS = ("us-east-1", "eu-west-1")
DELETE_ACTIONS = {"TerminateInstances", "DeregisterImage", "DeleteSnapshot", "DeleteVolume", "ReleaseAddress",
                  "DeleteKeyPair", "DeleteSecurityGroup", "DeleteAutoScalingGroup", "DeleteLaunchConfiguration",
                  "DeleteNatGateway", "DeleteNetworkInterface", "DeleteInternetGateway",
                  "DeleteEgressOnlyInternetGateway", "DeleteSubnet", "DeleteRouteTable", "DeleteNetworkAcl",
                  "DeleteVpcEndpoints", "DeleteVpcPeeringConnection", "DeleteVpc", "DeleteLaunchTemplate",
                  "CancelSpotInstanceRequests", "CancelSpotFleetRequests", "DeleteTransitGateway",
                  "DeleteTransitGatewayVpcAttachment", "DeleteCustomerGateway", "DeleteVpnGateway",
                  "DeleteVpnConnection", "ReleaseHosts"}
NOT_IDS = {"Action", "Version", "AssociationId", "ForceDelete", "TerminateInstances"}  # parameters that name no resource
DELETE_DELAY_SECONDS = 0.1
MANY = {"ec2.key_pairs": 25, "ec2.snapshots": 10, "ec2.security_groups": 8, "ec2.volumes": 6}  # the rest: 3 each


class DeleteRecorder:
    """WSGI middleware: notes each delete request with the resources it names, then lets it through."""

    def __init__(self, app):
        self.app = app
        self.calls: list[tuple[str, str]] = []  # (region, resource id)
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        deleted = self._deleted_resources(environ)
        if deleted:
            with self._lock:
                self.calls.extend(deleted)
            time.sleep(DELETE_DELAY_SECONDS)
        return self.app(environ, start_response)

    def _deleted_resources(self, environ):
        """(region, resource id) of each resource the request deletes; the region is read
        from the request's signature, since key pair names repeat across regions."""
        region = environ.get("HTTP_AUTHORIZATION", "").split("Credential=")[-1].split("/")[2:3]
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        if method == "DELETE" and path.strip("/").count("/") == 0 and not environ.get("QUERY_STRING"):
            return [(*region, path.strip("/"))]
        if method != "POST" or "form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
            return []
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        params = urllib.parse.parse_qs(body.decode())
        action = params.get("Action", [""])[0]
        if action not in DELETE_ACTIONS:
            return []
        return [(*region, value) for key, values in params.items() if key not in NOT_IDS for value in values]

    def per_resource(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for call in self.calls:
            counts[call] = counts.get(call, 0) + 1
        return counts


@pytest.fixture(scope="module")
def recording_server():
    recorder = {}

    def wrap(app):
        recorder["app"] = DeleteRecorder(app)
        return recorder["app"]

    server, endpoint = sandbox.start_server(wrap_app=wrap)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    yield endpoint, recorder["app"]
    server.stop()


@pytest.fixture
def sandbox_with_recorder(recording_server, monkeypatch):
    endpoint, recorder = recording_server
    sandbox.reset_server(endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    made = {region: sandbox.seed(region, MANY, default_count=3) for region in REGIONS}
    recorder.calls.clear()
    return made, recorder


def costcutter(db_path, *args) -> subprocess.Popen:
    environment = {**os.environ, "COSTCUTTER_THREADS_PER_SUBRESOURCE": "2", "COSTCUTTER_WAIT_TIMEOUT": "5"}
    return subprocess.Popen([sys.executable, "-m", "costcutter", *args, "--db", str(db_path)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def start_real_run(db_path) -> subprocess.Popen:
    regions = [arg for region in REGIONS for arg in ("--region", region)]
    return costcutter(db_path, "run", *regions, "--no-dry-run", "--yes")


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
    counts = recorder.per_resource()
    assert {call: n for call, n in counts.items() if n > 1} == {}, "deleted more than once"
    seeded = {(region, rid) for region in REGIONS for ids in made[region].values() for rid in ids}
    assert {resource for resource in seeded if counts.get(resource) != 1} == set()
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
    deletions_before = len(recorder.calls)
    assert EventStore(db_path).status(run_id) == "incomplete"

    code, output = resume(db_path, run_id)

    assert code == 0, output
    assert len(recorder.calls) > deletions_before  # the kill did leave work for the resume
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
    os.kill(_region_processes(process.pid)[0], signal.SIGKILL)
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


def _region_processes(parent_pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent_pid and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
            children.append(int(stat.parent.name))
    assert children, "no region process found"
    return children
