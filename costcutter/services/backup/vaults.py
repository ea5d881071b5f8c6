"""AWS Backup vaults: their recovery points are billed by the GB-month; the recovery points deleted, then the vault.

The `Default` vault, which AWS Backup makes for itself, and the vaults AWS manages
(`aws/...`, such as EFS's automatic backups) are kept. A vault under a compliance-mode
lock keeps its recovery points until their retention ends: their deletion is refused, and
the vault reported failed with AWS's reason. Recovery points go in the background, and
until they are gone the vault's deletion is refused ("contains recovery points"), which
is retried.
"""

import uuid

from botocore.exceptions import ClientError

from costcutter import aws, engine
from costcutter.registry import ResourceType, Step, listed, pages

_GONE = "ResourceNotFoundException"
_NOT_EMPTY_YET = "BackupVaultNotEmptyYet"  # CostCutter's own code for "contains recovery points"


def _kept(vault) -> bool:
    return vault["BackupVaultName"] == "Default" or vault["BackupVaultName"].startswith("aws/")


def _has_recovery_points(vault) -> bool:
    return vault.raw.get("NumberOfRecoveryPoints", 0) > 0


def _delete_recovery_points(target, vault):
    # moto has no recovery points: tests/test_backup.py plays this step with botocore's Stubber.
    deleted = 0
    for page in pages(target.client, "list_recovery_points_by_backup_vault", BackupVaultName=vault.id):
        for point in page["RecoveryPoints"]:
            if point.get("Status") != "DELETING":
                with aws.ignoring(_GONE):  # gone since the listing: not the vault
                    target.client.delete_recovery_point(BackupVaultName=vault.id,
                                                        RecoveryPointArn=point["RecoveryPointArn"])
                deleted += 1
    return f"deleted {deleted} recovery points"


def _delete(target, vault):
    try:
        target.client.delete_backup_vault(BackupVaultName=vault.id)
    except ClientError as error:
        # AWS answers InvalidRequestException both for recovery points still going, which
        # clears up, and for refusals that do not: only the first is retried.
        if aws.error_code(error) == "InvalidRequestException" and "recovery points" in aws.error_message(error):
            error.response["Error"]["Code"] = _NOT_EMPTY_YET
        raise


def _seed(session, region, count):
    backup = session.client("backup", region_name=region)
    return [backup.create_backup_vault(BackupVaultName=f"cc-seed-{uuid.uuid4().hex[:12]}")["BackupVaultName"]
            for _ in range(count)]


VAULTS = ResourceType(
    service="backup", name="vaults", client="backup", doc=__doc__,
    # ListBackupVaults carries no tags.
    list=listed("list_backup_vaults", "BackupVaultList", "BackupVaultName", name="BackupVaultName",
                created="CreationDate", tags=None, keep=lambda vault: not _kept(vault),
                properties={"recovery_points": "NumberOfRecoveryPoints", "vault_type": "VaultType",
                            "locked": "Locked", "state": "VaultState"}),
    steps=(Step("delete_recovery_points", _delete_recovery_points, when=_has_recovery_points),
           Step("delete", _delete)),
    gone_codes=frozenset({_GONE}),
    retry_codes=frozenset({_NOT_EMPTY_YET}),
    seed=_seed, missing_id="cc-no-such-vault",
)
catalog_vaults, cleanup_vault, cleanup_vaults = engine.functions(VAULTS)
