"""VPC peering connections, active or waiting to be accepted: deleted (from either side) before their VPCs."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed
from costcutter.services.ec2.vpcs import create_vpc

_LIVE_STATES = {"initiating-request", "pending-acceptance", "provisioning", "active"}


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    requester, accepter = create_vpc(ec2, "10.0.0.0/16"), create_vpc(ec2, "10.1.0.0/16")
    return [ec2.create_vpc_peering_connection(VpcId=requester, PeerVpcId=accepter)
            ["VpcPeeringConnection"]["VpcPeeringConnectionId"] for _ in range(count)]


VPC_PEERING_CONNECTIONS = ResourceType(
    service="ec2", name="vpc_peering_connections", client="ec2", doc=__doc__,
    list=listed("describe_vpc_peering_connections", "VpcPeeringConnections", "VpcPeeringConnectionId",
                keep=lambda peering: peering["Status"]["Code"] in _LIVE_STATES,
                properties={"status": "Status.Code", "requester_vpc_id": "RequesterVpcInfo.VpcId",
                            "accepter_vpc_id": "AccepterVpcInfo.VpcId", "accepter_region": "AccepterVpcInfo.Region"}),
    steps=deleted_by("delete_vpc_peering_connection", "VpcPeeringConnectionId"),
    # AWS spells it ...ID..., moto ...Id...
    gone_codes=frozenset({"InvalidVpcPeeringConnectionID.NotFound", "InvalidVpcPeeringConnectionId.NotFound"}),
    seed=_seed, missing_id="pcx-0123456789abcdef0",
)
catalog_vpc_peering_connections, cleanup_vpc_peering_connection, cleanup_vpc_peering_connections = engine.functions(
    VPC_PEERING_CONNECTIONS)
