"""Manual Redshift cluster snapshots (never automated ones, nor the final snapshots CostCutter takes): deleted."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed
from costcutter.services.rds.db_instances import is_ours_to_delete
from costcutter.services.redshift.clusters import create_cluster


def _seed(session, region, count):
    redshift = session.client("redshift", region_name=region)
    cluster = create_cluster(redshift)
    names = [f"costcutter-seed-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for name in names:
        redshift.create_cluster_snapshot(SnapshotIdentifier=name, ClusterIdentifier=cluster)
    return names


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
