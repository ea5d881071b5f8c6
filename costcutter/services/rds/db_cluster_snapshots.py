"""Manual RDS DB cluster snapshots (never automated ones, nor the final snapshots CostCutter takes): deleted."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, listed, per, seed_names
from costcutter.services.rds.db_clusters import create_db_cluster
from costcutter.services.rds.db_instances import is_ours_to_delete


def _seed(session, region, count):
    rds = session.client("rds", region_name=region)
    cluster = create_db_cluster(rds)
    return seed_names(count, lambda name: rds.create_db_cluster_snapshot(
        DBClusterIdentifier=cluster, DBClusterSnapshotIdentifier=name))


DB_CLUSTER_SNAPSHOTS = ResourceType(
    service="rds", name="db_cluster_snapshots", client="rds",
    cost=(Charge("rds.aurora.backup", per("size_gib")),),
    doc=__doc__,
    list=listed("describe_db_cluster_snapshots", "DBClusterSnapshots", "DBClusterSnapshotIdentifier",
                created="SnapshotCreateTime", tags="TagList", parent="DBClusterIdentifier",
                keep=lambda snapshot: is_ours_to_delete(snapshot["DBClusterSnapshotIdentifier"])
                and snapshot.get("Status") != "deleting",
                properties={"size_gib": "AllocatedStorage", "engine": "Engine", "status": "Status",
                            "storage_type": "StorageType"},
                SnapshotType="manual"),
    steps=deleted_by("delete_db_cluster_snapshot", "DBClusterSnapshotIdentifier"),
    gone_codes=frozenset({"DBClusterSnapshotNotFoundFault"}),
    retry_codes=frozenset({"InvalidDBClusterSnapshotStateFault"}),  # still being created or copied
    seed=_seed, missing_id="costcutter-no-such-cluster-snapshot",
)
catalog_db_cluster_snapshots, cleanup_db_cluster_snapshot, cleanup_db_cluster_snapshots = engine.functions(
    DB_CLUSTER_SNAPSHOTS)
