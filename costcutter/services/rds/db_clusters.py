"""RDS DB clusters (Aurora, Multi-AZ, DocumentDB, Neptune), once their instances are gone: deleted with their automated backups, then waited for.

A final snapshot is taken first only when `rds_final_snapshot` is true.
"""

import uuid

from costcutter import engine
from costcutter.registry import Charge, Protection, ResourceType, Step, holding, listed, still_listed
from costcutter.services.rds.db_instances import final_snapshot_id, final_snapshot_params


def _delete(target, cluster):
    snapshot = final_snapshot_id(target, cluster.id)
    target.client.delete_db_cluster(DBClusterIdentifier=cluster.id, DeleteAutomatedBackups=True,
                                    **final_snapshot_params(snapshot, "SkipFinalSnapshot", "FinalDBSnapshotIdentifier"))
    return f"final snapshot {snapshot}" if snapshot else None


def _remove_deletion_protection(target, cluster):
    target.client.modify_db_cluster(DBClusterIdentifier=cluster.id, DeletionProtection=False, ApplyImmediately=True)


def create_db_cluster(rds) -> str:
    name = f"costcutter-seed-{uuid.uuid4().hex[:8]}"
    rds.create_db_cluster(DBClusterIdentifier=name, Engine="aurora-postgresql", MasterUsername="costcutter",
                          MasterUserPassword=uuid.uuid4().hex)
    return name


def _seed(session, region, count):
    rds = session.client("rds", region_name=region)
    return [create_db_cluster(rds) for _ in range(count)]


def _aurora_storage(cluster):
    # Aurora bills the storage it uses; its instances are priced as rds.db_instances.
    return (cluster.get("storage_gib") or 0) if str(cluster.get("engine")).startswith("aurora") else 0


def _serverless_capacity(cluster):
    return (cluster.get("capacity") or 0) if cluster.get("engine_mode") == "serverless" else 0


DB_CLUSTERS = ResourceType(
    service="rds", name="db_clusters", client="rds",
    cost=(Charge("rds.aurora.storage", _aurora_storage), Charge("rds.aurora.acu", _serverless_capacity)),
    depends_on=("db_instances",), doc=__doc__,
    list=listed("describe_db_clusters", "DBClusters", "DBClusterIdentifier", created="ClusterCreateTime",
                tags="TagList", keep=lambda cluster: cluster["Status"] != "deleting",
                properties={"engine": "Engine", "engine_mode": "EngineMode", "status": "Status",
                            "instance_class": "DBClusterInstanceClass", "storage_gib": "AllocatedStorage",
                            "storage_type": "StorageType", "capacity": "Capacity", "subnet_group": "DBSubnetGroup",
                            "parameter_group": "DBClusterParameterGroup",
                            "security_group_ids": "VpcSecurityGroups[].VpcSecurityGroupId"}),
    steps=(Step("delete", _delete),),
    protection=Protection("remove_deletion_protection", Step("remove_deletion_protection", _remove_deletion_protection),
                          is_on=lambda cluster: bool(cluster.raw.get("DeletionProtection"))),
    wait=still_listed("describe_db_clusters", "DBClusters", "DBClusterIdentifier",
                      asking=lambda ids: {"Filters": [{"Name": "db-cluster-id", "Values": ids}]}),
    settings=("rds_final_snapshot",),
    gone_codes=frozenset({"DBClusterNotFoundFault"}),
    # Still being created or modified, or its instances are still being deleted.
    retry_codes=frozenset({"InvalidDBClusterStateFault"}),
    seed=_seed, missing_id="costcutter-no-such-cluster",
    holds=holding({"rds.db_subnet_groups": "subnet_group", "rds.db_cluster_parameter_groups": "parameter_group",
                    "ec2.security_groups": "security_group_ids"}),
)
catalog_db_clusters, cleanup_db_cluster, cleanup_db_clusters = engine.functions(DB_CLUSTERS)
