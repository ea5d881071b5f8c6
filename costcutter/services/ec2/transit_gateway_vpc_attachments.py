"""Transit gateway VPC attachments: billed by the hour. Deleted, then waited for, before their subnets and gateways."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, listed, unless
from costcutter.services.ec2.common import still_in_state
from costcutter.services.ec2.subnets import create_subnets
from costcutter.services.ec2.vpcs import create_vpc

_GONE_STATES = {"deleting", "deleted", "failed", "failing", "rejected", "rejecting"}


def _seed(session, region, count):
    """Attachments of a VPC each (a VPC attaches to a transit gateway once) to one transit gateway."""
    ec2 = session.client("ec2", region_name=region)
    gateway = ec2.create_transit_gateway(Description="costcutter seed")["TransitGateway"]["TransitGatewayId"]
    attachments = []
    for _ in range(count):
        vpc = create_vpc(ec2)
        [subnet] = create_subnets(ec2, region, 1, vpc)
        attachments.append(ec2.create_transit_gateway_vpc_attachment(
            TransitGatewayId=gateway, VpcId=vpc, SubnetIds=[subnet])["TransitGatewayVpcAttachment"]
            ["TransitGatewayAttachmentId"])
    return attachments


TRANSIT_GATEWAY_VPC_ATTACHMENTS = ResourceType(
    service="ec2", name="transit_gateway_vpc_attachments", client="ec2",
    cost=(Charge("vpc.transit_gateway_attachment", unless("state", "deleting", "deleted", "failed")),),
    doc=__doc__,
    list=listed("describe_transit_gateway_vpc_attachments", "TransitGatewayVpcAttachments",
                "TransitGatewayAttachmentId", created="CreationTime",
                keep=lambda attachment: attachment["State"] not in _GONE_STATES,
                properties={"transit_gateway_id": "TransitGatewayId", "vpc_id": "VpcId", "state": "State"}),
    steps=deleted_by("delete_transit_gateway_vpc_attachment", "TransitGatewayAttachmentId"),
    wait=still_in_state("describe_transit_gateway_vpc_attachments", "TransitGatewayVpcAttachments",
                        "TransitGatewayAttachmentId", "transit-gateway-attachment-id"),
    gone_codes=frozenset({"InvalidTransitGatewayAttachmentID.NotFound"}),
    retry_codes=frozenset({"IncorrectState"}),  # still being created or modified
    seed=_seed, missing_id="tgw-attach-0123456789abcdef0",
)
(catalog_transit_gateway_vpc_attachments, cleanup_transit_gateway_vpc_attachment,
 cleanup_transit_gateway_vpc_attachments) = engine.functions(TRANSIT_GATEWAY_VPC_ATTACHMENTS)
