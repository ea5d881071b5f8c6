"""The conventions people bring from other command lines and from the AWS CLI: JSON for
machines, -q/-v/--log-level, --profile and --assume-role-arn, --exclude-region, a
warning for a misspelt variable, and shell completion. Runs go to the moto server on
127.0.0.1; nothing reaches AWS."""

import json
import os
import subprocess
import sys

import boto3
import pytest
from click.shell_completion import BashComplete
from click.testing import CliRunner

from costcutter import aws, sandbox
from costcutter.cli import cli
from costcutter.store import EventStore

OTHER_ACCOUNT = "111111111111"
ROLE = f"arn:aws:iam::{OTHER_ACCOUNT}:role/cleaner"


def invoke(*args, env=None):
    return CliRunner().invoke(cli, [str(arg) for arg in args], env=env, catch_exceptions=False)


def costcutter(*args, **environment):
    """The command in a process of its own, stdout and stderr apart, neither a terminal."""
    return subprocess.run([sys.executable, "-m", "costcutter", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **environment}, timeout=300)


def the_run(db_path):
    with EventStore(db_path) as store:
        (row,) = store.runs()
        return store.run(row["id"])


# Output for machines, and how much is said

def test_run_output_json_is_one_document_on_stdout_and_the_text_goes_to_stderr(sandbox_endpoint, db_path):
    sandbox.seed("us-east-1", default_count=1, services=("s3",))
    result = costcutter("run", "--db", db_path, "--region", "us-east-1", "--service", "s3", "--output", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["exit_code"] == 0
    assert document["run"]["id"] == the_run(db_path)["id"] and document["run"]["status"] == "finished"
    assert document["totals"]["would_delete"] == 1
    assert "Run " in result.stderr and "would_delete" in result.stderr  # the table, for the person watching


def test_runs_and_services_output_json(sandbox_endpoint, db_path):
    invoke("run", "--db", db_path, "--region", "us-east-1", "--service", "s3")
    runs = json.loads(costcutter("runs", "--db", db_path, "--output", "json").stdout)
    assert runs["database"] == str(db_path)
    assert [run["status"] for run in runs["runs"]] == ["finished"]
    services = json.loads(costcutter("services", "--output", "json").stdout)
    by_key = {item["key"]: item for item in services}
    assert by_key["ec2.volumes"]["depends_on"] == ["ec2.instances", "ec2.snapshots"]
    assert by_key["iam.roles"]["scope"] == "global"


def test_runs_output_json_with_no_runs_is_an_empty_list(db_path):
    EventStore(db_path).close()
    result = invoke("runs", "--db", db_path, "--output", "json")
    assert json.loads(result.stdout) == {"database": str(db_path), "runs": []}


def test_verbose_shows_the_diagnostic_log_on_stderr_and_log_level_sets_its_level(sandbox_endpoint, db_path, tmp_path):
    real = ("run", "--db", db_path, "--region", "us-east-1", "--service", "s3", "--no-dry-run", "--yes")
    for level in ("debug", "warning"):
        sandbox.seed("us-east-1", default_count=1, services=("s3",))
        result = costcutter("--log-level", level, *real, COSTCUTTER_LOG_DIR=str(tmp_path / level))
        assert result.returncode == 0, result.stderr
        assert "" == result.stderr  # the file only
    assert " DEBUG " in (tmp_path / "debug" / "costcutter.log").read_text()
    assert " DEBUG " not in (tmp_path / "warning" / "costcutter.log").read_text()
    sandbox.seed("us-east-1", default_count=1, services=("s3",))
    result = costcutter(*real, "-vv", COSTCUTTER_LOG_DIR=str(tmp_path / "verbose"))
    assert result.returncode == 0, result.stderr
    # A region process's record, through the main process, on stderr.
    assert any(line.startswith("DEBUG ") and "deleted us-east-1 buckets" in line for line in result.stderr.splitlines())


def test_a_misspelt_variable_is_a_warning_and_the_command_goes_on(sandbox_endpoint, db_path):
    result = costcutter("run", "--db", db_path, "--region", "us-east-1", "--service", "s3",
                        COSTCUTTER_REGOINS="eu-west-1")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == (
        "Warning: ignoring the environment variable COSTCUTTER_REGOINS: CostCutter has no config key 'regoins'; "
        "did you mean COSTCUTTER_REGIONS?")
    assert the_run(db_path)["config"]["regions"] == ["us-east-1"]


# Regions, profiles and roles

def test_exclude_region_leaves_regions_out_of_a_list_and_of_all(sandbox_endpoint, db_path):
    result = invoke("run", "--db", db_path, "--service", "s3", "--region", "us-east-1,eu-west-1,us-west-2",
                    "--exclude-region", "eu-west-1", "--exclude-region", "us-west-2,ap-south-1")
    assert result.exit_code == 0, result.output
    assert the_run(db_path)["config"]["regions"] == ["us-east-1"]
    assert the_run(db_path)["config"]["excluded_regions"] == []  # resolved: a resume sweeps what this run chose

    db_all = db_path.with_name("all.db")
    enabled = sorted(r["RegionName"] for r in boto3.client("ec2", region_name="us-east-1").describe_regions()["Regions"])
    result = invoke("run", "--db", db_all, "--service", "s3", "--region", "all", "--exclude-region", "us-east-1")
    assert result.exit_code == 0, result.output
    with EventStore(db_all) as store:
        assert store.run(store.latest_run_id())["config"]["regions"] == [r for r in enabled if r != "us-east-1"]


def test_profile_names_the_aws_profile_to_use(sandbox_endpoint, db_path, tmp_path, monkeypatch):
    aws_config = tmp_path / "aws_config"
    aws_config.write_text("[profile sandbox]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
                          "region = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    for variable in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(variable)
    result = invoke("run", "--db", db_path, "--region", "us-east-1", "--service", "s3", "--profile", "sandbox")
    assert result.exit_code == 0, result.output
    assert the_run(db_path)["config"]["aws_profile"] == "sandbox"
    # Without the flag there are no credentials at all: the profile is what made the run work.
    assert invoke("run", "--db", db_path, "--region", "us-east-1", "--service", "s3").exit_code == 2


def test_the_assumed_role_carries_the_session_name_and_external_id_to_sts(sandbox_endpoint):
    session = aws.make_session(aws.Identity(role_arn=ROLE, external_id="ext-42", role_session_name="tidy-up"))
    identity = session.client("sts", region_name="us-east-1").get_caller_identity()
    assert identity["Account"] == OTHER_ACCOUNT
    assert identity["Arn"] == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/cleaner/tidy-up"


def test_assume_role_sweeps_the_roles_account_in_every_region_process(sandbox_endpoint, db_path, tmp_path):
    """moto keeps one set of resources per account, and the credentials AssumeRole gives
    belong to the role's account: a bucket of the other account is deleted only if the
    region processes act as the role, and the bucket of the caller's own account stays."""
    assumed = aws.make_session(aws.Identity(role_arn=ROLE))
    for region in ("us-east-1", "eu-west-1"):
        assumed.client("s3", region_name=region).create_bucket(
            Bucket=f"role-account-{region}",
            **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}))
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="own-account")
    log_dir = tmp_path / "logs"
    result = invoke("run", "--db", db_path, "--region", "us-east-1,eu-west-1", "--service", "s3", "--no-dry-run",
                    "--yes", "--assume-role-arn", ROLE, "--external-id", "ext-42", "--role-session-name", "tidy-up",
                    "-v", env={"COSTCUTTER_LOG_DIR": str(log_dir)})
    assert result.exit_code == 0, result.output
    assert assumed.client("s3", region_name="us-east-1").list_buckets()["Buckets"] == []
    assert [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]] == ["own-account"]
    run = the_run(db_path)
    assert run["account_id"] == OTHER_ACCOUNT
    assert {key: run["config"][key] for key in ("assume_role_arn", "external_id", "role_session_name")} == {
        "assume_role_arn": ROLE, "external_id": "ext-42", "role_session_name": "tidy-up"}
    # The temporary credentials are nowhere: moto's session tokens start with FQoGZXIvYXdz, its keys with ASIA.
    credentials = assumed.get_credentials().get_frozen_credentials()
    stored = b"".join(path.read_bytes() for path in db_path.parent.glob("events.db*")).decode("latin-1")
    for text in (stored, (log_dir / "costcutter.log").read_text(), result.output):
        assert "FQoGZXIvYXdz" not in text and credentials.secret_key not in text and "ASIA" not in text


def test_resume_acts_as_the_role_the_run_started_with(sandbox_endpoint, db_path):
    invoke("run", "--db", db_path, "--region", "us-east-1", "--service", "s3", "--assume-role-arn", ROLE)
    run_id = the_run(db_path)["id"]
    with EventStore(db_path) as store:  # as if it had stopped before its first unit
        store.db.execute("DELETE FROM events WHERE run_id = ? AND kind != 'run_started'", [run_id])
        store.db.conn.commit()
    result = invoke("run", "--db", db_path, "--resume", run_id)
    assert result.exit_code == 0, result.output
    assert "Resuming run" in result.output


# Shell completion

def completions(*args, incomplete=""):
    complete = BashComplete(cli, {}, "costcutter", "_COSTCUTTER_COMPLETE")
    return [item.value for item in complete.get_completions([str(arg) for arg in args], incomplete)]


def test_commands_and_options_complete():
    assert {"run", "runs", "report"} <= set(completions(incomplete="r"))
    assert completions("run", incomplete="--exclude-") == ["--exclude-region", "--exclude-service", "--exclude-tag",
                                                            "--exclude-id"]
    assert "--assume-role-arn" in completions("run", incomplete="--")


def test_services_and_types_complete_from_the_registry():
    assert completions("run", "--service", incomplete="ec2.n") == ["ec2.nat_gateways", "ec2.network_acls",
                                                                    "ec2.network_interfaces"]
    assert {"s3", "sqs", "sns", "s3.buckets"} <= set(completions("run", "--exclude-service", incomplete="s"))


def test_regions_complete_offline_also_after_a_comma():
    assert "eu-west-1" in completions("run", "--region", incomplete="eu-w")
    assert completions("run", "--region", incomplete="al") == ["all"]
    assert "us-east-1,eu-west-2" in completions("run", "--region", incomplete="us-east-1,eu-west-")
    assert "all" not in completions("run", "--exclude-region", incomplete="")


def test_run_ids_complete_from_the_event_log_and_a_bad_log_completes_nothing(db_path, tmp_path):
    with EventStore(db_path) as store:
        ids = [store.create_run({}, "123456789012", dry_run=True) for _ in range(2)]
    assert completions("report", "--db", db_path) == ids[::-1]  # newest first
    assert completions("run", "--db", db_path, "--resume", incomplete=ids[0][:3])[0] == ids[0]
    (tmp_path / "junk.db").write_bytes(b"not sqlite" * 100)
    for db in (tmp_path / "missing.db", tmp_path / "junk.db", tmp_path):
        assert completions("report", "--db", db) == []
    assert not (tmp_path / "missing.db").exists()


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_of_each_shell_is_printed(shell):
    result = costcutter(_COSTCUTTER_COMPLETE=f"{shell}_source")
    assert result.returncode == 0, result.stderr
    assert "_COSTCUTTER_COMPLETE" in result.stdout


def test_bash_asks_for_completions_through_the_variable():
    result = costcutter(_COSTCUTTER_COMPLETE="bash_complete", COMP_WORDS="costcutter run --region us-east-",
                        COMP_CWORD="3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["plain,us-east-1", "plain,us-east-2"]
