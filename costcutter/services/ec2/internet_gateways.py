"""Internet gateways other than the default VPC's: detached from every VPC, then deleted.

A VPC with public addresses still mapped (instances, Elastic IPs, NAT gateways) refuses
the detachment, so those go first.
"""

from costcutter import engine
from costcutter.registry import ResourceType, call
from costcutter.services.ec2.common import default_vpc_ids, detach_from_vpcs, listed_gateways
from costcutter.services.ec2.vpcs import create_vpc

_list_gateways = listed_gateways("describe_internet_gateways", "InternetGateways", "InternetGatewayId")


def _list(target):
    defaults = default_vpc_ids(target.client)
    yield from (gateway for gateway in _list_gateways(target) if not defaults & set(gateway.properties["vpc_ids"]))


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    gateways = []
    for _ in range(count):
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=create_vpc(ec2))
        gateways.append(gateway)
    return gateways


INTERNET_GATEWAYS = ResourceType(
    service="ec2", name="internet_gateways", client="ec2", doc=__doc__, list=_list,
    depends_on=("instances", "elastic_ips", "nat_gateways"),
    steps=(
        detach_from_vpcs("detach_internet_gateway", "InternetGatewayId", "Gateway.NotAttached"),
        call("delete_internet_gateway", "InternetGatewayId"),
    ),
    gone_codes=frozenset({"InvalidInternetGatewayID.NotFound"}),
    # "has some mapped public address(es)": those of instances still terminating.
    retry_codes=frozenset({"DependencyViolation"}),
    seed=_seed, missing_id="igw-0123456789abcdef0",
)
catalog_internet_gateways, cleanup_internet_gateway, cleanup_internet_gateways = engine.functions(INTERNET_GATEWAYS)
