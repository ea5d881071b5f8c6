"""Network ACLs other than each VPC's default: deleted once the subnets associated with them are gone.

An ACL still associated with a subnet that stays (one holding a protected instance) stays
too: handing that subnet to its VPC's default ACL would open it to whatever the default allows.
"""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed
from costcutter.services.ec2.vpcs import create_vpc


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    vpc = create_vpc(ec2)
    return [ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"] for _ in range(count)]


NETWORK_ACLS = ResourceType(
    service="ec2", name="network_acls", client="ec2", depends_on=("subnets",), doc=__doc__,
    list=listed("describe_network_acls", "NetworkAcls", "NetworkAclId", keep=lambda acl: not acl["IsDefault"],
                properties={"vpc_id": "VpcId"}),
    steps=deleted_by("delete_network_acl", "NetworkAclId"),
    gone_codes=frozenset({"InvalidNetworkAclID.NotFound"}),
    seed=_seed, missing_id="acl-0123456789abcdef0",
)
catalog_network_acls, cleanup_network_acl, cleanup_network_acls = engine.functions(NETWORK_ACLS)
