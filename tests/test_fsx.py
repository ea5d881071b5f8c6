"""FSx's quirks, against moto in process: a final backup only where rds_final_snapshot asks
for one and the file system can have one, and one listing per wait."""

import boto3

from costcutter.services.elbv2.load_balancers import default_subnets
from costcutter.services.fsx import file_systems

REGION = "eu-west-1"
CHILDREN = "DELETE_CHILD_VOLUMES_AND_SNAPSHOTS"


def create(session, kind, **configuration):
    fsx = boto3.client("fsx", region_name=REGION)
    return fsx.create_file_system(FileSystemType=kind, StorageCapacity=1200, SubnetIds=default_subnets(session, REGION, 1),
                                  **configuration)["FileSystem"]["FileSystemId"]


def deletion_options(session, watch, make_reporter, final_backup):
    """What DeleteFileSystem is asked, by file system kind, for the file systems below."""
    made = {"windows": create(session, "WINDOWS", WindowsConfiguration={"ThroughputCapacity": 32}),
            "scratch": create(session, "LUSTRE", LustreConfiguration={"DeploymentType": "SCRATCH_2"}),
            "persistent": create(session, "LUSTRE", LustreConfiguration={"DeploymentType": "PERSISTENT_2"}),
            "openzfs": create(session, "OPENZFS")}
    deletions = watch(session, "fsx", REGION, "DeleteFileSystem")
    reporter = make_reporter(REGION, settings={"rds_final_snapshot": final_backup})
    assert file_systems.cleanup_file_systems(session, REGION, reporter, dry_run=False) == dict.fromkeys(
        made.values(), "deleted")
    by_id = {d.pop("FileSystemId"): d for d in deletions}
    return {kind: {k: v for k, v in by_id[fs].items() if k != "ClientRequestToken"} for kind, fs in made.items()}


def test_without_rds_final_snapshot_no_final_backup_is_taken(session, watch, make_reporter):
    assert deletion_options(session, watch, make_reporter, final_backup=False) == {
        "windows": {"WindowsConfiguration": {"SkipFinalBackup": True}}, "scratch": {}, "persistent": {},
        "openzfs": {"OpenZFSConfiguration": {"SkipFinalBackup": True, "Options": [CHILDREN]}}}


def test_with_rds_final_snapshot_a_final_backup_is_taken_where_one_can_be(session, watch, make_reporter):
    assert deletion_options(session, watch, make_reporter, final_backup=True) == {
        "windows": {"WindowsConfiguration": {"SkipFinalBackup": False}}, "scratch": {},
        "persistent": {"LustreConfiguration": {"SkipFinalBackup": False}},
        "openzfs": {"OpenZFSConfiguration": {"SkipFinalBackup": False, "Options": [CHILDREN]}}}


def test_deleting_many_waits_with_one_listing_per_poll(session, watch, make_reporter):
    made = [create(session, "LUSTRE") for _ in range(3)]
    listings = watch(session, "fsx", REGION, "DescribeFileSystems")
    outcomes = file_systems.cleanup_file_systems(session, REGION, make_reporter(REGION), dry_run=False)
    assert outcomes == dict.fromkeys(made, "deleted")
    assert len(listings) == 2  # the catalog, then one poll for all three
