"""Spot fleet requests still running: cancelled with their instances terminated, so the fleet launches no more."""

from costcutter import engine
from costcutter.registry import ResourceType, listed
from costcutter.services.ec2.amis import register_image
from costcutter.services.ec2.common import taking_many_ids

_LIVE_STATES = {"submitted", "active", "modifying"}


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    image = register_image(ec2, "costcutter-seed-fleet-base")
    config = {"TargetCapacity": 1, "AllocationStrategy": "lowestPrice", "SpotPrice": "0.05",
              "IamFleetRole": "arn:aws:iam::123456789012:role/costcutter-seed-fleet",
              "LaunchSpecifications": [{"ImageId": image, "InstanceType": "t3.micro"}]}
    return [ec2.request_spot_fleet(SpotFleetRequestConfig=config)["SpotFleetRequestId"] for _ in range(count)]


SPOT_FLEETS = ResourceType(
    service="ec2", name="spot_fleets", client="ec2", doc=__doc__,
    list=listed("describe_spot_fleet_requests", "SpotFleetRequestConfigs", "SpotFleetRequestId", created="CreateTime",
                keep=lambda fleet: fleet["SpotFleetRequestState"] in _LIVE_STATES,
                properties={"state": "SpotFleetRequestState",
                            "target_capacity": "SpotFleetRequestConfig.TargetCapacity",
                            "fleet_type": "SpotFleetRequestConfig.Type"}),
    # CancelSpotFleetRequests answers success, and lists the fleets it could not cancel.
    # AWS takes up to 100 ids a call.
    **taking_many_ids("cancel_spot_fleet_requests", "SpotFleetRequestIds", "UnsuccessfulFleetRequests", size=100,
                      step="cancel", failed_id="SpotFleetRequestId", TerminateInstances=True),
    gone_codes=frozenset({"fleetRequestIdDoesNotExist", "InvalidSpotFleetRequestId.NotFound",
                          "fleetRequestNotInCancellableState"}),  # cancelled already
    seed=_seed, missing_id="sfr-01234567-89ab-cdef-0123-456789abcdef",
)
catalog_spot_fleets, cleanup_spot_fleet, cleanup_spot_fleets = engine.functions(SPOT_FLEETS)
