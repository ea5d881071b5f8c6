"""RDS DB instances (DocumentDB and Neptune ones too): deleted with their automated backups, then waited for.

A final snapshot is taken first only when `rds_final_snapshot` is true (never of a read
replica or of a cluster's instance, for which AWS refuses one: the cluster takes it).
Instances of a cluster go before the cluster.
"""

import uuid

from costcutter import engine
from costcutter.registry import Charge, Protection, ResourceType, Step, holding, listed, still_listed

# Final snapshots (rds_final_snapshot) start with this, so no sweep deletes what one was told to keep.
FINAL_SNAPSHOT_PREFIX = "costcutter-final-"


def final_snapshot_id(target, resource_id: str) -> str | None:
    """The final snapshot a deletion takes when the settings ask for one: named after the
    resource and the run, so it is unique, and the same if the step is repeated."""
    if not target.settings.get("rds_final_snapshot"):
        return None
    return f"{FINAL_SNAPSHOT_PREFIX}{resource_id}-{target.reporter.run_id}"


def is_ours_to_delete(snapshot_identifier: str) -> bool:
    return not snapshot_identifier.startswith(FINAL_SNAPSHOT_PREFIX)


def final_snapshot_params(snapshot: str | None, skip_param: str, id_param: str) -> dict:
    return {skip_param: False, id_param: snapshot} if snapshot else {skip_param: True}


def _delete(target, instance):
    in_cluster_or_replica = instance.raw.get("DBClusterIdentifier") or instance.raw.get(
        "ReadReplicaSourceDBInstanceIdentifier")
    snapshot = None if in_cluster_or_replica else final_snapshot_id(target, instance.id)
    target.client.delete_db_instance(DBInstanceIdentifier=instance.id, DeleteAutomatedBackups=True, **final_snapshot_params(
        snapshot, "SkipFinalSnapshot", "FinalDBSnapshotIdentifier"))
    return f"final snapshot {snapshot}" if snapshot else None


def _remove_deletion_protection(target, instance):
    target.client.modify_db_instance(DBInstanceIdentifier=instance.id, DeletionProtection=False, ApplyImmediately=True)


def create_db_instance(rds, cluster: str | None = None) -> str:
    name = f"costcutter-seed-{uuid.uuid4().hex[:8]}"
    engine_params = ({"Engine": "aurora-postgresql", "DBClusterIdentifier": cluster} if cluster else
                     {"Engine": "postgres", "AllocatedStorage": 20, "MasterUsername": "costcutter",
                      "MasterUserPassword": uuid.uuid4().hex})
    rds.create_db_instance(DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", **engine_params)
    return name


def _seed(session, region, count):
    rds = session.client("rds", region_name=region)
    return [create_db_instance(rds) for _ in range(count)]


# Engines priced alike: MariaDB as MySQL. Others (Oracle, SQL Server) are not in the price table.
_ENGINE_FAMILIES = {"mysql": "mysql", "mariadb": "mysql", "postgres": "postgres", "aurora": "aurora-mysql",
                    "aurora-mysql": "aurora-mysql", "aurora-postgresql": "aurora-postgresql"}


def _engine_family(instance):
    family = _ENGINE_FAMILIES.get(instance.get("engine"))
    return {"engine_family": family} if family else {}


def _copies(instance) -> int:
    """A Multi-AZ instance's standby is billed as a second one; Aurora's replicas are instances of their own."""
    return 2 if instance.get("multi_az") and not str(instance.get("engine")).startswith("aurora") else 1


def _instances(instance):
    return 0 if instance.get("status") == "stopped" else _copies(instance)  # a stopped one bills its storage only


def _storage(instance):
    if str(instance.get("engine")).startswith("aurora"):
        return 0  # the cluster's storage: rds.db_clusters
    return None if instance.get("storage_gib") is None else instance["storage_gib"] * _copies(instance)


def _iops(instance):
    return (instance.get("iops") or 0) * _copies(instance) if instance.get("storage_type") in ("io1", "io2") else 0


DB_INSTANCES = ResourceType(
    service="rds", name="db_instances", client="rds",
    cost=(Charge("rds.instance:{instance_class}:{engine_family}", _instances, fields=_engine_family),
          Charge("rds.storage:{storage_type}", _storage), Charge("rds.iops", _iops)),
    doc=__doc__,
    list=listed("describe_db_instances", "DBInstances", "DBInstanceIdentifier", created="InstanceCreateTime",
                tags="TagList", parent="DBClusterIdentifier",
                keep=lambda instance: instance["DBInstanceStatus"] != "deleting",
                properties={"instance_class": "DBInstanceClass", "engine": "Engine", "status": "DBInstanceStatus",
                            "storage_gib": "AllocatedStorage", "storage_type": "StorageType", "iops": "Iops",
                            "multi_az": "MultiAZ", "cluster": "DBClusterIdentifier",
                            "subnet_group": "DBSubnetGroup.DBSubnetGroupName",
                            "parameter_groups": "DBParameterGroups[].DBParameterGroupName",
                            "security_group_ids": "VpcSecurityGroups[].VpcSecurityGroupId"}),
    steps=(Step("delete", _delete),),
    protection=Protection("remove_deletion_protection", Step("remove_deletion_protection", _remove_deletion_protection),
                          is_on=lambda instance: bool(instance.raw.get("DeletionProtection"))),
    wait=still_listed("describe_db_instances", "DBInstances", "DBInstanceIdentifier",
                      asking=lambda ids: {"Filters": [{"Name": "db-instance-id", "Values": ids}]}),
    settings=("rds_final_snapshot",),
    gone_codes=frozenset({"DBInstanceNotFound"}),
    retry_codes=frozenset({"InvalidDBInstanceState"}),  # still being created, modified or backed up
    seed=_seed, missing_id="costcutter-no-such-instance",
    holds=holding({"rds.db_clusters": "cluster", "rds.db_subnet_groups": "subnet_group",
                    "rds.db_parameter_groups": "parameter_groups", "ec2.security_groups": "security_group_ids"}),
)
catalog_db_instances, cleanup_db_instance, cleanup_db_instances = engine.functions(DB_INSTANCES)
