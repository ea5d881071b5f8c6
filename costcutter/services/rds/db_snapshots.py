"""Manual RDS DB snapshots (never automated ones, nor the final snapshots CostCutter takes): deleted."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, listed, per, seed_names
from costcutter.services.rds.db_instances import create_db_instance, is_ours_to_delete


def _seed(session, region, count):
    rds = session.client("rds", region_name=region)
    instance = create_db_instance(rds)
    return seed_names(count, lambda name: rds.create_db_snapshot(
        DBInstanceIdentifier=instance, DBSnapshotIdentifier=name))


DB_SNAPSHOTS = ResourceType(
    service="rds", name="db_snapshots", client="rds",
    cost=(Charge("rds.backup", per("size_gib")),),
    doc=__doc__,
    list=listed("describe_db_snapshots", "DBSnapshots", "DBSnapshotIdentifier", created="SnapshotCreateTime",
                tags="TagList", parent="DBInstanceIdentifier",
                keep=lambda snapshot: is_ours_to_delete(snapshot["DBSnapshotIdentifier"])
                and snapshot.get("Status") != "deleting",
                properties={"size_gib": "AllocatedStorage", "engine": "Engine", "status": "Status",
                            "storage_type": "StorageType"},
                SnapshotType="manual"),
    steps=deleted_by("delete_db_snapshot", "DBSnapshotIdentifier"),
    gone_codes=frozenset({"DBSnapshotNotFound"}),
    retry_codes=frozenset({"InvalidDBSnapshotState"}),  # still being created or copied
    seed=_seed, missing_id="costcutter-no-such-snapshot",
)
catalog_db_snapshots, cleanup_db_snapshot, cleanup_db_snapshots = engine.functions(DB_SNAPSHOTS)
