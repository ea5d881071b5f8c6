"""Site-to-site VPN connections: billed by the hour. Deleted, then waited for, before the gateways they connect."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, listed, unless
from costcutter.services.ec2.common import still_in_state

_GONE_STATES = {"deleting", "deleted"}


def create_customer_gateway(ec2) -> str:
    return ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10", BgpAsn=65000)["CustomerGateway"][
        "CustomerGatewayId"]


def create_vpn_gateway(ec2) -> str:
    return ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    customer, gateway = create_customer_gateway(ec2), create_vpn_gateway(ec2)
    return [ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=customer, VpnGatewayId=gateway)
            ["VpnConnection"]["VpnConnectionId"] for _ in range(count)]


VPN_CONNECTIONS = ResourceType(
    service="ec2", name="vpn_connections", client="ec2",
    cost=(Charge("vpc.vpn_connection", unless("state", "deleting", "deleted")),),
    doc=__doc__,
    list=listed("describe_vpn_connections", "VpnConnections", "VpnConnectionId",
                keep=lambda connection: connection["State"] not in _GONE_STATES,
                properties={"state": "State", "customer_gateway_id": "CustomerGatewayId",
                            "vpn_gateway_id": "VpnGatewayId", "transit_gateway_id": "TransitGatewayId"}),
    steps=deleted_by("delete_vpn_connection", "VpnConnectionId"),
    # Waited for with a listing of all (there are few), as moto has no vpn-connection-id filter.
    wait=still_in_state("describe_vpn_connections", "VpnConnections", "VpnConnectionId", None),
    gone_codes=frozenset({"InvalidVpnConnectionID.NotFound"}),
    seed=_seed, missing_id="vpn-0123456789abcdef0",
)
catalog_vpn_connections, cleanup_vpn_connection, cleanup_vpn_connections = engine.functions(VPN_CONNECTIONS)
