"""EFS file systems: billed by the GB-month stored; deleted once their mount targets and access points are gone.

Mount targets take a while to go after efs.mount_targets has deleted them and waited;
until they have, the deletion is refused (FileSystemInUse) and retried. A file system in a
replication configuration is refused until the replication is deleted, which CostCutter
does not do yet: it is reported failed, with AWS's reason.
"""

import uuid

from costcutter import engine
from costcutter.registry import GB, Charge, ResourceType, deleted_by, listed, per

GONE_STATES = ("deleting", "deleted")


def create_file_system(session, region: str) -> str:
    efs = session.client("efs", region_name=region)
    # Provisioned throughput, billed a month whatever it holds: moto's file systems hold 0 bytes.
    return efs.create_file_system(CreationToken=f"cc-seed-{uuid.uuid4().hex}", ThroughputMode="provisioned",
                                  ProvisionedThroughputInMibps=1,
                                  Tags=[{"Key": "Name", "Value": "costcutter seed"}])["FileSystemId"]


def _seed(session, region, count):
    return [create_file_system(session, region) for _ in range(count)]


def _provisioned(file_system):
    return (file_system.get("provisioned_mibps") or 0) if file_system.get("throughput_mode") == "provisioned" else 0


FILE_SYSTEMS = ResourceType(
    service="efs", name="file_systems", client="efs",
    cost=(Charge("efs.storage", per("size_bytes", GB)), Charge("efs.provisioned_throughput", _provisioned)),
    depends_on=("mount_targets", "access_points"), doc=__doc__,
    list=listed("describe_file_systems", "FileSystems", "FileSystemId", name="Name", created="CreationTime",
                keep=lambda fs: fs["LifeCycleState"] not in GONE_STATES,
                properties={"size_bytes": "SizeInBytes.Value", "throughput_mode": "ThroughputMode",
                            "provisioned_mibps": "ProvisionedThroughputInMibps",
                            "performance_mode": "PerformanceMode", "state": "LifeCycleState",
                            "mount_targets": "NumberOfMountTargets"}),
    steps=deleted_by("delete_file_system", "FileSystemId"),
    gone_codes=frozenset({"FileSystemNotFound"}),
    retry_codes=frozenset({"FileSystemInUse"}),
    seed=_seed, missing_id="fs-0123456789abcdef0",
)
catalog_file_systems, cleanup_file_system, cleanup_file_systems = engine.functions(FILE_SYSTEMS)
