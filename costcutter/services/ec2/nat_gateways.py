"""NAT gateways: billed by the hour. Deleted, then waited for (one describe for all), so their Elastic IPs can be released."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, holding, listed, unless
from costcutter.services.ec2.common import still_in_state
from costcutter.services.ec2.subnets import create_subnets

# Deleted ones stay listed for about an hour; failed ones go on their own and cost nothing.
_GONE_STATES = frozenset({"deleting", "deleted", "failed"})


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    [subnet] = create_subnets(ec2, region, 1)
    return [ec2.create_nat_gateway(SubnetId=subnet, AllocationId=ec2.allocate_address(Domain="vpc")["AllocationId"])
            ["NatGateway"]["NatGatewayId"] for _ in range(count)]


NAT_GATEWAYS = ResourceType(
    service="ec2", name="nat_gateways", client="ec2",
    cost=(Charge("ec2.nat_gateway", unless("state", "deleting", "deleted", "failed")),),
    doc=__doc__,
    list=listed("describe_nat_gateways", "NatGateways", "NatGatewayId", created="CreateTime",
                keep=lambda gateway: gateway["State"] not in _GONE_STATES,
                properties={"state": "State", "vpc_id": "VpcId", "subnet_id": "SubnetId",
                            "connectivity": "ConnectivityType",
                            "elastic_ip_ids": "NatGatewayAddresses[].AllocationId",
                            "network_interface_ids": "NatGatewayAddresses[].NetworkInterfaceId"}),
    steps=deleted_by("delete_nat_gateway", "NatGatewayId"),
    wait=still_in_state("describe_nat_gateways", "NatGateways", "NatGatewayId", "nat-gateway-id",
                        filter_param="Filter"),
    gone_codes=frozenset({"NatGatewayNotFound"}),
    seed=_seed, missing_id="nat-0123456789abcdef0",
    holds=holding({"ec2.elastic_ips": "elastic_ip_ids", "ec2.network_interfaces": "network_interface_ids",
                    "ec2.subnets": "subnet_id", "ec2.vpcs": "vpc_id"}),
)
catalog_nat_gateways, cleanup_nat_gateway, cleanup_nat_gateways = engine.functions(NAT_GATEWAYS)
