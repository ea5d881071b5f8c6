"""AWS Backup's quirks: the vaults AWS makes are never listed (moto), and a vault's recovery
points go first, the vault once they have (moto has no recovery points: played with
botocore's Stubber on AWS's response shapes)."""

from costcutter.services.backup import vaults

REGION = "eu-west-1"
VAULT_ARN = "arn:aws:backup:eu-west-1:123456789012:backup-vault:nightly"
POINTS = [f"arn:aws:ec2:eu-west-1::snapshot/snap-0{n}23456789abcdef0" for n in range(3)]
CONTAINS = ("InvalidRequestException", "Backup vault cannot be deleted because it contains recovery points.")


def test_the_vaults_aws_makes_are_never_listed(session, stubbed, make_reporter):
    # Stubbed: moto keeps a name with slashes URL-encoded (aws%2Fefs%2F...).
    backup = stubbed(session, "backup", REGION)
    backup.add_response("list_backup_vaults", {"BackupVaultList": [
        {"BackupVaultName": name, "BackupVaultArn": f"arn:aws:backup:eu-west-1:123456789012:backup-vault:{name}"}
        for name in ("Default", "aws/efs/automatic-backup-vault", "nightly")]}, {})
    assert [r.id for r in vaults.catalog_vaults(session, REGION, make_reporter(REGION))] == ["nightly"]


def stub_vault_with_points(stubbed, session, statuses):
    backup = stubbed(session, "backup", REGION)
    backup.add_response("list_backup_vaults", {"BackupVaultList": [
        {"BackupVaultName": "nightly", "BackupVaultArn": VAULT_ARN, "NumberOfRecoveryPoints": len(statuses)}]}, {})
    backup.add_response("list_recovery_points_by_backup_vault", {"RecoveryPoints": [
        {"RecoveryPointArn": arn, "BackupVaultName": "nightly", "Status": status}
        for arn, status in zip(POINTS, statuses)]}, {"BackupVaultName": "nightly"})
    return backup


def test_recovery_points_go_first_and_the_vault_once_they_have(session, stubbed, make_reporter):
    backup = stub_vault_with_points(stubbed, session, ["COMPLETED", "DELETING", "EXPIRED"])
    for arn in (POINTS[0], POINTS[2]):  # not the one AWS is deleting already
        backup.add_response("delete_recovery_point", {}, {"BackupVaultName": "nightly", "RecoveryPointArn": arn})
    backup.add_client_error("delete_backup_vault", *CONTAINS, 400, expected_params={"BackupVaultName": "nightly"})
    backup.add_response("delete_backup_vault", {}, {"BackupVaultName": "nightly"})  # retried, once they are gone
    reporter = make_reporter(REGION)
    assert vaults.cleanup_vaults(session, REGION, reporter, dry_run=False) == {"nightly": "deleted"}
    assert [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"] == [
        ("step_requested", "delete_recovery_points"), ("step_done", "delete_recovery_points: deleted 2 recovery points"),
        ("delete_requested", None), ("deleted", None)]


def test_a_recovery_point_gone_meanwhile_does_not_make_the_vault_gone(session, stubbed, make_reporter):
    backup = stub_vault_with_points(stubbed, session, ["COMPLETED", "COMPLETED"])
    backup.add_client_error("delete_recovery_point", "ResourceNotFoundException", "Recovery point not found", 404)
    backup.add_response("delete_recovery_point", {}, {"BackupVaultName": "nightly", "RecoveryPointArn": POINTS[1]})
    backup.add_response("delete_backup_vault", {}, {"BackupVaultName": "nightly"})
    reporter = make_reporter(REGION)
    assert vaults.cleanup_vaults(session, REGION, reporter, dry_run=False) == {"nightly": "deleted"}
    assert not reporter.events("already_gone")


def test_a_recovery_point_a_lock_keeps_fails_the_vault_without_asking_to_delete_it(session, stubbed,
                                                                                  make_reporter):
    backup = stub_vault_with_points(stubbed, session, ["COMPLETED"])
    backup.add_client_error("delete_recovery_point", "InvalidRequestException",
                            "Recovery point cannot be deleted (Vault Lock is active)", 400)
    reporter = make_reporter(REGION)
    assert vaults.cleanup_vaults(session, REGION, reporter, dry_run=False) == {"nightly": "failed"}
    [failed] = reporter.events("failed")
    assert failed["message"] == "delete_recovery_points: Recovery point cannot be deleted (Vault Lock is active)"
