"""EFS mount targets: each holds a network interface in a subnet; deleted, then waited for, so their file systems, subnets and security groups can go.

DescribeMountTargets answers one file system at a time, so they are listed (and waited
for) file system by file system, only for those the listing says have any.
"""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, holding, pages, record
from costcutter.services.efs.file_systems import GONE_STATES, create_file_system
from costcutter.services.elbv2.load_balancers import default_subnets

_PROPERTIES = {"subnet_id": "SubnetId", "vpc_id": "VpcId", "availability_zone": "AvailabilityZoneName",
               "network_interface_id": "NetworkInterfaceId", "state": "LifeCycleState",
               "file_system_id": "FileSystemId"}


def _mount_targets(efs):
    for page in pages(efs, "describe_file_systems"):
        for file_system in page["FileSystems"]:
            if file_system.get("NumberOfMountTargets"):
                for targets in pages(efs, "describe_mount_targets", FileSystemId=file_system["FileSystemId"]):
                    yield from targets["MountTargets"]


def _list(target):
    for mount_target in _mount_targets(target.client):
        if mount_target["LifeCycleState"] not in GONE_STATES:
            yield record(mount_target, "MountTargetId", tags=None, parent="FileSystemId", properties=_PROPERTIES)


def _still_deleting(target, ids):
    waiting = set(ids)
    yield from (mt["MountTargetId"] for mt in _mount_targets(target.client) if mt["MountTargetId"] in waiting)


def _seed(session, region, count):
    efs = session.client("efs", region_name=region)
    [subnet] = default_subnets(session, region, count=1)
    return [efs.create_mount_target(FileSystemId=create_file_system(session, region), SubnetId=subnet)["MountTargetId"]
            for _ in range(count)]


MOUNT_TARGETS = ResourceType(
    depends_on=("lambda.functions",),
    service="efs", name="mount_targets", client="efs", doc=__doc__, list=_list,
    steps=deleted_by("delete_mount_target", "MountTargetId"),
    wait=_still_deleting,
    gone_codes=frozenset({"MountTargetNotFound"}),
    seed=_seed, missing_id="fsmt-0123456789abcdef0",
    holds=holding({"efs.file_systems": "file_system_id", "ec2.network_interfaces": "network_interface_id",
                    "ec2.subnets": "subnet_id", "ec2.vpcs": "vpc_id"}),
)
catalog_mount_targets, cleanup_mount_target, cleanup_mount_targets = engine.functions(MOUNT_TARGETS)
