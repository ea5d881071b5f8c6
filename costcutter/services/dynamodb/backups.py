"""DynamoDB on-demand backups made by the account (not AWS Backup's, nor those AWS makes itself): deleted."""

import uuid

from costcutter import engine
from costcutter.registry import GB, Charge, ResourceType, deleted_by, listed, per
from costcutter.services.dynamodb.tables import create_table


def _seed(session, region, count):
    dynamodb = session.client("dynamodb", region_name=region)
    table = create_table(dynamodb)
    return [dynamodb.create_backup(TableName=table, BackupName=f"costcutter-seed-{uuid.uuid4().hex[:8]}")
            ["BackupDetails"]["BackupArn"] for _ in range(count)]


BACKUPS = ResourceType(
    service="dynamodb", name="backups", client="dynamodb",
    cost=(Charge("dynamodb.backup", per("size_bytes", GB)),),
    doc=__doc__,
    list=listed("list_backups", "BackupSummaries", "BackupArn", name="BackupName", created="BackupCreationDateTime",
                tags=None, parent="TableName", keep=lambda backup: backup.get("BackupStatus") != "DELETED",
                properties={"size_bytes": "BackupSizeBytes", "status": "BackupStatus", "backup_type": "BackupType"},
                BackupType="USER"),
    steps=deleted_by("delete_backup", "BackupArn"),
    gone_codes=frozenset({"BackupNotFoundException"}),
    retry_codes=frozenset({"BackupInUseException"}),  # still being made, or a restore reads it
    seed=_seed, missing_id="arn:aws:dynamodb:eu-west-1:123456789012:table/costcutter-no-such-table/backup/"
                           "01234567890123-abcdef01",
)
catalog_backups, cleanup_backup, cleanup_backups = engine.functions(BACKUPS)
