"""Dedicated hosts: billed by the hour while allocated. Released once the instances on them are gone."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, listed
from costcutter.services.ec2.common import taking_many_ids


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return ec2.allocate_hosts(AvailabilityZone=f"{region}a", InstanceType="m5.large", Quantity=count)["HostIds"]


def _family(host):
    return {"family": host.get("instance_family") or str(host.get("instance_type", "")).split(".")[0]}


DEDICATED_HOSTS = ResourceType(
    service="ec2", name="dedicated_hosts", client="ec2",
    cost=(Charge("ec2.dedicated_host:{family}", fields=_family),),
    depends_on=("instances",), doc=__doc__,
    list=listed("describe_hosts", "Hosts", "HostId", created="AllocationTime",
                properties={"instance_type": "HostProperties.InstanceType",
                            "instance_family": "HostProperties.InstanceFamily", "state": "State",
                            "availability_zone": "AvailabilityZone"},
                Filter=[{"Name": "state", "Values": ["available", "under-assessment", "permanent-failure",
                                                     "pending"]}]),
    # ReleaseHosts answers success, and lists the hosts it could not release.
    # AWS documents no most ids a call.
    **taking_many_ids("release_hosts", "HostIds", "Unsuccessful", size=100, step="release"),
    gone_codes=frozenset({"Client.InvalidHostID.NotFound", "InvalidHostID.NotFound"}),
    seed=_seed, missing_id="h-0123456789abcdef0",
)
catalog_dedicated_hosts, cleanup_dedicated_host, cleanup_dedicated_hosts = engine.functions(DEDICATED_HOSTS)
