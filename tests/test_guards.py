"""Account guards, the confirmation before a real run, and `costcutter destroy`, through
the command line against the moto server on 127.0.0.1 (the region processes reach it
through AWS_ENDPOINT_URL). What is deleted is checked at the server."""

import tempfile

import boto3
import pytest
from click.testing import CliRunner

from costcutter import config, sandbox
from costcutter.cli import cli
from costcutter.store import EventStore

ACCOUNT = "123456789012"  # moto's
OTHER = "210987654321"
SERVICES = ("s3", "sqs")  # quick to make and to list; what is swept does not matter here
REGION = "us-east-1"


def invoke(*args, input=None):
    return CliRunner().invoke(cli, [str(arg) for arg in args], input=input, catch_exceptions=False)


@pytest.fixture
def seeded(sandbox_endpoint, monkeypatch):
    monkeypatch.setenv("COSTCUTTER_SERVICES", ",".join(SERVICES))
    sandbox.seed(REGION, counts={"s3.buckets": 2}, services=SERVICES)
    return sandbox.inventory(REGION)


@pytest.fixture
def at_a_terminal(monkeypatch):
    monkeypatch.setattr("costcutter.confirmation.at_a_terminal", lambda: True)


def config_file(tmp_path, text):
    path = tmp_path / "guards.yaml"
    path.write_text(text)
    return path


def run_ids(db_path):
    if not db_path.exists():
        return []
    with EventStore(db_path) as store:
        return [row["id"] for row in store.runs()]


def left(inventory):
    return sorted(resource for ids in inventory.values() for resource in ids)


REFUSALS = {
    "denied": ("accounts: {deny: ['123456789012']}\n",
               "refusing account 123456789012: it is in accounts.deny (from {config}); remove it from there to "
               "sweep it"),
    "not-allowed": ("accounts: {allow: ['210987654321', '111111111111']}\n",
                    "refusing account 123456789012: it is not in accounts.allow (from {config}: 210987654321, "
                    "111111111111); add it there to sweep it"),
    "denied-though-allowed": ("accounts: {allow: [123456789012], deny: [123456789012]}\n",
                              "refusing account 123456789012: it is in accounts.deny (from {config}); remove it "
                              "from there to sweep it"),
}
PROD_REFUSAL = ("refusing account 123456789012: its alias 'acme-Prod-eu' contains 'prod', a term in "
                "accounts.blocked_alias_terms (from built-in defaults); add the account to accounts.allow to sweep "
                "it anyway")


def assert_refused(result, says, db_path, before):
    assert result.exit_code == 2, result.output
    assert result.output == f"Error: {says}\n"
    assert sandbox.inventory(REGION) == before, "nothing may be deleted"
    assert run_ids(db_path) == [], "no run may be recorded"


@pytest.mark.parametrize("mode", [("--no-dry-run", "--yes"), ("--dry-run",)], ids=["real-with-yes", "dry-run"])
@pytest.mark.parametrize("case", REFUSALS)
def test_a_guarded_account_is_refused_in_one_line(seeded, db_path, tmp_path, case, mode):
    text, says = REFUSALS[case]
    path = config_file(tmp_path, text)
    result = invoke("run", "--db", db_path, "--region", REGION, "--config", path, *mode)
    assert_refused(result, says.format(config=path), db_path, seeded)


@pytest.mark.parametrize("mode", [("--no-dry-run", "--yes"), ("--dry-run",)], ids=["real-with-yes", "dry-run"])
def test_an_alias_with_a_blocked_term_is_refused(seeded, db_path, mode):
    boto3.client("iam").create_account_alias(AccountAlias="acme-Prod-eu")
    result = invoke("run", "--db", db_path, "--region", REGION, *mode)
    assert_refused(result, PROD_REFUSAL, db_path, seeded)


def test_an_allowed_account_with_a_blocked_alias_is_swept(seeded, db_path, tmp_path):
    boto3.client("iam").create_account_alias(AccountAlias="acme-prod")
    path = config_file(tmp_path, "accounts: {allow: [123456789012]}\n")
    result = invoke("run", "--db", db_path, "--region", REGION, "--config", path, "--no-dry-run", "--yes")
    assert result.exit_code == 0, result.output
    assert left(sandbox.inventory(REGION)) == []


def test_blocked_terms_are_configurable(seeded, db_path, tmp_path):
    boto3.client("iam").create_account_alias(AccountAlias="acme-prod")
    path = config_file(tmp_path, "accounts: {blocked_alias_terms: [live, customer]}\n")
    assert invoke("run", "--db", db_path, "--region", REGION, "--config", path).exit_code == 0
    boto3.client("iam").delete_account_alias(AccountAlias="acme-prod")
    boto3.client("iam").create_account_alias(AccountAlias="customer-eu")
    result = invoke("run", "--db", db_path, "--region", REGION, "--config", path)
    assert result.exit_code == 2
    assert "its alias 'customer-eu' contains 'customer'" in result.output


def test_a_resume_is_refused_once_the_account_is_denied(seeded, db_path, tmp_path):
    settings = config.load(flags={"regions": [REGION], "services": list(SERVICES), "dry_run": False})
    with EventStore(db_path) as store:  # a run that never got going, as after a kill -9
        run_id = store.create_run(settings.to_dict(), ACCOUNT, dry_run=False)
        events_before = len(list(store.events(run_id)))
    path = config_file(tmp_path, "accounts: {deny: ['123456789012']}\n")
    result = invoke("run", "--db", db_path, "--resume", run_id, "--yes", "--config", path)
    assert result.exit_code == 2, result.output
    assert result.output == (f"Error: refusing account {ACCOUNT}: it is in accounts.deny (from {path}); remove it "
                             "from there to sweep it\n")
    assert sandbox.inventory(REGION) == seeded
    with EventStore(db_path) as store:
        assert len(list(store.events(run_id))) == events_before


# The confirmation

def expected_counts(inventory):
    counts = {}
    for key, ids in inventory.items():
        counts[key.split(".")[0]] = counts.get(key.split(".")[0], 0) + len(ids)
    return {service: count for service, count in counts.items() if count}


def test_the_confirmation_shows_the_account_its_alias_and_counts_per_service(seeded, db_path, at_a_terminal,
                                                                              tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the counting keeps its log, to see it go
    boto3.client("iam").create_account_alias(AccountAlias="sandbox-dev")
    result = invoke("run", "--db", db_path, "--region", REGION, "--no-dry-run", input=OTHER + "\n")
    counts = expected_counts(seeded)
    total = sum(counts.values())
    assert f"This DELETES {total} resources in AWS account {ACCOUNT} (sandbox-dev), in 1 region: {REGION}." \
        in result.output
    lines = result.output.splitlines()
    for service, count in counts.items():
        assert any(line.split() == [service, str(count)] for line in lines), (service, count, result.output)
    assert result.exit_code == 1
    assert "The account id does not match; nothing was deleted." in result.output
    assert sandbox.inventory(REGION) == seeded
    assert run_ids(db_path) == [], "the counting's dry run stays out of the user's log"
    assert not list(tmp_path.glob("costcutter-count-*")), "the counting's own log is removed"


def test_typing_the_account_id_goes_on_and_deletes(seeded, db_path, at_a_terminal):
    result = invoke("run", "--db", db_path, "--region", REGION, "--no-dry-run", input=ACCOUNT + "\n")
    assert result.exit_code == 0, result.output
    assert f"in AWS account {ACCOUNT} (no alias)" in result.output
    assert left(sandbox.inventory(REGION)) == []
    assert len(run_ids(db_path)) == 1


def test_yes_skips_the_counting_and_the_prompt(seeded, db_path, at_a_terminal):
    result = invoke("run", "--db", db_path, "--region", REGION, "--no-dry-run", "--yes")
    assert result.exit_code == 0, result.output
    assert "Counting" not in result.output and "This DELETES" not in result.output
    assert left(sandbox.inventory(REGION)) == []


# destroy

def test_destroy_deletes_like_run_no_dry_run(seeded, db_path):
    other_region = sandbox.seed("eu-west-1", services=("s3",))
    result = invoke("destroy", "--db", db_path, "--region", REGION, "--service", "sqs", "--yes")
    assert result.exit_code == 0, result.output
    assert "REAL deletion" in result.output
    after = sandbox.inventory(REGION)
    assert after["sqs.queues"] == []
    assert after["s3.buckets"] == seeded["s3.buckets"]
    assert sandbox.inventory("eu-west-1")["s3.buckets"] == other_region["s3.buckets"]
    with EventStore(db_path) as store:
        (run,) = store.runs()
        assert not run["dry_run"]


def test_destroy_asks_for_the_account_id(seeded, db_path, at_a_terminal):
    result = invoke("destroy", "--db", db_path, "--region", REGION, input="nope\n")
    assert result.exit_code == 1
    assert "This DELETES" in result.output
    assert sandbox.inventory(REGION) == seeded


def test_destroy_without_a_terminal_or_yes_refuses(seeded, db_path):
    result = invoke("destroy", "--db", db_path, "--region", REGION)
    assert result.exit_code == 2
    assert result.output == ("Error: refusing to delete without confirmation: there is no terminal to ask at; "
                             "pass --yes to confirm, or --dry-run to only list\n")
    assert sandbox.inventory(REGION) == seeded


def test_destroy_of_a_denied_account_is_refused_with_yes(seeded, db_path, tmp_path):
    path = config_file(tmp_path, "accounts: {deny: ['123456789012']}\n")
    result = invoke("destroy", "--db", db_path, "--region", REGION, "--config", path, "--yes")
    assert_refused(result, REFUSALS["denied"][1].format(config=path), db_path, seeded)
