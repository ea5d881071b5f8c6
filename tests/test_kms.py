"""KMS: only the account's own keys, not already pending deletion, are scheduled, after the
pending window the settings give; AWS's aliases are never listed."""

from datetime import datetime, timedelta, timezone

import boto3
import pytest

from costcutter.services.kms import aliases, keys

REGION = "eu-west-1"


@pytest.fixture
def kms(aws_mock):
    return boto3.client("kms", region_name=REGION)


def new_key(kms):
    return kms.create_key()["KeyMetadata"]["KeyId"]


def test_disabled_keys_are_scheduled_too_and_pending_ones_are_not_listed(session, kms, make_reporter):
    enabled, disabled, pending = new_key(kms), new_key(kms), new_key(kms)
    kms.disable_key(KeyId=disabled)
    kms.schedule_key_deletion(KeyId=pending, PendingWindowInDays=7)
    reporter = make_reporter(REGION)

    assert {k.id: k.properties["state"] for k in keys.catalog_keys(session, REGION, reporter)} == {
        enabled: "Enabled", disabled: "Disabled"}
    assert keys.cleanup_keys(session, REGION, reporter, dry_run=False) == {enabled: "deleted", disabled: "deleted"}
    states = {kms.describe_key(KeyId=key)["KeyMetadata"]["KeyState"] for key in (enabled, disabled)}
    assert states == {"PendingDeletion"}


def test_the_pending_window_comes_from_the_settings(session, kms, make_reporter):
    key = new_key(kms)
    reporter = make_reporter(REGION, settings={"kms_pending_window_days": 30})

    keys.cleanup_keys(session, REGION, reporter, dry_run=False)

    deletion = kms.describe_key(KeyId=key)["KeyMetadata"]["DeletionDate"]
    assert abs(deletion - (datetime.now(timezone.utc) + timedelta(days=30))) < timedelta(minutes=5)
    assert reporter.events("deleted")[0]["message"] == f"deletion scheduled for {deletion:%Y-%m-%d}"


def test_aws_managed_keys_are_never_listed(session, stubbed, make_reporter):
    # moto cannot make an AWS managed key: the answers are AWS's, stubbed.
    stubber = stubbed(session, "kms", REGION)
    ours, theirs = "1234abcd-12ab-34cd-56ef-1234567890ab", "0987dcba-09fe-87dc-65ba-ab0987654321"
    stubber.add_response("list_keys", {"Keys": [{"KeyId": ours}, {"KeyId": theirs}], "Truncated": False})
    for key, manager in ((ours, "CUSTOMER"), (theirs, "AWS")):
        stubber.add_response("describe_key", {"KeyMetadata": {
            "KeyId": key, "KeyManager": manager, "KeyState": "Enabled", "Description": "",
            "CreationDate": datetime(2025, 1, 2, tzinfo=timezone.utc)}}, {"KeyId": key})

    assert [k.id for k in keys.catalog_keys(session, REGION, make_reporter(REGION))] == [ours]


def test_aws_aliases_are_never_listed(session, kms, make_reporter):
    kms.create_alias(AliasName="alias/orders", TargetKeyId=new_key(kms))
    assert any(a["AliasName"].startswith("alias/aws/") for a in kms.list_aliases()["Aliases"])  # moto has AWS's
    listed = aliases.catalog_aliases(session, REGION, make_reporter(REGION))
    assert [a.id for a in listed] == ["alias/orders"]
