"""Secrets Manager: the recovery window comes from the settings, a scheduled secret is not
listed again, replicas go first (described only where the listing
says there may be some), and secrets other services manage are never listed."""

from datetime import datetime, timedelta, timezone

import boto3
import pytest

from costcutter import engine
from costcutter.registry import Resource
from costcutter.services.secretsmanager import secrets

REGION, REPLICA_REGION = "eu-west-1", "us-west-2"


@pytest.fixture
def client(aws_mock):
    return boto3.client("secretsmanager", region_name=REGION)


def planned(client):
    """Every secret, those scheduled for deletion too, by name: its DeletedDate or None."""
    return {s["Name"]: s.get("DeletedDate") for s in client.list_secrets(IncludePlannedDeletion=True)["SecretList"]}


def test_a_zero_day_window_deletes_at_once(session, client, make_reporter):
    arn = client.create_secret(Name="db-password", SecretString="x")["ARN"]
    reporter = make_reporter(REGION, settings={"secrets_recovery_window_days": 0})

    assert secrets.cleanup_secrets(session, REGION, reporter, dry_run=False) == {arn: "deleted"}

    assert planned(client) == {}
    assert reporter.events("deleted")[0]["message"] == "deleted at once"


@pytest.mark.parametrize("days", [7, 30])
def test_a_window_schedules_the_deletion_and_the_secret_is_not_listed_again(session, client, make_reporter, days):
    arn = client.create_secret(Name="api-key", SecretString="x")["ARN"]
    reporter = make_reporter(REGION, settings={"secrets_recovery_window_days": days})

    assert secrets.cleanup_secrets(session, REGION, reporter, dry_run=False) == {arn: "deleted"}

    deleted_on = planned(client)["api-key"]
    assert abs(deleted_on - (datetime.now(timezone.utc) + timedelta(days=days))) < timedelta(minutes=5)
    assert secrets.catalog_secrets(session, REGION, make_reporter(REGION)) == []


@pytest.mark.parametrize("resumed_request, outcome", [(True, "deleted"), (False, "already_gone")])
def test_a_secret_already_scheduled_for_deletion_is_gone(session, client, make_reporter, resumed_request, outcome):
    """What a retry meets when the answer to our deletion was lost, or someone else deleted
    it between the listing and our call: AWS refuses it as "marked for deletion"."""
    arn = client.create_secret(Name="gone-soon", SecretString="x")["ARN"]
    client.delete_secret(SecretId=arn, RecoveryWindowInDays=7)
    reporter = make_reporter(REGION)
    teardown = engine._Teardown(secrets.SECRETS, engine.Target(secrets.SECRETS, session, REGION, reporter),
                                Resource(arn), waited_for=())

    assert teardown.run(resumed_request=resumed_request) == outcome
    assert reporter.events("failed") == []


def test_without_a_configured_run_the_built_in_window_applies(session, client, make_reporter):
    client.create_secret(Name="token", SecretString="x")
    secrets.cleanup_secrets(session, REGION, make_reporter(REGION), dry_run=False)
    assert planned(client)["token"] is not None  # scheduled (7 days), not deleted at once


def test_replicas_are_never_listed_in_their_own_region(session, client, make_reporter):
    arn = client.create_secret(Name="shared", SecretString="x", AddReplicaRegions=[{"Region": REPLICA_REGION}])["ARN"]
    replica = boto3.client("secretsmanager", region_name=REPLICA_REGION)
    assert secrets.catalog_secrets(session, REPLICA_REGION, make_reporter(REPLICA_REGION)) == []
    assert secrets.cleanup_secrets(session, REGION, make_reporter(REGION), dry_run=False) == {arn: "deleted"}
    assert replica.list_secrets(IncludePlannedDeletion=True)["SecretList"] == []


def test_replicas_the_listing_shows_are_removed_first(session, stubbed, make_reporter):
    # AWS's ListSecrets gives PrimaryRegion only for a replicated secret; moto never does
    # (and deletes a primary with its replicas), so this is AWS's answer, stubbed.
    listed = secret("shared", PrimaryRegion=REGION)
    arn = listed["ARN"]
    stub = stubbed(session, "secretsmanager", REGION)
    stub.add_response("list_secrets", {"SecretList": [listed]})
    stub.add_response("describe_secret", {"ARN": arn, "ReplicationStatus": [{"Region": REPLICA_REGION}]},
                      {"SecretId": arn})
    stub.add_response("remove_regions_from_replication", {"ARN": arn},
                      {"SecretId": arn, "RemoveReplicaRegions": [REPLICA_REGION]})
    stub.add_response("delete_secret", {"ARN": arn, "DeletionDate": datetime(2025, 1, 9, tzinfo=timezone.utc)},
                      {"SecretId": arn, "RecoveryWindowInDays": 7})
    reporter = make_reporter(REGION)

    assert secrets.cleanup_secrets(session, REGION, reporter, dry_run=False) == {arn: "deleted"}

    [removed] = reporter.events("step_done")
    assert removed["message"] == f"remove_replicas: removed replicas in {REPLICA_REGION}"


def test_a_secret_the_listing_shows_unreplicated_is_deleted_without_a_describe(session, client, make_reporter, watch):
    arn = client.create_secret(Name="token", SecretString="x")["ARN"]
    describes = watch(session, "secretsmanager", REGION, "DescribeSecret")
    reporter = make_reporter(REGION)
    assert secrets.cleanup_secrets(session, REGION, reporter, dry_run=False) == {arn: "deleted"}
    assert describes == []
    assert reporter.events("step_done") == []


def test_a_secret_replicated_since_the_listing_has_its_replicas_removed_when_the_deletion_says_so(session, stubbed,
                                                                                                    make_reporter):
    listed = secret("shared")
    arn, window = listed["ARN"], {"SecretId": listed["ARN"], "RecoveryWindowInDays": 7}
    stub = stubbed(session, "secretsmanager", REGION)
    stub.add_response("list_secrets", {"SecretList": [listed]})
    stub.add_client_error("delete_secret", "InvalidParameterException", f"You can't delete secret {arn} that still "
                          f"has replica regions [{REPLICA_REGION}].", expected_params=window)
    stub.add_response("describe_secret", {"ARN": arn, "ReplicationStatus": [{"Region": REPLICA_REGION}]},
                      {"SecretId": arn})
    stub.add_response("remove_regions_from_replication", {"ARN": arn},
                      {"SecretId": arn, "RemoveReplicaRegions": [REPLICA_REGION]})
    stub.add_response("delete_secret", {"ARN": arn, "DeletionDate": datetime(2025, 1, 9, tzinfo=timezone.utc)}, window)
    assert secrets.cleanup_secrets(session, REGION, make_reporter(REGION), dry_run=False) == {arn: "deleted"}


def secret(name, **fields):
    return {"ARN": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:{name}-AbCdEf", "Name": name,
            "CreatedDate": datetime(2025, 1, 2, tzinfo=timezone.utc), **fields}


def test_managed_and_scheduled_secrets_are_never_listed(session, stubbed, make_reporter):
    # moto cannot make a managed secret, and leaves scheduled ones out itself: the listing is AWS's, stubbed.
    listing = [secret("api-key"), secret("rds!db-1234", OwningService="rds"),
               secret("old-token", DeletedDate=datetime(2025, 2, 1, tzinfo=timezone.utc))]
    stubbed(session, "secretsmanager", REGION).add_response("list_secrets", {"SecretList": listing})

    assert [s.name for s in secrets.catalog_secrets(session, REGION, make_reporter(REGION))] == ["api-key"]
