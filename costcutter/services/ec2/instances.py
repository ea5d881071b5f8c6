"""EC2 instances: terminated, then waited for (one describe for all of them), so the volumes they free can be deleted next."""

from costcutter import engine
from costcutter.registry import (Charge, Protection, ResourceType, Step, associated, batched, deleted_by, holding,
                                 name_in_arn, pages, record, unless)
from costcutter.services.ec2.amis import register_image

# Terminated instances linger in listings for an hour; shutting-down ones are already going.
_GONE_STATES = {"shutting-down", "terminated"}
_PROPERTIES = {"instance_type": "InstanceType", "state": "State.Name", "platform": "PlatformDetails",
               "lifecycle": "InstanceLifecycle",
               # What it holds, kept with it when it is kept.
               "volume_ids": "BlockDeviceMappings[].Ebs.VolumeId",
               "network_interface_ids": "NetworkInterfaces[].NetworkInterfaceId",
               "security_group_ids": "SecurityGroups[].GroupId", "subnet_id": "SubnetId", "vpc_id": "VpcId",
               "instance_profile_arn": "IamInstanceProfile.Arn", "host_id": "Placement.HostId"}


def _instances(target, **filters):
    for page in pages(target.client, "describe_instances", **filters):
        for reservation in page["Reservations"]:
            yield from reservation["Instances"]


def _list(target):
    for instance in _instances(target):
        if instance["State"]["Name"] not in _GONE_STATES:
            yield record(instance, "InstanceId", created="LaunchTime", properties=_PROPERTIES)


def _still_terminating(target, ids):
    # A filter, unlike InstanceIds, does not fail on an id that is already gone.
    for start in range(0, len(ids), 200):
        chunk = ids[start:start + 200]
        for instance in _instances(target, Filters=[{"Name": "instance-id", "Values": chunk}]):
            if instance["State"]["Name"] != "terminated":
                yield instance["InstanceId"]


def _disable_termination_protection(target, instance):
    target.client.modify_instance_attribute(InstanceId=instance.id, DisableApiTermination={"Value": False})


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    image = register_image(ec2, "costcutter-seed-base")
    reservation = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count, InstanceType="t3.micro")
    return [instance["InstanceId"] for instance in reservation["Instances"]]


def _os(instance):
    """The price table's name of its operating system (PlatformDetails: "Linux/UNIX", "Windows", ...)."""
    platform = instance.get("platform", "Linux/UNIX")  # moto's listing leaves it out
    return {"os": {"Linux/UNIX": "linux", "Windows": "windows"}.get(platform, platform)}


INSTANCES = ResourceType(
    service="ec2", name="instances", client="ec2",
    goes_with="an Auto Scaling group or a spot fleet terminates its own instances",
    cost=(Charge("ec2.instance:{instance_type}:{os}", unless("state", "stopping", "stopped"), fields=_os),),
    doc=__doc__,
    list=_list,
    # What a kept one holds that its description does not name: its Elastic IPs, and its
    # VPC's internet gateway (a kept instance keeps its way out).
    associate=(associated("elastic_ip_ids", "describe_addresses", "Addresses", "AllocationId", "InstanceId"),
               associated("internet_gateway_ids", "describe_internet_gateways", "InternetGateways",
                          "InternetGatewayId", "Attachments[].VpcId", by="vpc_id")),
    # What launches instances goes first, or it launches new ones in place of those terminated.
    depends_on=(
        "autoscaling.groups", "spot_instance_requests", "spot_fleets", "emr.clusters",
        "elasticbeanstalk.environments", "eks.node_groups",
    ),
    steps=deleted_by("terminate_instances", "InstanceIds", in_list=True),
    batch=batched("terminate_instances", "InstanceIds", size=1000),  # AWS takes up to 1000 ids a call
    # Termination protection does not show in the listing: TerminateInstances refuses with
    # OperationNotPermitted, and then it is lifted or the instance skipped, as the settings say.
    protection=Protection("remove_deletion_protection", Step("disable_termination_protection",
                                                             _disable_termination_protection),
                          codes=frozenset({"OperationNotPermitted"})),
    wait=_still_terminating,
    gone_codes=frozenset({"InvalidInstanceID.NotFound"}),
    seed=_seed, missing_id="i-0123456789abcdef0",
    holds=holding({
        "ec2.volumes": "volume_ids", "ec2.network_interfaces": "network_interface_ids",
        "ec2.elastic_ips": "elastic_ip_ids", "ec2.dedicated_hosts": "host_id",
        "ec2.internet_gateways": "internet_gateway_ids", "ec2.security_groups": "security_group_ids",
        "ec2.subnets": "subnet_id", "ec2.vpcs": "vpc_id", "iam.instance_profiles": ("instance_profile_arn", name_in_arn),
    }),
)
catalog_instances, cleanup_instance, cleanup_instances = engine.functions(INSTANCES)
