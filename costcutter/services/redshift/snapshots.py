"""Manual Redshift cluster snapshots (never automated ones, nor the final snapshots CostCutter takes): deleted."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed, seed_names
from costcutter.services.rds.db_instances import is_ours_to_delete
from costcutter.services.redshift.clusters import create_cluster


def _seed(session, region, count):
    redshift = session.client("redshift", region_name=region)
    cluster = create_cluster(redshift)
    return seed_names(count, lambda name: redshift.create_cluster_snapshot(
        SnapshotIdentifier=name, ClusterIdentifier=cluster))


SNAPSHOTS = ResourceType(
    service="redshift", name="snapshots", client="redshift", doc=__doc__,
    list=listed("describe_cluster_snapshots", "Snapshots", "SnapshotIdentifier", created="SnapshotCreateTime",
                parent="ClusterIdentifier",
                # moto ignores SnapshotType, and lists automated snapshots too
                keep=lambda snapshot: snapshot.get("SnapshotType") == "manual"
                and is_ours_to_delete(snapshot["SnapshotIdentifier"]) and snapshot.get("Status") != "deleted",
                properties={"size_mb": "TotalBackupSizeInMegaBytes", "node_type": "NodeType", "status": "Status"},
                SnapshotType="manual"),
    steps=deleted_by("delete_cluster_snapshot", "SnapshotIdentifier"),
    gone_codes=frozenset({"ClusterSnapshotNotFound"}),
    retry_codes=frozenset({"InvalidClusterSnapshotState"}),  # still being created
    seed=_seed, missing_id="costcutter-no-such-snapshot",
)
catalog_snapshots, cleanup_snapshot, cleanup_snapshots = engine.functions(SNAPSHOTS)
