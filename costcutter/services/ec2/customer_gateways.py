"""Customer gateways (the on-premises side of a VPN): deleted once their VPN connections are gone."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed
from costcutter.services.ec2.vpn_connections import create_customer_gateway

_GONE_STATES = {"deleting", "deleted"}


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [create_customer_gateway(ec2) for _ in range(count)]


CUSTOMER_GATEWAYS = ResourceType(
    service="ec2", name="customer_gateways", client="ec2", depends_on=("vpn_connections",), doc=__doc__,
    list=listed("describe_customer_gateways", "CustomerGateways", "CustomerGatewayId",
                keep=lambda gateway: gateway["State"] not in _GONE_STATES,
                properties={"ip_address": "IpAddress", "bgp_asn": "BgpAsn", "state": "State"}),
    steps=deleted_by("delete_customer_gateway", "CustomerGatewayId"),
    gone_codes=frozenset({"InvalidCustomerGatewayID.NotFound"}),
    retry_codes=frozenset({"IncorrectState"}),  # a VPN connection using it is still being deleted
    seed=_seed, missing_id="cgw-0123456789abcdef0",
)
catalog_customer_gateways, cleanup_customer_gateway, cleanup_customer_gateways = engine.functions(CUSTOMER_GATEWAYS)
