"""Elastic IPs: billed while idle. Disassociated first (if the listing shows an association), then released."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, Step, call, listed


def _disassociate(target, address):
    target.client.disassociate_address(AssociationId=address.raw["AssociationId"])
    return f"disassociated {address.raw['AssociationId']}"


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [ec2.allocate_address(Domain="vpc")["AllocationId"] for _ in range(count)]


ELASTIC_IPS = ResourceType(
    service="ec2", name="elastic_ips", client="ec2",
    cost=(Charge("vpc.public_ipv4"),),  # every public IPv4 address is billed by the hour, in use or not
    doc=__doc__,
    depends_on=("instances", "nat_gateways", "elbv2.load_balancers"),
    # EC2-Classic addresses have no AllocationId, and no longer exist.
    list=listed("describe_addresses", "Addresses", "AllocationId", keep=lambda address: "AllocationId" in address,
                properties={"public_ip": "PublicIp", "association_id": "AssociationId",
                            "instance_id": "InstanceId"}),
    steps=(
        # An association that went on its own (its instance terminated) leaves the address
        # allocated, and billed, so it is released all the same.
        Step("disassociate", _disassociate, done_codes=frozenset({"InvalidAssociationID.NotFound"}),
             when=lambda address: bool(address.raw.get("AssociationId"))),
        call("release_address", "AllocationId"),
    ),
    gone_codes=frozenset({"InvalidAllocationID.NotFound"}),
    seed=_seed, missing_id="eipalloc-0123456789abcdef0",
)
catalog_elastic_ips, cleanup_elastic_ip, cleanup_elastic_ips = engine.functions(ELASTIC_IPS)
