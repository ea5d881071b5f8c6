"""Egress-only internet gateways (IPv6 outbound): deleted before their VPCs."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by
from costcutter.services.ec2.common import listed_gateways
from costcutter.services.ec2.vpcs import create_vpc

def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [ec2.create_egress_only_internet_gateway(VpcId=create_vpc(ec2))["EgressOnlyInternetGateway"]
            ["EgressOnlyInternetGatewayId"] for _ in range(count)]


EGRESS_ONLY_INTERNET_GATEWAYS = ResourceType(
    service="ec2", name="egress_only_internet_gateways", client="ec2", doc=__doc__,
    list=listed_gateways("describe_egress_only_internet_gateways", "EgressOnlyInternetGateways",
                         "EgressOnlyInternetGatewayId"),
    steps=deleted_by("delete_egress_only_internet_gateway", "EgressOnlyInternetGatewayId"),
    gone_codes=frozenset({"InvalidGatewayID.NotFound"}),
    seed=_seed, missing_id="eigw-0123456789abcdef0",
)
(catalog_egress_only_internet_gateways, cleanup_egress_only_internet_gateway,
 cleanup_egress_only_internet_gateways) = engine.functions(EGRESS_ONLY_INTERNET_GATEWAYS)
