"""Security groups other than each VPC's default, which AWS does not let anyone delete.

Two groups whose rules name each other could never be deleted one at a time, so each
group first drops its own rules that name groups, and the other can go.
"""

import uuid

from costcutter import aws, engine
from costcutter.registry import ResourceType, Step, call, holding, listed

_GONE_CODES = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.NotFound"})
_DIRECTIONS = (("IpPermissions", "revoke_security_group_ingress"),
               ("IpPermissionsEgress", "revoke_security_group_egress"))


def _rules_naming_groups(group, direction):
    keep = ("IpProtocol", "FromPort", "ToPort", "UserIdGroupPairs")
    return [{key: value for key, value in rule.items() if key in keep}
            for rule in group.raw.get(direction, []) if rule.get("UserIdGroupPairs")]


def _names_groups(group) -> bool:
    return any(_rules_naming_groups(group, direction) for direction, _ in _DIRECTIONS)


def _revoke_rules_naming_groups(target, group):
    for direction, operation in _DIRECTIONS:
        if rules := _rules_naming_groups(group, direction):
            # A group these rules name may be gone already, and then they hold nothing back: its
            # NotFound is about that group, not this one, whose fate the deletion tells. A rule
            # that is not found was revoked by an earlier attempt whose answer was lost.
            with aws.ignoring(*_GONE_CODES, "InvalidPermission.NotFound"):
                getattr(target.client, operation)(GroupId=group.id, IpPermissions=rules)


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [ec2.create_security_group(GroupName=f"costcutter-seed-{uuid.uuid4().hex[:8]}",
                                      Description="seeded by costcutter")["GroupId"] for _ in range(count)]


SECURITY_GROUPS = ResourceType(
    service="ec2", name="security_groups", client="ec2", doc=__doc__,
    # Anything with a network interface holds its groups: instances, endpoints, and the
    # interfaces they leave behind.
    depends_on=(
        "instances", "elastic_ips", "network_interfaces", "vpc_endpoints", "elbv2.load_balancers",
        "elb.load_balancers", "rds.db_instances", "rds.db_clusters", "elasticache.cache_clusters",
        "elasticache.replication_groups", "redshift.clusters", "opensearch.domains", "sagemaker.notebook_instances",
        "sagemaker.endpoints", "emr.clusters", "elasticbeanstalk.environments", "efs.mount_targets", "eks.clusters",
        "lambda.functions", "fsx.file_systems", "ecs.services", "ecs.tasks", "eks.node_groups",
    ),
    list=listed("describe_security_groups", "SecurityGroups", "GroupId", name="GroupName",
                keep=lambda group: group["GroupName"] != "default", properties={"vpc_id": "VpcId"}),
    steps=(
        Step("revoke_group_rules", _revoke_rules_naming_groups, when=_names_groups),
        call("delete_security_group", "GroupId"),
    ),
    gone_codes=_GONE_CODES,
    # Network interfaces of terminated instances, or another group's rule that names this
    # one, hold it for a while; both clear up as the rest of the sweep goes on.
    retry_codes=frozenset({"DependencyViolation"}),
    seed=_seed, missing_id="sg-0123456789abcdef0",
    holds=holding({"ec2.vpcs": "vpc_id"}),
)
catalog_security_groups, cleanup_security_group, cleanup_security_groups = engine.functions(SECURITY_GROUPS)
