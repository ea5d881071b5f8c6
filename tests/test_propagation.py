"""Keeps propagate along what resources hold, against moto in process: a kept resource keeps
what it holds (a kept instance its volumes, Elastic IP, security group, subnet, VPC and
instance profile), transitively, from the log, in dry runs, across a resume and into the
global job. The CLI end to end: tests/test_cli.py."""

import boto3
import pytest

from costcutter import engine, registry
from costcutter.registry import GLOBAL_REGION, Resource
from costcutter.reporter import Reporter
from costcutter.services.ec2.amis import register_image
from costcutter.services.iam.roles import create_role

REGION = "us-east-1"
EC2_TYPES = ("ec2.instances", "ec2.elastic_ips", "ec2.internet_gateways", "ec2.network_interfaces", "ec2.volumes",
             "ec2.security_groups", "ec2.subnets", "ec2.route_tables", "ec2.network_acls", "ec2.vpcs")
IAM_TYPES = ("iam.instance_profiles", "iam.roles")


@pytest.fixture
def ec2(aws_mock):
    return boto3.client("ec2", region_name=REGION)


def sweep(session, reporter, keys, dry_run=False):
    """Clean these types in the order the orchestrator would (each after what it depends
    on); every resource's outcome, by type key."""
    return {t.key: engine.cleanup_all(t, session, reporter.region, reporter, dry_run=dry_run)
            for t in registry.resource_types() if t.key in keys}


def resumed(reporter, store, region=None):
    """A reporter for the same run that starts from what the log shows, as a resumed (or
    another region's) process does."""
    region = region or reporter.region
    again = Reporter(reporter.writer, reporter.run_id, region, threads=reporter.threads,
                     wait_timeout=reporter.wait_timeout, history=store.resource_states(reporter.run_id, region),
                     steps=store.steps_done(reporter.run_id, region))
    again.events = reporter.events  # the run's events, whatever the region
    return again


def kept_reasons(reporter):
    return {e["resource_id"]: e["message"] for e in reporter.events("skipped")}


def network(ec2, cidr="10.1"):
    """A VPC of its own with a subnet (with a route table of its own) and a security group."""
    vpc = ec2.create_vpc(CidrBlock=f"{cidr}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{cidr}.0.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName=f"web-{cidr}", Description="web", VpcId=vpc)["GroupId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
    return {"vpc": vpc, "subnet": subnet, "group": group, "route_table": table}


def instance_in(ec2, net, profile=None, protected=False):
    """An instance in the network with its root volume kept on termination, a second volume
    attached and an Elastic IP; returns its id, volumes and address."""
    image = register_image(ec2, "propagation-base")
    launched = ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, SubnetId=net["subnet"], SecurityGroupIds=[net["group"]],
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8, "DeleteOnTermination": False}}],
        **({"IamInstanceProfile": {"Name": profile}} if profile else {}))
    instance = launched["Instances"][0]["InstanceId"]
    if protected:
        ec2.modify_instance_attribute(InstanceId=instance, DisableApiTermination={"Value": True})
    data = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    ec2.attach_volume(VolumeId=data, InstanceId=instance, Device="/dev/sdf")
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=address, InstanceId=instance)
    [root] = [m["Ebs"]["VolumeId"] for r in ec2.describe_instances(InstanceIds=[instance])["Reservations"]
              for i in r["Instances"] for m in i["BlockDeviceMappings"] if m["DeviceName"] == "/dev/sda1"]
    return {"instance": instance, "volumes": [root, data], "address": address}


def test_what_a_held_type_holds_runs_after_its_holder():
    """A held type must depend on its holder (through any path), or the keep would not be
    in the log yet when it is cleaned."""
    types = registry.by_key()
    graph = registry.dependency_graph(types.values())

    def after(key):  # every type `key` waits for, directly or not
        return set().union(graph[key], *(after(dep) for dep in graph[key]))

    holders = [t for t in types.values() if t.holds]
    assert {"ec2.instances", "ec2.subnets", "elbv2.load_balancers", "rds.db_instances", "lambda.functions",
            "iam.instance_profiles"} <= {t.key for t in holders}
    for holder in holders:
        for held in holder.holds.types:
            assert held in types, f"{holder.key} holds an unknown type {held}"
            assert holder.key in after(held), f"{held} does not wait for {holder.key}, which holds it"


def test_a_listed_path_through_lists_gathers_every_value():
    item = {"Mappings": [{"Ebs": {"VolumeId": "vol-1"}}, {"Virtual": "eph0"}, {"Ebs": {"VolumeId": "vol-2"}}],
            "Groups": [{"Ids": ["sg-1", "sg-2"]}, {"Ids": ["sg-3"]}], "Empty": []}
    resource = registry.record(item, "Missing", properties={
        "volume_ids": "Mappings[].Ebs.VolumeId", "group_ids": "Groups[].Ids[]", "none": "Empty[].Id"})
    assert resource.properties == {"volume_ids": ["vol-1", "vol-2"], "group_ids": ["sg-1", "sg-2", "sg-3"]}
    holds = registry.holding({"ec2.volumes": "volume_ids", "iam.roles": ("role_arn", registry.name_in_arn)})
    arn = "arn:aws:iam::123456789012:role/service/app-role"
    assert holds(Resource("x", properties={"volume_ids": ["vol-1", "vol-1"], "role_arn": arn})) == [
        ("ec2.volumes", "vol-1"), ("iam.roles", "app-role")]


def test_a_protected_instance_keeps_what_it_holds_and_everything_else_goes(session, ec2, make_reporter, store):
    iam = boto3.client("iam", region_name=REGION)
    role = create_role(iam, "propagation")
    iam.create_instance_profile(InstanceProfileName="kept-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="kept-profile", RoleName=role)
    iam.create_instance_profile(InstanceProfileName="free-profile")
    kept_net, free_net = network(ec2, "10.1"), network(ec2, "10.2")
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=kept_net["vpc"])
    kept = instance_in(ec2, kept_net, profile="kept-profile", protected=True)
    free = instance_in(ec2, free_net)
    loose_volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]

    reporter = make_reporter(REGION)
    outcomes = sweep(session, reporter, EC2_TYPES)
    # The global job: another process, after the regional types it depends on, reading their keeps
    # from the log.
    iam_outcomes = sweep(session, resumed(reporter, store, GLOBAL_REGION), IAM_TYPES)

    holder = f"held by ec2.instances {kept['instance']}, which is kept"
    by_subnet = f"held by ec2.subnets {kept_net['subnet']}, which is kept"
    by_profile = "held by iam.instance_profiles kept-profile, which is kept"
    expected_kept = {
        kept["instance"]: None, **{volume: holder for volume in kept["volumes"]}, kept["address"]: holder,
        gateway: holder, kept_net["group"]: holder, kept_net["subnet"]: holder, kept_net["vpc"]: holder,
        kept_net["route_table"]: by_subnet, "kept-profile": holder, role: by_profile,
    }
    reasons = kept_reasons(reporter)
    assert reasons.keys() == expected_kept.keys()
    assert "set remove_deletion_protection: true" in reasons[kept["instance"]]
    assert {rid: reason for rid, reason in reasons.items() if rid != kept["instance"]} == {
        rid: reason for rid, reason in expected_kept.items() if reason}
    assert not reporter.events("failed")
    everything = {rid: outcome for per_type in [*outcomes.values(), *iam_outcomes.values()]
                  for rid, outcome in per_type.items()}
    for rid in [free["instance"], *free["volumes"], free["address"], loose_volume, "free-profile",
                *free_net.values()]:
        assert everything[rid] == "deleted", rid
    assert {rid for rid, outcome in everything.items() if outcome != "deleted"} == expected_kept.keys()


def test_a_kept_resource_records_what_it_holds_in_the_log(session, ec2, make_reporter, store):
    net = network(ec2)
    kept = instance_in(ec2, net, protected=True)
    reporter = make_reporter(REGION)
    sweep(session, reporter, ("ec2.instances",))
    [skipped] = reporter.events("skipped")
    [holding] = store.kept_holdings(reporter.run_id, REGION)
    assert holding["resource_id"] == skipped["resource_id"] == kept["instance"]
    assert set(holding["holds"]) >= {("ec2.volumes", volume) for volume in kept["volumes"]} | {
        ("ec2.elastic_ips", kept["address"]), ("ec2.security_groups", net["group"]),
        ("ec2.subnets", net["subnet"]), ("ec2.vpcs", net["vpc"])}


def test_a_keep_recorded_by_an_earlier_attempt_still_holds_on_resume(session, ec2, make_reporter, store):
    kept = instance_in(ec2, network(ec2), protected=True)
    first = make_reporter(REGION)
    sweep(session, first, ("ec2.instances",))  # then the process is killed, before the volumes
    again = resumed(first, store)
    outcomes = sweep(session, again, ("ec2.volumes",))["ec2.volumes"]
    assert outcomes == {volume: "skipped" for volume in kept["volumes"]}
    assert {e["resource_id"]: e["message"] for e in again.events("skipped") if e["resource_type"] == "volumes"} == {
        volume: f"held by ec2.instances {kept['instance']}, which is kept" for volume in kept["volumes"]}


def test_a_keep_undone_by_a_later_attempt_holds_nothing(session, ec2, make_reporter, store):
    kept = instance_in(ec2, network(ec2), protected=True)
    reporter = make_reporter(REGION)
    sweep(session, reporter, ("ec2.instances",))
    # A later attempt found the instance deleted after all (its protection lifted by hand).
    ec2.modify_instance_attribute(InstanceId=kept["instance"], DisableApiTermination={"Value": False})
    ec2.terminate_instances(InstanceIds=[kept["instance"]])
    reporter.record("deleted", "ec2", "instances", kept["instance"])
    assert sweep(session, resumed(reporter, store), ("ec2.volumes",))["ec2.volumes"] == {
        volume: "deleted" for volume in kept["volumes"]}


def test_a_keep_propagates_in_a_dry_run(session, ec2, make_reporter):
    kept = instance_in(ec2, network(ec2))
    loose_volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    reporter = make_reporter(REGION)
    # Kept as a scope rule or a protection tag keeps one: in the listing, before any deletion,
    # with what it holds that its listing does not name.
    instances = registry.by_key()["ec2.instances"]
    [listed] = [r for r in engine.catalog(instances, session, REGION, reporter) if r.id == kept["instance"]]
    [listed] = engine.with_holdings(instances, engine.Target(instances, session, REGION, reporter), [listed])
    engine.record_kept(instances, listed, reporter, "kept by a rule")
    outcomes = sweep(session, reporter, ("ec2.volumes", "ec2.elastic_ips"), dry_run=True)
    assert outcomes["ec2.volumes"] == {**{volume: "skipped" for volume in kept["volumes"]},
                                       loose_volume: "would_delete"}
    assert outcomes["ec2.elastic_ips"] == {kept["address"]: "skipped"}
    assert not reporter.events("delete_requested")


def test_a_protected_database_keeps_its_subnet_group_and_through_it_the_subnets(session, ec2, make_reporter):
    rds = boto3.client("rds", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.3.{n}.0/24", AvailabilityZone=f"{REGION}{zone}")
               ["Subnet"]["SubnetId"] for n, zone in enumerate("ab")]
    rds.create_db_subnet_group(DBSubnetGroupName="kept-subnets", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.create_db_instance(DBInstanceIdentifier="kept-db", DBInstanceClass="db.t3.micro", Engine="postgres",
                           AllocatedStorage=20, MasterUsername="costcutter", MasterUserPassword="x" * 16,
                           DBSubnetGroupName="kept-subnets", DeletionProtection=True)
    reporter = make_reporter(REGION)
    outcomes = sweep(session, reporter, ("rds.db_instances", "rds.db_subnet_groups", "ec2.subnets", "ec2.vpcs"))
    assert outcomes["rds.db_subnet_groups"] == {"kept-subnets": "skipped"}
    assert outcomes["ec2.subnets"] == {subnet: "skipped" for subnet in subnets}
    reasons = kept_reasons(reporter)
    assert reasons["kept-subnets"] == "held by rds.db_instances kept-db, which is kept"
    assert {reasons[subnet] for subnet in subnets} == {"held by rds.db_subnet_groups kept-subnets, which is kept"}
    assert reasons[vpc] == "held by rds.db_subnet_groups kept-subnets, which is kept"


def test_an_auto_scaling_group_kept_by_a_rule_keeps_its_instances_and_launch_template(session, ec2, make_reporter):
    template = ec2.create_launch_template(LaunchTemplateName="kept-template", LaunchTemplateData={
        "ImageId": register_image(ec2, "propagation-asg"), "InstanceType": "t3.micro"})["LaunchTemplate"]
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="kept-group", MinSize=1, MaxSize=1, AvailabilityZones=[f"{REGION}a"],
        LaunchTemplate={"LaunchTemplateId": template["LaunchTemplateId"]})
    [instance] = [i["InstanceId"] for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
                  for i in g["Instances"]]
    reporter = make_reporter(REGION)
    groups = registry.by_key()["autoscaling.groups"]
    [group] = engine.catalog(groups, session, REGION, reporter)
    engine.record_kept(groups, group, reporter, "kept by a rule")
    outcomes = sweep(session, reporter, ("ec2.instances", "ec2.launch_templates"))
    assert outcomes["ec2.instances"] == {instance: "skipped"}
    assert outcomes["ec2.launch_templates"] == {template["LaunchTemplateId"]: "skipped"}
    assert set(kept_reasons(reporter).values()) == {"kept by a rule",
                                                    "held by autoscaling.groups kept-group, which is kept"}
