"""Transit gateways the account owns (not those shared with it): deleted once their attachments are gone, then waited for."""

from costcutter import aws, engine
from costcutter.registry import ResourceType, deleted_by, listed
from costcutter.services.ec2.common import still_in_state

_GONE_STATES = {"deleting", "deleted"}
_list_gateways = listed("describe_transit_gateways", "TransitGateways", "TransitGatewayId", created="CreationTime",
                        keep=lambda gateway: gateway["State"] not in _GONE_STATES,
                        properties={"state": "State", "description": "Description", "owner_id": "OwnerId"})


def _list(target):
    gateways = list(_list_gateways(target))
    if not gateways:
        return []  # most regions have none: no identity to ask for
    # Through the sweep's client, retried like every call: the start's identity check gives up fast by design.
    account = aws.caller_identity(target.client_for("sts"))["Account"]
    return [gateway for gateway in gateways if gateway.properties.get("owner_id") == account]


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [ec2.create_transit_gateway(Description="costcutter seed")["TransitGateway"]["TransitGatewayId"]
            for _ in range(count)]


TRANSIT_GATEWAYS = ResourceType(
    service="ec2", name="transit_gateways", client="ec2", doc=__doc__, list=_list,
    # Its VPN attachments go with their VPN connections.
    depends_on=("transit_gateway_vpc_attachments", "vpn_connections"),
    steps=deleted_by("delete_transit_gateway", "TransitGatewayId"),
    wait=still_in_state("describe_transit_gateways", "TransitGateways", "TransitGatewayId", "transit-gateway-id"),
    gone_codes=frozenset({"InvalidTransitGatewayID.NotFound"}),
    retry_codes=frozenset({"IncorrectState", "DependencyViolation"}),  # attachments still being deleted
    seed=_seed, missing_id="tgw-0123456789abcdef0",
)
catalog_transit_gateways, cleanup_transit_gateway, cleanup_transit_gateways = engine.functions(TRANSIT_GATEWAYS)
