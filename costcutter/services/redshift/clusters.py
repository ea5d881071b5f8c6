"""Redshift clusters: deleted, then waited for; a final snapshot is taken first only when `rds_final_snapshot` is true."""

import uuid

from costcutter import engine
from costcutter.registry import Charge, ResourceType, Step, listed, still_listed
from costcutter.services.rds.db_instances import final_snapshot_id, final_snapshot_params


def _delete(target, cluster):
    snapshot = final_snapshot_id(target, cluster.id)
    target.client.delete_cluster(ClusterIdentifier=cluster.id, **final_snapshot_params(
        snapshot, "SkipFinalClusterSnapshot", "FinalClusterSnapshotIdentifier"))
    return f"final snapshot {snapshot}" if snapshot else None


def create_cluster(redshift) -> str:
    name = f"costcutter-seed-{uuid.uuid4().hex[:8]}"
    redshift.create_cluster(ClusterIdentifier=name, NodeType="dc2.large", ClusterType="single-node",
                            MasterUsername="costcutter", MasterUserPassword=f"Costcutter{uuid.uuid4().hex[:8]}")
    return name


def _seed(session, region, count):
    redshift = session.client("redshift", region_name=region)
    return [create_cluster(redshift) for _ in range(count)]


def _billed_nodes(cluster):
    return 0 if cluster.get("status") == "paused" else cluster.get("nodes")  # a paused cluster bills its storage only


CLUSTERS = ResourceType(
    service="redshift", name="clusters", client="redshift",
    cost=(Charge("redshift.node:{node_type}", _billed_nodes),),
    doc=__doc__,
    list=listed("describe_clusters", "Clusters", "ClusterIdentifier", created="ClusterCreateTime",
                keep=lambda cluster: cluster["ClusterStatus"] != "deleting",
                properties={"node_type": "NodeType", "nodes": "NumberOfNodes", "status": "ClusterStatus"}),
    steps=(Step("delete", _delete),),
    # No filter by many ids: one listing answers for all of them.
    wait=still_listed("describe_clusters", "Clusters", "ClusterIdentifier"),
    settings=("rds_final_snapshot",),
    gone_codes=frozenset({"ClusterNotFound"}),
    retry_codes=frozenset({"InvalidClusterState"}),  # still being created, resized or snapshotted
    seed=_seed, missing_id="costcutter-no-such-cluster",
)
catalog_clusters, cleanup_cluster, cleanup_clusters = engine.functions(CLUSTERS)
