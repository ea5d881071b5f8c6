"""The EC2 handlers against moto in process: what they delete, what they record, and
what the shared Subresource code does on resume and on stop."""

import threading

import boto3
import pytest

from costcutter import aws, sandbox
from costcutter.registry import ordered_subresources
from costcutter.reporter import Interrupted
from costcutter.services.ec2 import amis, elastic_ips, instances, key_pairs, security_groups, snapshots, volumes

REGION = "us-east-1"
MODULES = {m.__name__.rsplit(".", 1)[1]: m
           for m in (instances, amis, elastic_ips, key_pairs, security_groups, snapshots, volumes)}
EC2_TYPES = [s.name for s in ordered_subresources() if s.service == "ec2"]

# What moto still holds, read with plain describe calls rather than the handlers' own listing.
LISTINGS = {
    "instances": lambda ec2: [i["InstanceId"] for r in ec2.describe_instances()["Reservations"]
                              for i in r["Instances"] if i["State"]["Name"] != "terminated"],
    "amis": lambda ec2: [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]],
    "snapshots": lambda ec2: [s["SnapshotId"] for s in ec2.describe_snapshots()["Snapshots"]],
    "volumes": lambda ec2: [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]],
    "elastic_ips": lambda ec2: [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]],
    "key_pairs": lambda ec2: [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]],
    "security_groups": lambda ec2: [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]
                                    if g["GroupName"] != "default"],
}


@pytest.fixture
def session(aws_mock):
    return boto3.Session()


@pytest.fixture
def ec2(aws_mock):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def reporter(make_reporter):
    return make_reporter(REGION)


def remaining(ec2, name):
    return sorted(LISTINGS[name](ec2))


def everything(ec2):
    return {name: remaining(ec2, name) for name in LISTINGS}


def clean(session, name, reporter, dry_run=False):
    """cleanup_<resources>() of one type, as the sweep calls it."""
    return getattr(MODULES[name], f"cleanup_{name}")(session, REGION, reporter, dry_run=dry_run)


def clean_one(session, name, resource_id, reporter):
    """cleanup_<resource>() of one resource: "instances" -> cleanup_instance."""
    return getattr(MODULES[name], f"cleanup_{name[:-1]}")(session, REGION, resource_id, reporter, False)


def kinds_by_id(reporter, name):
    found = {}
    for event in reporter.events():
        if event["resource_type"] == name:
            found.setdefault(event["resource_id"], []).append(event["kind"])
    return found


def only_event(reporter, kind):
    [event] = reporter.events(kind)
    return event


def register(ec2, name="test-image"):
    return ec2.register_image(Name=name, RootDeviceName="/dev/sda1",
                              BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}])["ImageId"]


def launch(ec2, count=1, keep_root=False):
    # moto ignores the image's block device mapping: without one here, the root volume
    # it makes is deleted on termination.
    mapping = [{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8, "DeleteOnTermination": False}}]
    extra = {"BlockDeviceMappings": mapping} if keep_root else {}
    reservation = ec2.run_instances(ImageId=register(ec2), MinCount=count, MaxCount=count, **extra)
    return [i["InstanceId"] for i in reservation["Instances"]]


def watch(session, operation):
    """The parameters of each `operation` call made through the handlers' shared client."""
    seen = []
    client = aws.client(session, "ec2", REGION)
    client.meta.events.register(f"provide-client-params.ec2.{operation}",
                                lambda params, **_: seen.append(dict(params)))
    return seen


# Every type: dry run and real cleanup


@pytest.mark.parametrize("name", EC2_TYPES)
def test_dry_run_records_would_delete_and_changes_nothing(session, ec2, reporter, name):
    sandbox.seed(REGION, buckets=0)
    before = everything(ec2)
    assert before[name]
    outcomes = clean(session, name, reporter, dry_run=True)
    assert outcomes == {rid: "would_delete" for rid in before[name]}
    assert {e["resource_id"] for e in reporter.events("would_delete")} == set(before[name])
    assert not reporter.events("delete_requested")
    assert everything(ec2) == before


@pytest.mark.parametrize("name", EC2_TYPES)
def test_cleanup_deletes_every_resource_of_the_type(session, ec2, reporter, name):
    sandbox.seed(REGION, buckets=0)
    for earlier in EC2_TYPES[:EC2_TYPES.index(name)]:
        clean(session, earlier, reporter)
    before = remaining(ec2, name)
    assert before
    clean(session, name, reporter)
    assert remaining(ec2, name) == []
    assert kinds_by_id(reporter, name) == {rid: ["cataloged", "delete_requested", "deleted"] for rid in before}


# Instances


def test_terminated_instances_are_not_cataloged(session, ec2, reporter):
    gone, running = launch(ec2, count=2)
    ec2.terminate_instances(InstanceIds=[gone])
    assert instances.catalog_instances(session, REGION, reporter) == [running]


def test_protected_instance_fails_and_the_others_are_terminated(session, ec2, reporter):
    protected, other = launch(ec2, count=2)
    # moto ignores DisableApiTermination in run_instances; the attribute can be set afterwards.
    ec2.modify_instance_attribute(InstanceId=protected, DisableApiTermination={"Value": True})
    outcomes = instances.cleanup_instances(session, REGION, reporter, dry_run=False)
    assert outcomes == {protected: "failed", other: "deleted"}
    failed = only_event(reporter, "failed")
    assert failed["resource_id"] == protected
    assert failed["error_code"] == "OperationNotPermitted"
    assert "disableApiTermination" in failed["message"]
    assert remaining(ec2, "instances") == [protected]


# AMIs and snapshots


def test_amis_asks_for_the_accounts_own_only(session, ec2, reporter):
    # Whether moto loads Amazon's public images depends on when it builds the region, so
    # what is checked is the request.
    requests = watch(session, "DescribeImages")
    own = register(ec2)
    assert amis.catalog_amis(session, REGION, reporter) == [own]
    assert [r["Owners"] for r in requests] == [["self"]]


def test_deregistered_ami_leaves_snapshots_for_the_snapshots_step(session, ec2, reporter):
    image = register(ec2)
    [snapshot] = remaining(ec2, "snapshots")
    assert snapshots.cleanup_snapshot(session, REGION, snapshot, reporter, False) == "failed"  # still in use
    amis.cleanup_amis(session, REGION, reporter, dry_run=False)
    assert remaining(ec2, "amis") == [] and remaining(ec2, "snapshots") == [snapshot]
    snapshots.cleanup_snapshots(session, REGION, reporter, dry_run=False)
    assert remaining(ec2, "snapshots") == []
    assert ec2.describe_images(ImageIds=[image])["Images"] == []


def test_snapshots_asks_for_the_accounts_own_only(session, ec2, reporter):
    # moto ignores OwnerIds (with its public AMIs loaded it lists Amazon's snapshots too),
    # so what is checked is the request.
    requests = watch(session, "DescribeSnapshots")
    snapshot = ec2.create_snapshot(VolumeId=ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"])
    assert snapshots.catalog_snapshots(session, REGION, reporter) == [snapshot["SnapshotId"]]
    assert [r["OwnerIds"] for r in requests] == [["self"]]


# Volumes


def test_root_volumes_kept_after_termination_are_deleted(session, ec2, reporter):
    launch(ec2, keep_root=True)
    [root] = ec2.describe_volumes()["Volumes"]
    assert root["State"] == "in-use"
    instances.cleanup_instances(session, REGION, reporter, dry_run=False)
    assert ec2.describe_volumes(VolumeIds=[root["VolumeId"]])["Volumes"][0]["State"] == "available"
    assert volumes.cleanup_volumes(session, REGION, reporter, dry_run=False) == {root["VolumeId"]: "deleted"}
    assert remaining(ec2, "volumes") == []


# Elastic IPs


def test_associated_address_is_disassociated_then_released(session, ec2, reporter):
    [instance] = launch(ec2)
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    association = ec2.associate_address(AllocationId=allocation, InstanceId=instance)["AssociationId"]
    requests = watch(session, "DisassociateAddress")
    assert elastic_ips.cleanup_elastic_ips(session, REGION, reporter, dry_run=False) == {allocation: "deleted"}
    assert requests == [{"AssociationId": association}]
    assert only_event(reporter, "deleted")["message"] == f"disassociated {association}"
    assert remaining(ec2, "elastic_ips") == []


# Key pairs


def test_key_pairs_are_deleted(session, ec2, reporter):
    for name in ("one", "two"):
        ec2.create_key_pair(KeyName=name)
    assert key_pairs.cleanup_key_pairs(session, REGION, reporter, dry_run=False) == {"one": "deleted", "two": "deleted"}
    assert remaining(ec2, "key_pairs") == []


def test_missing_key_pair_is_recorded_deleted(session, reporter):
    # DeleteKeyPair succeeds for a name that does not exist, on AWS and in moto alike,
    # so InvalidKeyPair.NotFound never comes back and the outcome is deleted.
    assert key_pairs.cleanup_key_pair(session, REGION, "no-such-key", reporter, False) == "deleted"


# Security groups


def test_default_groups_are_never_cataloged(session, ec2, reporter):
    ec2.create_vpc(CidrBlock="10.1.0.0/16")  # comes with a default group of its own
    assert len(ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["default"]}])["SecurityGroups"]) == 2
    assert security_groups.catalog_security_groups(session, REGION, reporter) == []
    assert not reporter.events("cataloged")


def test_groups_naming_each_other_are_both_deleted(session, ec2, reporter):
    a, b = (ec2.create_security_group(GroupName=n, Description=n)["GroupId"] for n in ("a", "b"))
    for group, other in ((a, b), (b, a)):
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": other}]}])
    revoked = watch(session, "RevokeSecurityGroupIngress")
    outcomes = security_groups.cleanup_security_groups(session, REGION, reporter, dry_run=False)
    assert outcomes == {a: "deleted", b: "deleted"}
    assert sorted(r["GroupId"] for r in revoked) == sorted([a, b])
    assert remaining(ec2, "security_groups") == []


# A resource that is already gone


@pytest.mark.parametrize("name, missing_id, code", [
    ("instances", "i-0123456789abcdef0", "InvalidInstanceID.NotFound"),
    ("amis", "ami-0123456789abcdef0", "InvalidAMIID.NotFound"),
    ("snapshots", "snap-0123456789abcdef0", "InvalidSnapshot.NotFound"),
    ("volumes", "vol-0123456789abcdef0", "InvalidVolume.NotFound"),
    ("elastic_ips", "eipalloc-0123456789abcdef0", "InvalidAllocationID.NotFound"),
    ("security_groups", "sg-0123456789abcdef0", "InvalidGroup.NotFound"),
])
def test_missing_resource_is_already_gone(session, reporter, name, missing_id, code):
    assert clean_one(session, name, missing_id, reporter) == "already_gone"
    gone = only_event(reporter, "already_gone")
    assert (gone["resource_type"], gone["resource_id"], gone["error_code"]) == (name, missing_id, code)
    assert not reporter.events("failed")


def test_deregistered_ami_is_already_gone(session, ec2, reporter):
    image = register(ec2)
    ec2.deregister_image(ImageId=image)
    assert amis.cleanup_ami(session, REGION, image, reporter, False) == "already_gone"
    assert only_event(reporter, "already_gone")["error_code"] == "InvalidAMIID.Unavailable"


# The shared code: resume, stop, order


def test_resume_does_not_delete_again(session, ec2, make_reporter):
    ec2.create_key_pair(KeyName="done")
    reporter = make_reporter(REGION, history={("ec2", "key_pairs", "done"): "deleted"})
    assert key_pairs.cleanup_key_pairs(session, REGION, reporter, dry_run=False) == {"done": "deleted"}
    assert remaining(ec2, "key_pairs") == ["done"]
    assert reporter.events() == []


def test_resume_confirms_a_requested_deletion_that_happened(session, make_reporter):
    reporter = make_reporter(REGION, history={("ec2", "key_pairs", "gone"): "delete_requested"})
    assert key_pairs.cleanup_key_pairs(session, REGION, reporter, dry_run=False) == {"gone": "deleted"}
    deleted = only_event(reporter, "deleted")
    assert (deleted["resource_id"], deleted["message"]) == ("gone", "confirmed gone on resume")


def test_stop_interrupts_before_deleting(session, ec2, make_reporter):
    stop = threading.Event()
    stop.set()
    reporter = make_reporter(REGION, stop_event=stop)
    ec2.create_key_pair(KeyName="kept")
    with pytest.raises(Interrupted):
        key_pairs.cleanup_key_pairs(session, REGION, reporter, dry_run=False)
    assert remaining(ec2, "key_pairs") == ["kept"]
    assert not reporter.events("delete_requested")


def test_dependency_order():
    keys = [s.key for s in ordered_subresources()]
    position = {key: keys.index(f"ec2.{key}") for key in ("instances", "amis", "snapshots", "volumes")}
    assert position["instances"] < position["amis"] < position["snapshots"]
    assert position["instances"] < position["volumes"]
