"""RDS DB cluster parameter groups other than AWS's `default.*`, once no cluster uses them: deleted."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed, seed_names


def _seed(session, region, count):
    rds = session.client("rds", region_name=region)
    return seed_names(count, lambda name: rds.create_db_cluster_parameter_group(
        DBClusterParameterGroupName=name, DBParameterGroupFamily="aurora-postgresql16",
        Description="seeded by costcutter"))


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
