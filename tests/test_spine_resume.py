"""A run the spine (the first CostCutter) left unfinished is resumed by this one, through
the CLI against the moto server: its log is upgraded, its configuration completed with
today's defaults, and its pending deletion confirmed, never repeated."""

import boto3
from click.testing import CliRunner

from conftest import write_spine_db
from costcutter.cli import cli
from costcutter.services.ec2.key_pairs import KEY_PAIRS
from costcutter.store import EventStore

REGION = "us-east-1"
SPINE_CONFIG = {  # every key the spine had, none of those added since
    "dry_run": False, "regions": [REGION], "services": ["ec2"], "excluded_services": [], "max_processes": 4,
    "threads_per_subresource": 8, "wait_timeout": 300, "aws_profile": None, "database": None, "log_dir": None,
    "log_level": "INFO"}


def test_an_interrupted_spine_run_is_resumed(sandbox_endpoint, tmp_path):
    session = boto3.Session()
    done, pending, left = KEY_PAIRS.seed(session, REGION, 3)
    for name in (done, pending):  # the spine's requests went through
        boto3.client("ec2", region_name=REGION).delete_key_pair(KeyName=name)
    key_pairs = (REGION, "ec2", "key_pairs")
    path, run_id = write_spine_db(tmp_path / "spine.db", "spine456", SPINE_CONFIG, [
        ("run_started", None, None, None, None),
        ("unit_started", *key_pairs, None),
        *[("cataloged", *key_pairs, name) for name in (done, pending, left)],
        ("delete_requested", *key_pairs, done), ("deleted", *key_pairs, done),
        ("delete_requested", *key_pairs, pending),
    ], dry_run=False)

    result = CliRunner().invoke(cli, ["run", "--resume", run_id, "--yes", "--db", str(path)])

    assert result.exit_code == 0, result.output
    with EventStore(path, read_only=True) as store:
        states = store.resource_states(run_id, REGION)
        assert store.status(run_id) == "finished"
        deleting = [e["resource_id"] for e in store.events(run_id) if e["kind"] == "delete_requested"]
    assert {states[("ec2", "key_pairs", name)] for name in (done, pending, left)} == {"deleted"}
    assert deleting.count(done) == 1 and deleting.count(pending) == 1  # neither asked for again
    assert boto3.client("ec2", region_name=REGION).describe_key_pairs()["KeyPairs"] == []
    report = CliRunner().invoke(cli, ["report", run_id, "--db", str(path), "--json"])
    assert report.exit_code == 0 and '"deleted": 3' in report.output
