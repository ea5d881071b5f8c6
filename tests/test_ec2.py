"""EC2's quirks, against moto in process: what each type must get right beyond what the
conformance test checks of every type."""

import json

import boto3
import pytest

from costcutter import aws
from costcutter.services.ec2 import amis, elastic_ips, instances, security_groups, snapshots, volumes

REGION = "us-east-1"


@pytest.fixture
def ec2(aws_mock):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def reporter(make_reporter):
    return make_reporter(REGION)


def remaining(ec2, name):
    """What moto still holds, read with plain describe calls rather than the handlers' own listing."""
    if name == "instances":
        return sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"]
                      for i in r["Instances"] if i["State"]["Name"] != "terminated")
    operation, items, id_key = {
        "amis": ("describe_images", "Images", "ImageId"),
        "snapshots": ("describe_snapshots", "Snapshots", "SnapshotId"),
        "volumes": ("describe_volumes", "Volumes", "VolumeId"),
        "elastic_ips": ("describe_addresses", "Addresses", "AllocationId"),
        "key_pairs": ("describe_key_pairs", "KeyPairs", "KeyName"),
        "security_groups": ("describe_security_groups", "SecurityGroups", "GroupId"),
    }[name]
    params = {"Owners": ["self"]} if name == "amis" else {}
    return sorted(item[id_key] for item in getattr(ec2, operation)(**params)[items]
                  if item.get("GroupName") != "default")


def only_event(reporter, kind):
    [event] = reporter.events(kind)
    return event


def register(ec2, name="test-image"):
    return amis.register_image(ec2, name)


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


# Instances


def test_terminated_instances_are_not_cataloged(session, ec2, reporter):
    gone, running = launch(ec2, count=2)
    ec2.terminate_instances(InstanceIds=[gone])
    assert [r.id for r in instances.catalog_instances(session, REGION, reporter)] == [running]


def test_an_instance_is_cataloged_with_its_properties_and_tags(session, ec2, reporter):
    [instance] = launch(ec2)
    ec2.create_tags(Resources=[instance], Tags=[{"Key": "Name", "Value": "web-1"}, {"Key": "team", "Value": "ci"}])
    [resource] = instances.catalog_instances(session, REGION, reporter)
    assert (resource.name, resource.tags, resource.properties["state"]) == ("web-1", {"Name": "web-1", "team": "ci"},
                                                                            "running")
    [event] = reporter.events("cataloged")
    stored = json.loads(event["properties"])
    assert stored["name"] == "web-1" and stored["tags"]["team"] == "ci" and stored["instance_type"] == "m1.small"
    assert stored["created"].startswith("20")


def test_terminating_many_instances_waits_with_one_describe_per_poll(session, ec2, reporter):
    launch(ec2, count=5)
    polls = watch(session, "DescribeInstances")
    instances.cleanup_instances(session, REGION, reporter, dry_run=False)
    assert len(polls) == 2  # the listing, then one poll for all five
    assert len(polls[1]["Filters"][0]["Values"]) == 5


def protect(ec2, instance):
    # moto ignores DisableApiTermination in run_instances; the attribute can be set afterwards.
    ec2.modify_instance_attribute(InstanceId=instance, DisableApiTermination={"Value": True})


def test_a_protected_instance_is_skipped_and_the_others_are_terminated(session, ec2, reporter):
    protected, other = launch(ec2, count=2)
    protect(ec2, protected)
    outcomes = instances.cleanup_instances(session, REGION, reporter, dry_run=False)
    assert outcomes == {protected: "skipped", other: "deleted"}
    skipped = only_event(reporter, "skipped")
    assert skipped["resource_id"] == protected
    assert "set remove_deletion_protection: true" in skipped["message"]
    assert not reporter.events("failed")
    assert remaining(ec2, "instances") == [protected]


def test_a_protected_instance_is_unprotected_and_terminated_when_the_settings_allow(session, ec2, make_reporter):
    [protected] = launch(ec2)
    protect(ec2, protected)
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    assert instances.cleanup_instances(session, REGION, reporter, dry_run=False) == {protected: "deleted"}
    assert [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"] == [
        ("delete_requested", None), ("step_requested", "disable_termination_protection"),
        ("step_done", "disable_termination_protection"), ("delete_requested", None), ("deleted", None)]
    assert remaining(ec2, "instances") == []


# AMIs and snapshots


def test_amis_asks_for_the_accounts_own_only(session, ec2, reporter):
    # Whether moto loads Amazon's public images depends on when it builds the region, so
    # what is checked is the request.
    requests = watch(session, "DescribeImages")
    own = register(ec2)
    assert [r.id for r in amis.catalog_amis(session, REGION, reporter)] == [own]
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
    assert [r.id for r in snapshots.catalog_snapshots(session, REGION, reporter)] == [snapshot["SnapshotId"]]
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
    assert [e["message"] for e in reporter.events("step_done")] == [f"disassociate: disassociated {association}"]
    assert remaining(ec2, "elastic_ips") == []


def test_an_idle_address_is_released_without_a_disassociate_step(session, ec2, reporter):
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    requests = watch(session, "DisassociateAddress")
    assert elastic_ips.cleanup_elastic_ips(session, REGION, reporter, dry_run=False) == {allocation: "deleted"}
    assert requests == [] and reporter.events("step_requested") == []


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


def test_deregistered_ami_is_already_gone(session, ec2, reporter):
    image = register(ec2)
    ec2.deregister_image(ImageId=image)
    assert amis.cleanup_ami(session, REGION, image, reporter, False) == "already_gone"
    assert only_event(reporter, "already_gone")["error_code"] == "InvalidAMIID.Unavailable"
