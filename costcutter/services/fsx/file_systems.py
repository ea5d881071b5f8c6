"""FSx file systems (Windows, Lustre, OpenZFS, ONTAP): billed by the GB-month provisioned; deleted, then waited for.

AWS takes a final backup of a Windows or OpenZFS file system unless told not to, and
keeps it (at a cost) after the file system is gone. A final backup is taken where
rds_final_snapshot is true (and possible: never for scratch Lustre), and skipped
otherwise. An OpenZFS file system goes with its child volumes and snapshots; an ONTAP
one is refused while it has volumes or storage virtual machines, which CostCutter does
not delete yet: it is reported failed, with AWS's reason.
"""

from costcutter import aws, engine
from costcutter.registry import Charge, ResourceType, Step, listed, pages, per
from costcutter.services.elbv2.load_balancers import default_subnets

_GONE = "FileSystemNotFound"


def _file_system(target, resource) -> dict:
    """The listed file system, or, for one given by id alone, what DescribeFileSystems says of it."""
    if resource.raw:
        return resource.raw
    described = target.client.describe_file_systems(FileSystemIds=[resource.id])["FileSystems"]
    if not described:  # AWS answers FileSystemNotFound itself; moto answers with nothing
        raise aws.client_error(_GONE, f"{resource.id} does not exist", "DescribeFileSystems")
    return described[0]


def _final_backup_options(file_system: dict, final_backup: bool) -> dict:
    kind = file_system.get("FileSystemType")
    if kind == "WINDOWS":
        return {"WindowsConfiguration": {"SkipFinalBackup": not final_backup}}
    if kind == "OPENZFS":
        return {"OpenZFSConfiguration": {"SkipFinalBackup": not final_backup,
                                         "Options": ["DELETE_CHILD_VOLUMES_AND_SNAPSHOTS"]}}
    deployment = file_system.get("LustreConfiguration", {}).get("DeploymentType", "")
    if kind == "LUSTRE" and final_backup and not deployment.startswith("SCRATCH"):
        return {"LustreConfiguration": {"SkipFinalBackup": False}}  # Lustre skips it unless asked
    return {}


def _delete(target, resource):
    file_system = _file_system(target, resource)
    options = _final_backup_options(file_system, bool(target.settings.get("rds_final_snapshot")))
    target.client.delete_file_system(FileSystemId=resource.id, **options)
    return "with a final backup" if any(not o.get("SkipFinalBackup", True) for o in options.values()) else None


def _still_deleting(target, ids):
    # DescribeFileSystems by id fails outright on one that is gone: one listing answers for all.
    waiting = set(ids)
    for page in pages(target.client, "describe_file_systems"):
        yield from (fs["FileSystemId"] for fs in page["FileSystems"] if fs["FileSystemId"] in waiting)


def _seed(session, region, count):
    fsx = session.client("fsx", region_name=region)
    subnets = default_subnets(session, region, count=1)
    return [fsx.create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=subnets,
                                   LustreConfiguration={"DeploymentType": "SCRATCH_2"}
                                   )["FileSystem"]["FileSystemId"] for _ in range(count)]


def _kind(file_system):
    """The price table's name of its type and deployment: LUSTRE.SCRATCH_2, WINDOWS.MULTI_AZ_1, ONTAP."""
    deployment = file_system.get("lustre_deployment") or file_system.get("windows_deployment")
    return {"kind": ".".join(filter(None, [file_system.get("type"), deployment]))}


FILE_SYSTEMS = ResourceType(
    service="fsx", name="file_systems", client="fsx",
    cost=(Charge("fsx.storage:{kind}", per("storage_gib"), fields=_kind),
          Charge("fsx.throughput:{kind}", per("windows_throughput_mbps", default=0), fields=_kind)),
    doc=__doc__,
    list=listed("describe_file_systems", "FileSystems", "FileSystemId", created="CreationTime",
                keep=lambda fs: fs.get("Lifecycle") != "DELETING",
                properties={"type": "FileSystemType", "storage_gib": "StorageCapacity", "storage_type": "StorageType",
                            "state": "Lifecycle", "lustre_deployment": "LustreConfiguration.DeploymentType",
                            "windows_deployment": "WindowsConfiguration.DeploymentType",
                            "windows_throughput_mbps": "WindowsConfiguration.ThroughputCapacity"}),
    steps=(Step("delete", _delete),),
    settings=("rds_final_snapshot",),
    wait=_still_deleting,
    gone_codes=frozenset({_GONE}),
    seed=_seed, missing_id="fs-0123456789abcdef0",
)
catalog_file_systems, cleanup_file_system, cleanup_file_systems = engine.functions(FILE_SYSTEMS)
