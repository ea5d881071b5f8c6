"""VPCs other than the region's default: deleted last, once everything in them is gone.

AWS refuses while anything is left in a VPC (DependencyViolation), so every type that
lives in one is a dependency; what other services leave in it (load balancers, databases,
functions) clears up with theirs.
"""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def create_vpc(ec2, cidr: str = "10.0.0.0/16") -> str:
    return ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [create_vpc(ec2) for _ in range(count)]


VPCS = ResourceType(
    service="ec2", name="vpcs", client="ec2", doc=__doc__,
    depends_on=(
        "instances", "network_interfaces", "subnets", "route_tables", "network_acls", "security_groups",
        "internet_gateways", "egress_only_internet_gateways", "nat_gateways", "vpc_endpoints",
        "vpc_peering_connections", "transit_gateway_vpc_attachments", "vpn_gateways", "elbv2.target_groups",
    ),
    list=listed("describe_vpcs", "Vpcs", "VpcId", keep=lambda vpc: not vpc["IsDefault"],
                properties={"cidr": "CidrBlock", "state": "State"}),
    steps=deleted_by("delete_vpc", "VpcId"),
    gone_codes=frozenset({"InvalidVpcID.NotFound"}),
    # What is in a VPC can take a moment to let go of it (the network interfaces of
    # instances that just terminated).
    retry_codes=frozenset({"DependencyViolation"}),
    seed=_seed, missing_id="vpc-0123456789abcdef0",
)
catalog_vpcs, cleanup_vpc, cleanup_vpcs = engine.functions(VPCS)
