"""Plan, then apply: a dry run is a plan, and `costcutter apply PLAN_RUN_ID` deletes exactly
what it listed, through the CLI against a moto server on 127.0.0.1 whose middleware
records every request (the proof of what was listed, where, and what was deleted)."""

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from click.testing import CliRunner

from costcutter import config, events, sandbox
from costcutter.cli import cli
from costcutter.faults import Faults
from costcutter.store import EventStore

EAST, WEST = "us-east-1", "eu-west-1"
SELECTION = ("--region", EAST, "--region", WEST, "--service", "ec2", "--service", "s3")


def invoke(*args):
    return CliRunner().invoke(cli, [str(arg) for arg in args], catch_exceptions=False)


def make_plan(db_path) -> str:
    result = invoke("run", "--db", db_path, "--dry-run", *SELECTION)
    assert result.exit_code == 0, result.output
    return runs_of(db_path)[-1]["id"]


def runs_of(db_path) -> list[dict]:
    with EventStore(db_path, read_only=True) as store:
        return store.runs()


def states_of(db_path, run_id) -> dict[tuple[str, str], str]:
    """(region, resource id) -> the latest state the run recorded for it."""
    with EventStore(db_path, read_only=True) as store:
        return {(region, rid): state for region in (EAST, WEST, "global")
                for (_, _, rid), state in store.resource_states(run_id, region).items()}


def key_pairs(region) -> list[str]:
    return sandbox.inventory(region, services=("ec2",))["ec2.key_pairs"]


@pytest.fixture
def planned(fault_server, db_path):
    """Key pairs, a named volume and a bucket in us-east-1, key pairs in eu-west-1, and a
    dry run of EC2 and S3 in both regions: the plan. Returns (plan id, what it planned, injector)."""
    _, injector = fault_server
    made = {EAST: sandbox.seed(EAST, {"ec2.key_pairs": 3, "ec2.volumes": 1, "s3.buckets": 1}, default_count=0),
            WEST: sandbox.seed(WEST, {"ec2.key_pairs": 2}, default_count=0)}
    boto3.client("ec2", region_name=EAST).create_tags(Resources=made[EAST]["ec2.volumes"],
                                                       Tags=[{"Key": "Name", "Value": "scratch-disk"}])
    plan_id = make_plan(db_path)
    injector.clear()
    return plan_id, made, injector


def test_apply_deletes_the_plan_and_nothing_made_since(planned, db_path):
    plan_id, made, _ = planned
    ec2 = boto3.client("ec2", region_name=EAST)
    late_key = ec2.create_key_pair(KeyName="made-after-the-plan")["KeyName"]
    late_volume = ec2.create_volume(AvailabilityZone=f"{EAST}a", Size=1)["VolumeId"]
    boto3.client("s3", region_name=EAST).create_bucket(Bucket="made-after-the-plan")
    by_hand = made[EAST]["ec2.key_pairs"][0]
    ec2.delete_key_pair(KeyName=by_hand)

    result = invoke("apply", plan_id, "--db", db_path, "--yes")

    assert result.exit_code == 0, result.output
    assert f"REAL deletion of the 7 resources of plan {plan_id} (4 types and regions)" in result.output
    left = {region: {key: ids for key, ids in sandbox.inventory(region, services=("ec2", "s3")).items() if ids}
            for region in (EAST, WEST)}
    assert left == {EAST: {"ec2.key_pairs": [late_key], "ec2.volumes": [late_volume],
                           "s3.buckets": ["made-after-the-plan"]}, WEST: {}}
    apply_id = runs_of(db_path)[-1]["id"]
    planned_ids = {(region, rid) for region, kinds in made.items() for ids in kinds.values() for rid in ids}
    assert states_of(db_path, apply_id) == {
        resource: events.ALREADY_GONE if resource == (EAST, by_hand) else events.DELETED for resource in planned_ids}


def test_apply_lists_only_the_types_and_regions_of_the_plan(fault_server, db_path):
    _, injector = fault_server
    sandbox.seed(EAST, {"ec2.key_pairs": 2}, default_count=0)
    sandbox.seed(WEST, {"s3.buckets": 1}, default_count=0)
    plan_id = make_plan(db_path)
    listed_by_the_plan = {key for key in injector.actions if key[2].startswith(("Describe", "List"))}
    injector.clear()

    result = invoke("apply", plan_id, "--db", db_path, "--yes")

    assert result.exit_code == 0, result.output
    listed = {key for key in injector.actions if key[2].startswith(("Describe", "List"))}
    assert {(EAST, "ec2", "DescribeInstances"), (WEST, "ec2", "DescribeKeyPairs"),
            (EAST, "s3", "ListBuckets")} <= listed_by_the_plan  # the plan did list every type, everywhere
    assert {key for key in listed if key[1] == "ec2"} == {(EAST, "ec2", "DescribeKeyPairs")}
    assert {key for key in listed if key[1] == "s3" and key[2] == "ListBuckets"} == {(WEST, "s3", "ListBuckets")}
    assert key_pairs(EAST) == [] and sandbox.inventory(WEST, services=("s3",))["s3.buckets"] == []


def age(db_path, run_id, hours):
    connection = sqlite3.connect(db_path)
    then = (datetime.now(timezone.utc) - timedelta(hours=hours)).isoformat(timespec="microseconds")
    with connection:
        connection.execute("UPDATE runs SET created_at = ? WHERE id = ?", [then, run_id])
    connection.close()


def test_a_stale_plan_is_refused_unless_allowed(planned, db_path, monkeypatch):
    plan_id, made, injector = planned
    age(db_path, plan_id, hours=25)
    before = {region: sandbox.inventory(region, services=("ec2", "s3")) for region in (EAST, WEST)}

    refused = invoke("apply", plan_id, "--db", db_path, "--yes")

    assert refused.exit_code == 2
    assert refused.output == (f"Error: plan {plan_id} is 25 hours old, older than max_plan_age_hours (24); make a "
                              "new plan, or pass --allow-stale-plan to apply it all the same\n")
    assert {region: sandbox.inventory(region, services=("ec2", "s3")) for region in (EAST, WEST)} == before
    assert len(runs_of(db_path)) == 1
    monkeypatch.setenv("COSTCUTTER_MAX_PLAN_AGE_HOURS", "26")
    assert invoke("apply", plan_id, "--db", db_path, "--yes").exit_code == 0
    assert key_pairs(EAST) == []


def test_a_stale_plan_is_applied_with_allow_stale_plan(planned, db_path):
    plan_id, made, _ = planned
    age(db_path, plan_id, hours=100)
    result = invoke("apply", plan_id, "--db", db_path, "--yes", "--allow-stale-plan")
    assert result.exit_code == 0, result.output
    assert key_pairs(EAST) == [] and key_pairs(WEST) == []


def _recorded_run(db_path, dry_run, *kinds) -> str:
    settings = config.load(flags={"regions": [EAST], "services": ["ec2.key_pairs"], "database": str(db_path)})
    with EventStore(db_path) as store:
        run_id = store.create_run(settings.to_dict(), "123456789012", dry_run)
        for kind in kinds:
            store.record(run_id, kind)
    return run_id


@pytest.mark.parametrize("case, message", [
    ("real run", "Error: run {id} is a real run, not a plan; apply a dry run's id (`costcutter runs` lists them as "
                 "`dry run`)"),
    ("interrupted plan", "Error: plan {id} did not finish (interrupted), so it may not list everything; finish it "
                         "with `costcutter run --resume {id}`, or make a new plan"),
    ("plan with a unit not listed", "Error: plan {id} did not finish (1 of its units could not be listed), so it "
                                    "may not list everything; finish it with `costcutter run --resume {id}`, or make "
                                    "a new plan"),
    ("unknown run", "Error: no run 'nosuchid' in {db}; `costcutter runs` lists the runs"),
])
def test_what_is_not_a_finished_plan_is_refused_in_one_line(db_path, case, message):
    run_id = {"real run": lambda: _recorded_run(db_path, False, events.RUN_STARTED, events.RUN_FINISHED),
              "interrupted plan": lambda: _recorded_run(db_path, True, events.RUN_STARTED, events.RUN_INTERRUPTED),
              "plan with a unit not listed": lambda: _recorded_run(db_path, True, events.RUN_STARTED, events.FAILED,
                                                                   events.RUN_FINISHED),
              "unknown run": lambda: _recorded_run(db_path, True) and "nosuchid"}[case]()
    runs_before = len(runs_of(db_path))

    result = invoke("apply", run_id, "--db", db_path, "--yes")

    assert result.exit_code == 2
    assert result.output == message.format(id=run_id, db=db_path) + "\n"
    assert len(runs_of(db_path)) == runs_before


def test_runs_and_report_show_the_link_and_a_plan_reads_as_one(planned, db_path):
    plan_id, made, _ = planned
    assert invoke("apply", plan_id, "--db", db_path, "--yes").exit_code == 0
    apply_id = runs_of(db_path)[-1]["id"]

    listing = invoke("runs", "--db", db_path).output
    assert f"applies {plan_id}" in next(line for line in listing.splitlines() if line.startswith(apply_id))
    assert f"real deletion, applying plan {plan_id}," in invoke("report", apply_id, "--db", db_path).output
    assert json.loads(invoke("report", apply_id, "--db", db_path, "--json").output)["run"]["plan_run_id"] == plan_id

    text = invoke("report", plan_id, "--db", db_path).output
    volume = made[EAST]["ec2.volumes"][0]
    assert f"Plan {plan_id}: 7 resources would be deleted. Delete exactly these with: costcutter apply {plan_id}" in text
    assert any(line.split() == [EAST, "ec2", "volumes", volume, "scratch-disk"] for line in text.splitlines())
    shown = {tuple(line.split()[:4]) for line in text.split(f"costcutter apply {plan_id}")[1].splitlines()[4:]}
    as_json = json.loads(invoke("report", plan_id, "--db", db_path, "--json").output)["plan"]
    as_csv = list(csv.DictReader(io.StringIO(invoke("report", plan_id, "--db", db_path, "--plan", "--csv", "-").output)))
    expected = {(region, *key.split("."), rid) for region, kinds in made.items()
                for key, ids in kinds.items() for rid in ids}
    for rows in (as_json, as_csv):
        assert {(r["region"], r["service"], r["resource_type"], r["resource_id"]) for r in rows} == expected
        assert next(r for r in rows if r["resource_id"] == volume)["name"] == "scratch-disk"
    assert shown == expected
    assert as_csv == [{key: as_cell(value) for key, value in row.items()} for row in as_json]


def as_cell(value) -> str:
    """A JSON value as the CSV writes it: nothing for null, a mapping as JSON."""
    return "" if value is None else json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)


def test_report_plan_of_a_real_run_is_refused(planned, db_path):
    plan_id, _, _ = planned
    invoke("apply", plan_id, "--db", db_path, "--yes")
    apply_id = runs_of(db_path)[-1]["id"]
    result = invoke("report", apply_id, "--db", db_path, "--plan")
    assert result.exit_code == 2
    assert result.output == (f"Error: run {apply_id} is a real run, not a plan; --plan reports a dry run "
                             "(see `costcutter runs`)\n")


def test_a_resource_protected_after_the_plan_survives_the_apply(planned, db_path):
    plan_id, made, _ = planned
    protected = made[EAST]["ec2.volumes"][0]
    boto3.client("ec2", region_name=EAST).create_tags(Resources=[protected],
                                                       Tags=[{"Key": "costcutter:protect", "Value": "yes"}])
    result = invoke("apply", plan_id, "--db", db_path, "--yes")
    assert result.exit_code == 0, result.output
    assert sandbox.inventory(EAST, services=("ec2",))["ec2.volumes"] == [protected]
    assert states_of(db_path, runs_of(db_path)[-1]["id"])[EAST, protected] == events.SKIPPED


# Stopped in the middle, then resumed: the restriction comes from the log, not from memory.

def costcutter(db_path, *args) -> subprocess.Popen:
    environment = {**os.environ, "COSTCUTTER_THREADS_PER_RESOURCE_TYPE": "2", "COSTCUTTER_WAIT_TIMEOUT": "5"}
    return subprocess.Popen([sys.executable, "-m", "costcutter", *args, "--db", str(db_path)], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def wait_for_deletions(db_path, run_id, at_least, process, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the apply ended before it could be stopped:\n" + process.stdout.read()
        with EventStore(db_path, read_only=True) as store:
            if store.event_counts(run_id).get(events.DELETED, 0) >= at_least:
                return
        time.sleep(0.05)
    raise AssertionError("the apply deleted too little in time")


def test_an_apply_killed_in_the_middle_resumes_with_its_plan(fault_server, db_path):
    _, injector = fault_server
    planned_keys = sandbox.seed(EAST, {"ec2.key_pairs": 20}, default_count=0)["ec2.key_pairs"]
    plan_id = make_plan(db_path)
    ec2 = boto3.client("ec2", region_name=EAST)
    late = sorted(ec2.create_key_pair(KeyName=f"late-{n}")["KeyName"] for n in range(3))
    injector.configure(Faults(latency={"ec2:DeleteKeyPair": 0.2}))
    injector.clear()

    process = costcutter(db_path, "apply", plan_id, "--yes")
    deadline = time.monotonic() + 60
    while len(runs_of(db_path)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    apply_id = runs_of(db_path)[-1]["id"]
    wait_for_deletions(db_path, apply_id, at_least=4, process=process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    injector.wait_until_idle()
    deleted_before = injector.per_resource(["ec2:DeleteKeyPair"]).total()
    later = ec2.create_key_pair(KeyName="made-while-stopped")["KeyName"]

    resumed = costcutter(db_path, "run", "--resume", apply_id, "--yes")
    output, _ = resumed.communicate(timeout=180)

    assert resumed.returncode == 0, output
    assert f"REAL deletion of the 20 resources of plan {plan_id}" in output
    deletions = injector.per_resource(["ec2:DeleteKeyPair"])
    assert deleted_before < deletions.total() == len(planned_keys)  # the resume had work left, none done twice
    assert set(deletions) == {(EAST, key) for key in planned_keys}
    assert key_pairs(EAST) == sorted([*late, later])
    assert set(states_of(db_path, apply_id).values()) == {events.DELETED}
    with EventStore(db_path, read_only=True) as store:
        assert store.status(apply_id) == "finished"
