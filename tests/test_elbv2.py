"""ELBv2's quirks: deletion protection (moto never refuses, so AWS's refusal is played
with botocore's Stubber), target groups freed by their load balancer, one listing per wait."""

import boto3

from costcutter.services.elbv2 import load_balancers, target_groups

REGION = "eu-west-1"
ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
LISTED = {"LoadBalancerArn": ARN, "DNSName": "web-1234567890.eu-west-1.elb.amazonaws.com",
          "CanonicalHostedZoneId": "Z32O12XQLNTSW2", "LoadBalancerName": "web", "Scheme": "internet-facing",
          "VpcId": "vpc-3ac0fb5f", "State": {"Code": "active"}, "Type": "application", "IpAddressType": "ipv4",
          "AvailabilityZones": [{"ZoneName": "eu-west-1a", "SubnetId": "subnet-8360a9e7"}]}
TARGET_GROUP = {"TargetGroupArn": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/web/73e2d6bc24d8a067",
                "TargetGroupName": "web", "Protocol": "HTTP", "Port": 80, "VpcId": "vpc-3ac0fb5f",
                "TargetType": "instance", "LoadBalancerArns": [ARN]}
PROTECTED = ("OperationNotPermitted",
             f"Load balancer '{ARN}' cannot be deleted because deletion protection is enabled")


def stub_protected_load_balancer(stubbed, session):
    elbv2 = stubbed(session, "elbv2", REGION)
    elbv2.add_response("describe_load_balancers", {"LoadBalancers": [LISTED]}, {})
    elbv2.add_response("describe_target_groups", {"TargetGroups": [TARGET_GROUP]}, {})  # what it forwards to
    elbv2.add_client_error("delete_load_balancer", *PROTECTED, 400, expected_params={"LoadBalancerArn": ARN})
    return elbv2


def test_a_protected_load_balancer_is_skipped(session, stubbed, make_reporter):
    stub_protected_load_balancer(stubbed, session)
    reporter = make_reporter(REGION)
    assert load_balancers.cleanup_load_balancers(session, REGION, reporter, dry_run=False) == {ARN: "skipped"}
    [skipped] = reporter.events("skipped")
    assert "disable_deletion_protection would lift it" in skipped["message"]
    assert not reporter.events("failed")


def test_a_protected_load_balancer_keeps_the_target_groups_it_forwards_to(session, stubbed, make_reporter):
    elbv2 = stub_protected_load_balancer(stubbed, session)
    elbv2.add_response("describe_target_groups", {"TargetGroups": [TARGET_GROUP]}, {})
    reporter = make_reporter(REGION)
    load_balancers.cleanup_load_balancers(session, REGION, reporter, dry_run=False)
    arn = TARGET_GROUP["TargetGroupArn"]
    assert target_groups.cleanup_target_groups(session, REGION, reporter, dry_run=False) == {arn: "skipped"}
    [kept] = [e for e in reporter.events("skipped") if e["resource_id"] == arn]
    assert kept["message"] == f"held by elbv2.load_balancers {ARN}, which is kept"
    assert not reporter.events("failed")  # and the stub saw no DeleteTargetGroup


def test_a_protected_load_balancer_is_unprotected_and_deleted_when_the_settings_allow(session, stubbed,
                                                                                       make_reporter):
    elbv2 = stub_protected_load_balancer(stubbed, session)
    elbv2.add_response("modify_load_balancer_attributes", {"Attributes": [
        {"Key": "deletion_protection.enabled", "Value": "false"}]}, {
        "LoadBalancerArn": ARN, "Attributes": [{"Key": "deletion_protection.enabled", "Value": "false"}]})
    elbv2.add_response("delete_load_balancer", {}, {"LoadBalancerArn": ARN})
    elbv2.add_response("describe_load_balancers", {"LoadBalancers": []}, {})  # the wait: gone
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    assert load_balancers.cleanup_load_balancers(session, REGION, reporter, dry_run=False) == {ARN: "deleted"}
    assert [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"] == [
        ("delete_requested", None), ("step_requested", "disable_deletion_protection"),
        ("step_done", "disable_deletion_protection"), ("delete_requested", None), ("deleted", None)]


def forwarding_listener(session):
    """A load balancer whose listener forwards to a target group; returns (load balancer, target group)."""
    load_balancer = load_balancers.create_load_balancer(session, REGION)
    target_group = target_groups.create_target_group(session, REGION)
    boto3.client("elbv2", region_name=REGION).create_listener(
        LoadBalancerArn=load_balancer, Protocol="HTTP", Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    return load_balancer, target_group


def test_a_target_group_a_listener_uses_fails_at_once_with_the_reason(session, make_reporter, watch):
    _, target_group = forwarding_listener(session)
    deletions = watch(session, "elbv2", REGION, "DeleteTargetGroup")
    reporter = make_reporter(REGION)
    assert target_groups.cleanup_target_groups(session, REGION, reporter, dry_run=False) == {target_group: "failed"}
    [failed] = reporter.events("failed")
    assert failed["error_code"] == "ResourceInUse" and len(deletions) == 1  # not retried: its listener stays


def test_deleting_the_load_balancer_frees_its_target_groups(session, make_reporter):
    load_balancer, target_group = forwarding_listener(session)
    reporter = make_reporter(REGION)
    assert load_balancers.cleanup_load_balancers(session, REGION, reporter, dry_run=False) == {load_balancer: "deleted"}
    assert target_groups.cleanup_target_groups(session, REGION, reporter, dry_run=False) == {target_group: "deleted"}


def test_deleting_many_waits_with_one_listing_per_poll(session, make_reporter, watch):
    made = [load_balancers.create_load_balancer(session, REGION) for _ in range(3)]
    listings = watch(session, "elbv2", REGION, "DescribeLoadBalancers")
    outcomes = load_balancers.cleanup_load_balancers(session, REGION, make_reporter(REGION), dry_run=False)
    assert outcomes == dict.fromkeys(made, "deleted")
    assert len(listings) == 2  # the catalog, then one poll for all three
