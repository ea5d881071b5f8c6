"""EFS's quirks, against moto in process: mount targets listed and waited for file system by
file system, and a file system that still has one refused and retried."""

import boto3
import pytest

from costcutter.services.efs import access_points, file_systems, mount_targets
from costcutter.services.efs.file_systems import create_file_system
from costcutter.services.elbv2.load_balancers import default_subnets

REGION = "eu-west-1"


@pytest.fixture
def efs(aws_mock):
    return boto3.client("efs", region_name=REGION)


def file_system_with_everything(session, efs):
    """A file system with a mount target in two zones and an access point, and one with nothing."""
    file_system = create_file_system(session, REGION)
    targets = [efs.create_mount_target(FileSystemId=file_system, SubnetId=subnet)["MountTargetId"]
               for subnet in default_subnets(session, REGION)]
    point = efs.create_access_point(FileSystemId=file_system)["AccessPointId"]
    return file_system, targets, point, create_file_system(session, REGION)


def test_mount_targets_are_listed_and_waited_for_only_where_the_listing_counts_some(session, efs, make_reporter,
                                                                                     watch):
    file_system, targets, *_ = file_system_with_everything(session, efs)
    asked = watch(session, "efs", REGION, "DescribeMountTargets")
    reporter = make_reporter(REGION)
    outcomes = mount_targets.cleanup_mount_targets(session, REGION, reporter, dry_run=False)
    assert outcomes == dict.fromkeys(targets, "deleted")
    # The catalog asks of the one file system with mount targets; the poll finds it has none left.
    assert [a["FileSystemId"] for a in asked] == [file_system]
    assert efs.describe_mount_targets(FileSystemId=file_system)["MountTargets"] == []


def test_a_file_system_goes_after_its_mount_targets_and_access_points(session, efs, make_reporter):
    file_system, _, point, bare = file_system_with_everything(session, efs)
    reporter = make_reporter(REGION)
    mount_targets.cleanup_mount_targets(session, REGION, reporter, dry_run=False)
    assert access_points.cleanup_access_points(session, REGION, reporter, dry_run=False) == {point: "deleted"}
    outcomes = file_systems.cleanup_file_systems(session, REGION, reporter, dry_run=False)
    assert outcomes == {file_system: "deleted", bare: "deleted"}
    assert efs.describe_file_systems()["FileSystems"] == []


def test_a_file_system_with_a_mount_target_is_refused_retried_then_failed(session, efs, make_reporter, watch):
    file_system, *_ = file_system_with_everything(session, efs)
    deletions = watch(session, "efs", REGION, "DeleteFileSystem")
    reporter = make_reporter(REGION, wait_timeout=2)
    assert file_systems.cleanup_file_system(session, REGION, file_system, reporter, False) == "failed"
    assert len(deletions) == 2  # retried once within the wait_timeout
    [failed] = reporter.events("failed")
    assert failed["error_code"] == "FileSystemInUse"
