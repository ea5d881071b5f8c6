"""Network interfaces attached to nothing (status `available`), which hold subnets and security groups."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, holding, listed
from costcutter.services.ec2.subnets import create_subnets


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    [subnet] = create_subnets(ec2, region, 1)
    return [ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
            for _ in range(count)]


NETWORK_INTERFACES = ResourceType(
    service="ec2", name="network_interfaces", client="ec2", doc=__doc__,
    goes_with="an instance's network interface goes with it",
    # What was attached must be gone first, so that what it leaves is `available` when listed.
    depends_on=(
        "instances", "elastic_ips", "nat_gateways", "vpc_endpoints", "transit_gateway_vpc_attachments",
        "elbv2.load_balancers", "elb.load_balancers", "rds.db_instances", "rds.db_clusters", "efs.mount_targets",
        "eks.clusters", "lambda.functions", "elasticache.cache_clusters", "elasticache.replication_groups",
        "redshift.clusters", "opensearch.domains",
    ),
    # An interface in use goes with what uses it; one an AWS service operates stays its own.
    list=listed("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId", tags="TagSet",
                keep=lambda interface: not (interface.get("Operator") or {}).get("Managed"),
                properties={"vpc_id": "VpcId", "subnet_id": "SubnetId", "interface_type": "InterfaceType",
                            "description": "Description", "security_group_ids": "Groups[].GroupId"},
                Filters=[{"Name": "status", "Values": ["available"]}]),
    steps=deleted_by("delete_network_interface", "NetworkInterfaceId"),
    gone_codes=frozenset({"InvalidNetworkInterfaceID.NotFound"}),
    seed=_seed, missing_id="eni-0123456789abcdef0",
    holds=holding({"ec2.security_groups": "security_group_ids", "ec2.subnets": "subnet_id", "ec2.vpcs": "vpc_id"}),
)
catalog_network_interfaces, cleanup_network_interface, cleanup_network_interfaces = engine.functions(NETWORK_INTERFACES)
