"""Elastic IPs: billed while idle. Disassociated first, then released."""

from botocore.exceptions import ClientError

from costcutter import aws
from costcutter.registry import Subresource


def _list(ec2):
    # DescribeAddresses has no pagination: it returns every address of the region.
    for address in ec2.describe_addresses()["Addresses"]:
        if "AllocationId" in address:  # EC2-Classic addresses have none and no longer exist
            yield address["AllocationId"]


def _release(ec2, allocation_id):
    addresses = ec2.describe_addresses(AllocationIds=[allocation_id])["Addresses"]
    association = addresses[0].get("AssociationId") if addresses else None
    if association:
        try:
            ec2.disassociate_address(AssociationId=association)
        except ClientError as error:
            # The association went on its own (its instance terminated): the address is
            # still allocated, and billed, so go on and release it.
            if aws.error_code(error) != "InvalidAssociationID.NotFound":
                raise
    ec2.release_address(AllocationId=allocation_id)
    return f"disassociated {association}" if association else None


ELASTIC_IPS = Subresource(
    service="ec2", name="elastic_ips", client="ec2", list=_list, delete=_release, after=("instances",),
    gone_codes=frozenset({"InvalidAllocationID.NotFound"}),
)
catalog_elastic_ips, cleanup_elastic_ip, cleanup_elastic_ips = ELASTIC_IPS.functions()
