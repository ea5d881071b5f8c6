"""Networking and Auto Scaling, against moto in process: a whole VPC taken apart in the
registry's dependency order, the defaults that must stay, the multi-step teardowns, the
waits, and the per-id failures that EC2 answers inside a successful response (botocore's
Stubber, on the response shapes of botocore's model, as moto never answers them)."""

import graphlib

import boto3
import pytest
from botocore.stub import Stubber

from costcutter import aws, engine, events, registry
from costcutter.registry import Resource
from costcutter.services.autoscaling import groups, launch_configurations
from costcutter.services.ec2 import (amis, dedicated_hosts, instances, internet_gateways, launch_templates,
                                     nat_gateways, network_acls, route_tables, spot_fleets, spot_instance_requests,
                                     subnets, transit_gateways, vpc_endpoints, vpcs)

REGION = "us-east-1"
NETWORK_SERVICES = ("ec2", "autoscaling")


@pytest.fixture
def ec2(aws_mock):
    return boto3.client("ec2", region_name=REGION)


@pytest.fixture
def autoscaling(aws_mock):
    return boto3.client("autoscaling", region_name=REGION)


@pytest.fixture
def reporter(make_reporter):
    return make_reporter(REGION)


def network(ec2, autoscaling) -> dict[str, list[str]]:
    """Everything networking holds, read with plain describe calls rather than the types' own
    listings, defaults included: only what is gone for good (deleted, terminated) is left out."""
    def ids(operation, items, id_key, **params):
        return sorted(item[id_key] for page in ec2.get_paginator(operation).paginate(**params) for item in page[items])

    live = [{"Name": "state", "Values": ["pending", "available"]}]
    return {
        "vpcs": ids("describe_vpcs", "Vpcs", "VpcId"),
        "subnets": ids("describe_subnets", "Subnets", "SubnetId"),
        "route_tables": ids("describe_route_tables", "RouteTables", "RouteTableId"),
        "network_acls": ids("describe_network_acls", "NetworkAcls", "NetworkAclId"),
        "security_groups": ids("describe_security_groups", "SecurityGroups", "GroupId"),
        "internet_gateways": ids("describe_internet_gateways", "InternetGateways", "InternetGatewayId"),
        "nat_gateways": ids("describe_nat_gateways", "NatGateways", "NatGatewayId", Filter=live),
        "vpc_endpoints": sorted(e["VpcEndpointId"] for e in ec2.describe_vpc_endpoints()["VpcEndpoints"]
                                if e["State"] != "deleted"),
        "elastic_ips": sorted(a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]),
        "available_network_interfaces": ids("describe_network_interfaces", "NetworkInterfaces", "NetworkInterfaceId",
                                            Filters=[{"Name": "status", "Values": ["available"]}]),
        "instances": sorted(i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                            if i["State"]["Name"] != "terminated"),
        "launch_templates": ids("describe_launch_templates", "LaunchTemplates", "LaunchTemplateId"),
        "auto_scaling_groups": sorted(g["AutoScalingGroupName"]
                                      for g in autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]),
        "launch_configurations": sorted(c["LaunchConfigurationName"] for c in
                                        autoscaling.describe_launch_configurations()["LaunchConfigurations"]),
    }


def build_a_vpc(ec2, autoscaling) -> dict[str, str]:
    """A non-default VPC as a real one looks: public and private subnets, a route table of
    the public one routing to an attached internet gateway, a NAT gateway on an Elastic IP
    for the private one, an instance with an address of its own, an Auto Scaling group,
    gateway and interface endpoints, groups naming each other, a network ACL."""
    vpc = vpcs.create_vpc(ec2)
    public, private = subnets.create_subnets(ec2, REGION, 2, vpc=vpc)
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    ec2.associate_route_table(RouteTableId=table, SubnetId=public)
    nat_address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=nat_address)["NatGateway"]["NatGatewayId"]
    web, app = (ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
                for name in ("web", "app"))
    for group, other in ((web, app), (app, web)):
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": other}]}])
    image = amis.register_image(ec2, "network-test-image")
    [instance] = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, SubnetId=public,
                                                             SecurityGroupIds=[web])["Instances"]]
    instance_address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    ec2.associate_address(AllocationId=instance_address, InstanceId=instance)
    template = launch_templates.create_launch_template(ec2, image)
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="app", LaunchTemplate={"LaunchTemplateId": template},
                                          MinSize=2, MaxSize=2, DesiredCapacity=2, VPCZoneIdentifier=private)
    gateway_endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3",
                                               VpcEndpointType="Gateway", RouteTableIds=[table])
    interface_endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.ssm",
                                                 VpcEndpointType="Interface", SubnetIds=[private],
                                                 SecurityGroupIds=[app])
    acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
    [association] = [a["NetworkAclAssociationId"] for a in ec2.describe_network_acls(
        Filters=[{"Name": "association.subnet-id", "Values": [private]}])["NetworkAcls"][0]["Associations"]
        if a["SubnetId"] == private]
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
    return {"vpc": vpc, "nat": nat, "instance": instance, "table": table, "gateway": gateway, "acl": acl,
            "gateway_endpoint": gateway_endpoint["VpcEndpoint"]["VpcEndpointId"],
            "interface_endpoint": interface_endpoint["VpcEndpoint"]["VpcEndpointId"]}


def registry_order():
    return [t for t in registry.resource_types() if t.service in NETWORK_SERVICES]


def latest_ready_first():
    """Another order that honours every dependency: of the types ready together, the last in
    the alphabet first, so that a dependency the registry's order honours only by the
    alphabet shows."""
    by_key = {t.key: t for t in registry_order()}
    sorter = graphlib.TopologicalSorter({key: set(t.dependencies) & by_key.keys() for key, t in by_key.items()})
    sorter.prepare()
    ordered = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), reverse=True)
        ordered += [by_key[key] for key in ready]
        sorter.done(*ready)
    return ordered


@pytest.mark.parametrize("order", [registry_order, latest_ready_first])
def test_a_whole_vpc_goes_in_dependency_order_and_only_the_defaults_stay(session, ec2, autoscaling, reporter, order):
    defaults = network(ec2, autoscaling)
    built = build_a_vpc(ec2, autoscaling)
    assert len(network(ec2, autoscaling)["instances"]) == 3  # one of its own, two of the group

    for rtype in order():
        engine.cleanup_all(rtype, session, REGION, reporter, dry_run=False)

    assert [(e["resource_type"], e["resource_id"], e["message"]) for e in reporter.events(events.FAILED)] == []
    assert network(ec2, autoscaling) == defaults
    deleted = {(e["resource_type"], e["resource_id"]) for e in reporter.events(events.DELETED)}
    assert {("vpcs", built["vpc"]), ("nat_gateways", built["nat"]), ("network_acls", built["acl"]),
            ("route_tables", built["table"]), ("internet_gateways", built["gateway"]),
            ("vpc_endpoints", built["gateway_endpoint"]), ("vpc_endpoints", built["interface_endpoint"]),
            ("groups", "app")} <= deleted


# What holds what: (the type, a type that must be gone before it, directly or not).
HOLDS = [
    ("ec2.instances", "autoscaling.groups"), ("ec2.instances", "ec2.spot_instance_requests"),
    ("ec2.instances", "ec2.spot_fleets"), ("autoscaling.launch_configurations", "autoscaling.groups"),
    ("ec2.launch_templates", "autoscaling.groups"), ("ec2.launch_templates", "ec2.spot_fleets"),
    ("ec2.elastic_ips", "ec2.nat_gateways"), ("ec2.internet_gateways", "ec2.elastic_ips"),
    ("ec2.dedicated_hosts", "ec2.instances"), ("ec2.security_groups", "ec2.network_interfaces"),
    ("ec2.security_groups", "ec2.vpc_endpoints"), ("ec2.network_acls", "ec2.subnets"),
    ("ec2.customer_gateways", "ec2.vpn_connections"), ("ec2.vpn_gateways", "ec2.vpn_connections"),
    ("ec2.transit_gateways", "ec2.transit_gateway_vpc_attachments"),
    *[("ec2.subnets", f"ec2.{name}") for name in ("instances", "network_interfaces", "nat_gateways", "vpc_endpoints",
                                                   "transit_gateway_vpc_attachments")],
    *[("ec2.vpcs", f"ec2.{name}") for name in (
        "instances", "network_interfaces", "subnets", "route_tables", "network_acls", "security_groups",
        "internet_gateways", "egress_only_internet_gateways", "nat_gateways", "vpc_endpoints",
        "vpc_peering_connections", "transit_gateway_vpc_attachments", "vpn_gateways")],
]


@pytest.mark.parametrize("key, held_by", HOLDS, ids=[f"{key}-after-{held}" for key, held in HOLDS])
def test_what_holds_a_type_is_gone_before_it(key, held_by):
    needed, todo = set(), list(registry.by_key()[key].dependencies)
    while todo:
        if (dependency := todo.pop()) not in needed:
            needed.add(dependency)
            todo += registry.by_key()[dependency].dependencies
    assert held_by in needed


def test_defaults_are_never_cataloged(session, ec2, reporter):
    [default_vpc] = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    # moto gives the default VPC no internet gateway; AWS does.
    gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=default_vpc["VpcId"])
    vpc = vpcs.create_vpc(ec2)  # with a main route table and a default ACL of its own

    def cataloged(rtype):
        return [r.id for r in engine.catalog(rtype, session, REGION, reporter)]

    assert cataloged(vpcs.VPCS) == [vpc]
    assert [cataloged(rtype) for rtype in (subnets.SUBNETS, route_tables.ROUTE_TABLES, network_acls.NETWORK_ACLS,
                                           internet_gateways.INTERNET_GATEWAYS)] == [[], [], [], []]


def test_a_route_table_is_disassociated_then_deleted_and_its_subnet_falls_back_to_the_main_one(
        session, ec2, reporter):
    [subnet] = subnets.create_subnets(ec2, REGION, 1)
    vpc = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["VpcId"]
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    association = ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)["AssociationId"]

    assert route_tables.cleanup_route_tables(session, REGION, reporter, dry_run=False) == {table: events.DELETED}

    assert [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != events.CATALOGED] == [
        (events.STEP_REQUESTED, "disassociate"), (events.STEP_DONE, f"disassociate: disassociated {association}"),
        (events.DELETE_REQUESTED, None), (events.DELETED, None)]
    [main] = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    assert main["Associations"][0]["Main"]


def test_an_internet_gateway_is_detached_from_its_vpc_then_deleted(session, ec2, reporter, watch):
    [gateway] = internet_gateways.INTERNET_GATEWAYS.seed(session, REGION, 1)
    [vpc] = [a["VpcId"] for a in ec2.describe_internet_gateways(InternetGatewayIds=[gateway])
             ["InternetGateways"][0]["Attachments"]]
    detached = watch(session, "ec2", REGION, "DetachInternetGateway")

    outcomes = internet_gateways.cleanup_internet_gateways(session, REGION, reporter, dry_run=False)

    assert outcomes == {gateway: events.DELETED}
    assert detached == [{"InternetGatewayId": gateway, "VpcId": vpc}]
    assert ec2.describe_internet_gateways()["InternetGateways"] == []


def test_nat_gateways_are_deleted_then_waited_for_with_one_describe(session, ec2, reporter, watch):
    made = nat_gateways.NAT_GATEWAYS.seed(session, REGION, 3)
    describes = watch(session, "ec2", REGION, "DescribeNatGateways")

    outcomes = nat_gateways.cleanup_nat_gateways(session, REGION, reporter, dry_run=False)

    assert outcomes == {nat: events.DELETED for nat in made}
    assert len(describes) == 2  # the listing, then one poll for all three
    assert sorted(describes[1]["Filter"][0]["Values"]) == sorted(made)
    assert {g["State"] for g in ec2.describe_nat_gateways(NatGatewayIds=made)["NatGateways"]} == {"deleted"}


def test_a_group_is_force_deleted_with_its_instances_and_waited_for(session, ec2, autoscaling, reporter, watch):
    image = amis.register_image(ec2, "group-test-image")
    template = launch_templates.create_launch_template(ec2, image)
    autoscaling.create_auto_scaling_group(AutoScalingGroupName="workers", LaunchTemplate={"LaunchTemplateId": template},
                                          MinSize=2, MaxSize=2, DesiredCapacity=2, AvailabilityZones=[f"{REGION}a"])
    deletes = watch(session, "autoscaling", REGION, "DeleteAutoScalingGroup")
    describes = watch(session, "autoscaling", REGION, "DescribeAutoScalingGroups")

    assert groups.cleanup_groups(session, REGION, reporter, dry_run=False) == {"workers": events.DELETED}

    assert deletes == [{"AutoScalingGroupName": "workers", "ForceDelete": True}]
    assert [d.get("AutoScalingGroupNames") for d in describes] == [None, ["workers"]]  # the listing, one poll
    assert instances.cleanup_instances(session, REGION, reporter, dry_run=False) == {}  # terminated with it
    assert launch_templates.cleanup_launch_templates(session, REGION, reporter, dry_run=False) == {
        template: events.DELETED}


def test_a_group_or_configuration_auto_scaling_does_not_know_is_already_gone(session, reporter):
    for module, name in ((groups, "cleanup_group"), (launch_configurations, "cleanup_launch_configuration")):
        assert getattr(module, name)(session, REGION, "nothing-by-this-name", reporter, False) in events.DONE
    assert not reporter.events(events.FAILED)


def stubbed(session, service):
    stubber = Stubber(aws.client(session, service, REGION))
    stubber.activate()
    return stubber


def test_any_other_validation_error_of_auto_scaling_is_a_failure(session, reporter):
    stubber = stubbed(session, "autoscaling")
    stubber.add_client_error("delete_auto_scaling_group", "ValidationError", "ForceDelete is not a boolean")

    assert groups.cleanup_group(session, REGION, "workers", reporter, False) == events.FAILED

    [failure] = reporter.events(events.FAILED)
    assert (failure["error_code"], failure["message"]) == ("ValidationError", "ForceDelete is not a boolean")
    stubber.assert_no_pending_responses()


# The per-id failures of calls that take many ids: what AWS answers, as botocore's model shapes it.
def unsuccessful(resource_id, code):
    return [{"Error": {"Code": code, "Message": f"{code} for {resource_id}"}, "ResourceId": resource_id}]


PER_ID_FAILURES = [
    (dedicated_hosts.DEDICATED_HOSTS, "release_hosts", "h-0123456789abcdef0",
     lambda rid, code: {"Successful": [], "Unsuccessful": unsuccessful(rid, code)}, "Client.InvalidHostID.NotFound"),
    (vpc_endpoints.VPC_ENDPOINTS, "delete_vpc_endpoints", "vpce-0123456789abcdef0",
     lambda rid, code: {"Unsuccessful": unsuccessful(rid, code)}, "InvalidVpcEndpoint.NotFound"),
    (spot_fleets.SPOT_FLEETS, "cancel_spot_fleet_requests", "sfr-01234567-89ab-cdef-0123-456789abcdef",
     lambda rid, code: {"SuccessfulFleetRequests": [], "UnsuccessfulFleetRequests": [
         {"Error": {"Code": code, "Message": "no"}, "SpotFleetRequestId": rid}]},
     "fleetRequestIdDoesNotExist"),
]


@pytest.mark.parametrize("rtype, operation, resource_id, answer, gone_code", PER_ID_FAILURES,
                         ids=[case[0].key for case in PER_ID_FAILURES])
def test_a_per_id_failure_in_a_successful_answer_is_that_ids_outcome(session, make_reporter, rtype, operation,
                                                                     resource_id, answer, gone_code):
    stubber = stubbed(session, "ec2")
    stubber.add_response(operation, answer(resource_id, gone_code))
    stubber.add_response(operation, answer(resource_id, "unexpectedError"))
    gone_reporter, failing_reporter = make_reporter(REGION), make_reporter(REGION)

    gone = engine.cleanup_one(rtype, session, REGION, Resource(resource_id), gone_reporter, False)
    failed = engine.cleanup_one(rtype, session, REGION, Resource(resource_id), failing_reporter, False)

    assert (gone, failed) == (events.ALREADY_GONE, events.FAILED)
    assert gone_reporter.events(events.ALREADY_GONE)[0]["error_code"] == gone_code
    assert failing_reporter.events(events.FAILED)[0]["error_code"] == "unexpectedError"
    stubber.assert_no_pending_responses()


BATCHED = [(dedicated_hosts.DEDICATED_HOSTS, "ReleaseHosts"), (vpc_endpoints.VPC_ENDPOINTS, "DeleteVpcEndpoints"),
           (spot_fleets.SPOT_FLEETS, "CancelSpotFleetRequests"),
           (spot_instance_requests.SPOT_INSTANCE_REQUESTS, "CancelSpotInstanceRequests")]


@pytest.mark.parametrize("rtype, action", BATCHED, ids=[case[0].key for case in BATCHED])
def test_calls_that_take_many_ids_delete_a_regions_resources_in_one_call(session, reporter, watch, rtype, action):
    made = rtype.seed(session, REGION, 3)
    calls = watch(session, "ec2", REGION, action)

    outcomes = engine.cleanup_all(rtype, session, REGION, reporter, dry_run=False)

    assert outcomes == {resource_id: events.DELETED for resource_id in made}
    assert len(calls) == 1 and sorted(next(v for k, v in calls[0].items() if k.endswith("Ids"))) == sorted(made)
    assert list(rtype.list(engine.Target(rtype, session, REGION))) == []


@pytest.mark.parametrize("rtype, operation, resource_id, answer, gone_code", PER_ID_FAILURES[:3],
                         ids=[case[0].key for case in PER_ID_FAILURES[:3]])
def test_an_id_a_batch_could_not_delete_is_taken_again_alone_and_the_others_are_deleted(
        session, make_reporter, rtype, operation, resource_id, answer, gone_code):
    other = resource_id[:-1] + "1"
    stubber = stubbed(session, "ec2")
    stubber.add_response(operation, answer(resource_id, gone_code))  # the batch: all but one done
    stubber.add_response(operation, answer(resource_id, gone_code))  # that one, alone
    reporter = make_reporter(REGION)

    outcomes = engine.delete_in_batches(rtype, session, REGION, [Resource(resource_id), Resource(other)], reporter)

    assert outcomes == {resource_id: events.ALREADY_GONE, other: events.DELETED}
    assert [e["resource_id"] for e in reporter.events(events.DELETED)] == [other]
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize("rtype, associations", [
    (instances.INSTANCES, ("DescribeAddresses", "DescribeInternetGateways")),
    (subnets.SUBNETS, ("DescribeRouteTables", "DescribeNetworkAcls")),
], ids=["ec2.instances", "ec2.subnets"])
def test_what_only_a_kept_resource_needs_is_not_listed_when_none_is_kept(session, reporter, watch, rtype,
                                                                          associations):
    made = rtype.seed(session, REGION, 2)
    calls = {action: watch(session, "ec2", REGION, action) for action in associations}

    outcomes = engine.cleanup_all(rtype, session, REGION, reporter, dry_run=False)

    assert outcomes == {resource_id: events.DELETED for resource_id in made}
    assert calls == {action: [] for action in associations}


def test_transit_gateways_ask_whose_account_only_where_there_are_some(session, reporter, watch):
    identities = watch(session, "sts", REGION, "GetCallerIdentity")
    assert transit_gateways.cleanup_transit_gateways(session, REGION, reporter, dry_run=False) == {}
    assert identities == []

    [made] = transit_gateways.TRANSIT_GATEWAYS.seed(session, REGION, 1)
    assert transit_gateways.cleanup_transit_gateways(session, REGION, reporter, dry_run=False) == {
        made: events.DELETED}
    assert len(identities) == 1
