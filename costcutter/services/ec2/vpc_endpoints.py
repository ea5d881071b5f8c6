"""VPC endpoints (interface ones are billed by the hour): deleted, then waited for, as they hold subnets and groups."""

from costcutter import engine
from costcutter.registry import ResourceType, listed
from costcutter.services.ec2.common import still_in_state, taking_many_ids
from costcutter.services.ec2.vpcs import create_vpc

_GONE_STATES = frozenset({"deleting", "deleted"})


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    vpc = create_vpc(ec2)
    # Gateway endpoints, with the type said: moto cannot delete one whose type it was not told.
    return [ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{region}.s3", VpcEndpointType="Gateway")
            ["VpcEndpoint"]["VpcEndpointId"] for _ in range(count)]


VPC_ENDPOINTS = ResourceType(
    service="ec2", name="vpc_endpoints", client="ec2", doc=__doc__,
    list=listed("describe_vpc_endpoints", "VpcEndpoints", "VpcEndpointId", created="CreationTimestamp",
                keep=lambda endpoint: endpoint["State"].lower() not in _GONE_STATES,
                properties={"vpc_id": "VpcId", "service_name": "ServiceName", "endpoint_type": "VpcEndpointType",
                            "state": "State"}),
    # DeleteVpcEndpoints answers success, and lists the ids it could not delete.
    # AWS documents no most ids a call; 25 is a guess on the safe side.
    **taking_many_ids("delete_vpc_endpoints", "VpcEndpointIds", "Unsuccessful", size=25),
    # Waited for with a listing of all, as moto has no vpc-endpoint-id filter.
    wait=still_in_state("describe_vpc_endpoints", "VpcEndpoints", "VpcEndpointId", None),
    gone_codes=frozenset({"InvalidVpcEndpoint.NotFound", "InvalidVpcEndpointId.NotFound"}),
    seed=_seed, missing_id="vpce-0123456789abcdef0",
)
catalog_vpc_endpoints, cleanup_vpc_endpoint, cleanup_vpc_endpoints = engine.functions(VPC_ENDPOINTS)
