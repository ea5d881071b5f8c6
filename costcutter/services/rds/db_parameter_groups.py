"""RDS DB parameter groups other than AWS's `default.*`, once no instance uses them: deleted."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed, seed_names


def _seed(session, region, count):
    rds = session.client("rds", region_name=region)
    return seed_names(count, lambda name: rds.create_db_parameter_group(
        DBParameterGroupName=name, DBParameterGroupFamily="postgres16", Description="seeded by costcutter"))


DB_PARAMETER_GROUPS = ResourceType(
    service="rds", name="db_parameter_groups", client="rds", depends_on=("db_instances",), doc=__doc__,
    list=listed("describe_db_parameter_groups", "DBParameterGroups", "DBParameterGroupName",
                name="DBParameterGroupName", tags=None,
                keep=lambda group: not group["DBParameterGroupName"].startswith("default."),
                properties={"family": "DBParameterGroupFamily"}),
    steps=deleted_by("delete_db_parameter_group", "DBParameterGroupName"),
    gone_codes=frozenset({"DBParameterGroupNotFound"}),
    retry_codes=frozenset({"InvalidDBParameterGroupState"}),  # an instance being deleted still uses it
    seed=_seed, missing_id="costcutter-no-such-parameter-group",
)
catalog_db_parameter_groups, cleanup_db_parameter_group, cleanup_db_parameter_groups = engine.functions(
    DB_PARAMETER_GROUPS)
