"""Spot instance requests still open or active: cancelled before instances are terminated, so none relaunches."""

from costcutter import engine
from costcutter.registry import ResourceType, batched, call, listed
from costcutter.services.ec2.amis import register_image


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    image = register_image(ec2, "costcutter-seed-spot-base")
    requests = ec2.request_spot_instances(SpotPrice="0.05", InstanceCount=count,
                                          LaunchSpecification={"ImageId": image, "InstanceType": "t3.micro"})
    return [request["SpotInstanceRequestId"] for request in requests["SpotInstanceRequests"]]


SPOT_INSTANCE_REQUESTS = ResourceType(
    service="ec2", name="spot_instance_requests", client="ec2", doc=__doc__,
    list=listed("describe_spot_instance_requests", "SpotInstanceRequests", "SpotInstanceRequestId",
                created="CreateTime",
                properties={"state": "State", "type": "Type", "instance_id": "InstanceId",
                            "instance_type": "LaunchSpecification.InstanceType"},
                Filters=[{"Name": "state", "Values": ["open", "active", "disabled"]}]),
    steps=(call("cancel_spot_instance_requests", "SpotInstanceRequestIds", step="cancel", in_list=True),),
    # AWS documents no most; an unknown id fails the whole call, and the engine then takes them one at a time.
    batch=batched("cancel_spot_instance_requests", "SpotInstanceRequestIds", size=100),
    gone_codes=frozenset({"InvalidSpotInstanceRequestID.NotFound"}),
    seed=_seed, missing_id="sir-0123456789abcdef0",
)
catalog_spot_instance_requests, cleanup_spot_instance_request, cleanup_spot_instance_requests = engine.functions(
    SPOT_INSTANCE_REQUESTS)
