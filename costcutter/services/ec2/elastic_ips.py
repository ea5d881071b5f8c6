"""Elastic IPs: billed while idle. Disassociated first, then released."""

from costcutter import aws
from costcutter.registry import Subresource, listed


def _release(ec2, allocation_id):
    addresses = ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"]
    association = addresses[0].get("AssociationId") if addresses else None
    if association:
        # An association that went on its own (its instance terminated) leaves the address
        # allocated, and billed, so it is released all the same.
        with aws.ignoring("InvalidAssociationID.NotFound"):
            ec2.disassociate_address(AssociationId=association)
    ec2.release_address(AllocationId=allocation_id)
    return f"disassociated {association}" if association else None


ELASTIC_IPS = Subresource(
    service="ec2", name="elastic_ips", client="ec2", delete=_release, after=("instances",),
    # EC2-Classic addresses have no AllocationId, and no longer exist.
    list=listed("describe_addresses", "Addresses", "AllocationId", keep=lambda address: "AllocationId" in address),
    gone_codes=frozenset({"InvalidAllocationID.NotFound"}),
)
catalog_elastic_ips, cleanup_elastic_ip, cleanup_elastic_ips = ELASTIC_IPS.functions()
