"""DynamoDB's quirks, against moto in process: deletion protection seen only in the
deletion's refusal, skipped or lifted; only the account's own backups."""

import boto3
import pytest

from aws_doubles import stubbed, watch
from costcutter.services.dynamodb import backups, tables

REGION = "eu-west-1"


@pytest.fixture
def dynamodb(aws_mock):
    return boto3.client("dynamodb", region_name=REGION)


def protected_table(dynamodb):
    name = tables.create_table(dynamodb)
    dynamodb.update_table(TableName=name, DeletionProtectionEnabled=True)
    return name


def test_a_protected_table_is_skipped_and_the_others_are_deleted(session, dynamodb, make_reporter):
    protected, other = protected_table(dynamodb), tables.create_table(dynamodb)
    updates = watch(session, "dynamodb", REGION, "UpdateTable")
    reporter = make_reporter(REGION)
    assert tables.cleanup_tables(session, REGION, reporter, dry_run=False) == {protected: "skipped", other: "deleted"}
    assert "set remove_deletion_protection: true" in reporter.events("skipped")[0]["message"]
    assert updates == [] and not reporter.events("failed")
    assert dynamodb.list_tables()["TableNames"] == [protected]


def test_a_protected_table_is_unprotected_then_deleted_when_the_settings_allow(session, dynamodb, make_reporter):
    protected = protected_table(dynamodb)
    updates = watch(session, "dynamodb", REGION, "UpdateTable")
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    assert tables.cleanup_tables(session, REGION, reporter, dry_run=False) == {protected: "deleted"}
    assert updates == [{"TableName": protected, "DeletionProtectionEnabled": False}]
    assert [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"] == [
        ("delete_requested", None), ("step_requested", "remove_deletion_protection"),
        ("step_done", "remove_deletion_protection"), ("delete_requested", None), ("deleted", None)]
    assert dynamodb.list_tables()["TableNames"] == []


def test_another_validation_error_is_a_failure_not_a_protection(session, make_reporter):
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    with stubbed(session, "dynamodb", REGION) as stub:
        stub.add_client_error("delete_table", "ValidationException", "1 validation error detected: TableName",
                              expected_params={"TableName": "orders"})
        assert tables.cleanup_table(session, REGION, "orders", reporter, False) == "failed"
    [failed] = reporter.events("failed")
    assert failed["error_code"] == "ValidationException"


def test_only_the_accounts_own_backups_are_listed(session, dynamodb, make_reporter):
    requests = watch(session, "dynamodb", REGION, "ListBackups")
    [backup] = backups.BACKUPS.seed(session, REGION, 1)
    assert [b.id for b in backups.catalog_backups(session, REGION, make_reporter(REGION))] == [backup]
    assert [r["BackupType"] for r in requests] == ["USER"]
