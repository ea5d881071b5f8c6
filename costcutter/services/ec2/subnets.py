"""Subnets other than the default VPC's: deleted once nothing is left in them (instances, interfaces, NAT gateways, endpoints)."""

from costcutter import engine
from costcutter.registry import ResourceType, associated, deleted_by, holding, listed
from costcutter.services.ec2.vpcs import create_vpc


def create_subnets(ec2, region: str, count: int, vpc: str | None = None) -> list[str]:
    """`count` subnets of a VPC (a new one unless given), one /24 each."""
    vpc = vpc or create_vpc(ec2)
    return [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{region}a")
            ["Subnet"]["SubnetId"] for n in range(count)]


def _seed(session, region, count):
    return create_subnets(session.client("ec2", region_name=region), region, count)


SUBNETS = ResourceType(
    service="ec2", name="subnets", client="ec2", doc=__doc__,
    depends_on=(
        "instances", "network_interfaces", "nat_gateways", "vpc_endpoints", "transit_gateway_vpc_attachments",
        "elbv2.load_balancers", "elb.load_balancers", "rds.db_subnet_groups", "elasticache.cache_subnet_groups",
        "efs.mount_targets", "eks.clusters", "lambda.functions", "redshift.clusters", "opensearch.domains",
        "sagemaker.notebook_instances", "emr.clusters", "elasticbeanstalk.environments", "autoscaling.groups",
        "fsx.file_systems", "ecs.services", "ecs.tasks", "eks.node_groups",
    ),
    # A default subnet belongs to the default VPC, and stays with it.
    list=listed("describe_subnets", "Subnets", "SubnetId", keep=lambda subnet: not subnet.get("DefaultForAz"),
                properties={"vpc_id": "VpcId", "cidr": "CidrBlock", "availability_zone": "AvailabilityZone"}),
    # The route tables and network ACLs associated with a kept one, which it keeps.
    associate=(associated("route_table_ids", "describe_route_tables", "RouteTables", "RouteTableId",
                          "Associations[].SubnetId"),
               associated("network_acl_ids", "describe_network_acls", "NetworkAcls", "NetworkAclId",
                          "Associations[].SubnetId")),
    steps=deleted_by("delete_subnet", "SubnetId"),
    gone_codes=frozenset({"InvalidSubnetID.NotFound"}),
    # The network interfaces of what was just deleted in it take a moment to go.
    retry_codes=frozenset({"DependencyViolation"}),
    seed=_seed, missing_id="subnet-0123456789abcdef0",
    holds=holding({"ec2.route_tables": "route_table_ids", "ec2.network_acls": "network_acl_ids", "ec2.vpcs": "vpc_id"}),
)
catalog_subnets, cleanup_subnet, cleanup_subnets = engine.functions(SUBNETS)
