"""Virtual private gateways: detached from their VPCs, then deleted, once their VPN connections are gone."""

from costcutter import engine
from costcutter.registry import ResourceType, call
from costcutter.services.ec2.common import detach_from_vpcs, listed_gateways
from costcutter.services.ec2.vpcs import create_vpc
from costcutter.services.ec2.vpn_connections import create_vpn_gateway

_GONE_STATES = {"deleting", "deleted"}


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    gateways = []
    for _ in range(count):
        gateway = create_vpn_gateway(ec2)
        ec2.attach_vpn_gateway(VpnGatewayId=gateway, VpcId=create_vpc(ec2))
        gateways.append(gateway)
    return gateways


VPN_GATEWAYS = ResourceType(
    service="ec2", name="vpn_gateways", client="ec2", depends_on=("vpn_connections",), doc=__doc__,
    list=listed_gateways("describe_vpn_gateways", "VpnGateways", "VpnGatewayId", attachments_key="VpcAttachments",
                         keep=lambda gateway: gateway["State"] not in _GONE_STATES,
                         properties={"state": "State", "amazon_side_asn": "AmazonSideAsn"}),
    steps=(
        detach_from_vpcs("detach_vpn_gateway", "VpnGatewayId", "InvalidVpnGatewayAttachment.NotFound"),
        call("delete_vpn_gateway", "VpnGatewayId"),
    ),
    gone_codes=frozenset({"InvalidVpnGatewayID.NotFound"}),
    retry_codes=frozenset({"IncorrectState"}),  # still detaching, or a VPN connection still being deleted
    seed=_seed, missing_id="vgw-0123456789abcdef0",
)
catalog_vpn_gateways, cleanup_vpn_gateway, cleanup_vpn_gateways = engine.functions(VPN_GATEWAYS)
