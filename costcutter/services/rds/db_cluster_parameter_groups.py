"""RDS DB cluster parameter groups other than AWS's `default.*`, once no cluster uses them: deleted."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def _seed(session, region, count):
    rds = session.client("rds", region_name=region)
    names = [f"costcutter-seed-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for name in names:
        rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=name, Description="seeded by costcutter",
                                              DBParameterGroupFamily="aurora-postgresql16")
    return names


DB_CLUSTER_PARAMETER_GROUPS = ResourceType(
    service="rds", name="db_cluster_parameter_groups", client="rds", depends_on=("db_clusters",), doc=__doc__,
    list=listed("describe_db_cluster_parameter_groups", "DBClusterParameterGroups", "DBClusterParameterGroupName",
                name="DBClusterParameterGroupName", tags=None,
                keep=lambda group: not group["DBClusterParameterGroupName"].startswith("default."),
                properties={"family": "DBParameterGroupFamily"}),
    steps=deleted_by("delete_db_cluster_parameter_group", "DBClusterParameterGroupName"),
    gone_codes=frozenset({"DBParameterGroupNotFound"}),
    retry_codes=frozenset({"InvalidDBParameterGroupState"}),  # a cluster being deleted still uses it
    seed=_seed, missing_id="costcutter-no-such-cluster-parameter-group",
)
catalog_db_cluster_parameter_groups, cleanup_db_cluster_parameter_group, cleanup_db_cluster_parameter_groups = (
    engine.functions(DB_CLUSTER_PARAMETER_GROUPS))
