"""Application, network and gateway load balancers: billed by the hour; deleted, then waited for.

Deleting one deletes its listeners and their rules with it, which frees its target groups
for elbv2.target_groups. Its network interfaces go a little after the load balancer
leaves the listing, so the wait lets the types that depend on it (security groups,
subnets) start once it is gone.
"""

import uuid

from costcutter import engine
from costcutter.registry import (Charge, Protection, ResourceType, Step, deleted_by, holding, listed, pages,
                                 with_associated)

def _still_there(target, ids):
    # DescribeLoadBalancers by ARN fails outright on one that is gone, so one listing of
    # them all answers for every id at once.
    waiting = set(ids)
    for page in pages(target.client, "describe_load_balancers"):
        yield from (lb["LoadBalancerArn"] for lb in page["LoadBalancers"] if lb["LoadBalancerArn"] in waiting)


def _disable_deletion_protection(target, load_balancer):
    target.client.modify_load_balancer_attributes(
        LoadBalancerArn=load_balancer.id, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}])


def default_subnets(session, region: str, count: int = 2) -> list[str]:
    """Subnets of the region's default VPC in `count` availability zones, for the seeds of
    what needs a network (load balancers, file systems, clusters) without making one."""
    ec2 = session.client("ec2", region_name=region)
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return [subnet["SubnetId"] for subnet in sorted(subnets, key=lambda s: s["AvailabilityZone"])][:count]


def create_load_balancer(session, region: str) -> str:
    elbv2 = session.client("elbv2", region_name=region)
    return elbv2.create_load_balancer(Name=f"cc-seed-{uuid.uuid4().hex[:12]}",
                                      Subnets=default_subnets(session, region))["LoadBalancers"][0]["LoadBalancerArn"]


def _seed(session, region, count):
    return [create_load_balancer(session, region) for _ in range(count)]


LOAD_BALANCERS = ResourceType(
    service="elbv2", name="load_balancers", client="elbv2",
    cost=(Charge("elb.{type}"),),  # application, network or gateway: by the hour, besides capacity units
    doc=__doc__,
    # DescribeLoadBalancers carries no tags (that is DescribeTags, a call per 20 ARNs).
    # With the target groups it forwards to, which a kept load balancer keeps.
    list=with_associated(
        listed("describe_load_balancers", "LoadBalancers", "LoadBalancerArn", name="LoadBalancerName",
               created="CreatedTime", tags=None,
               properties={"type": "Type", "scheme": "Scheme", "state": "State.Code", "vpc_id": "VpcId",
                           "dns_name": "DNSName", "security_group_ids": "SecurityGroups",
                           "subnet_ids": "AvailabilityZones[].SubnetId",
                           "elastic_ip_ids": "AvailabilityZones[].LoadBalancerAddresses[].AllocationId"}),
        "target_group_arns", "describe_target_groups", "TargetGroups", "TargetGroupArn", "LoadBalancerArns"),
    # AWS answers the deletion of a load balancer that does not exist with success.
    steps=deleted_by("delete_load_balancer", "LoadBalancerArn"),
    # Deletion protection (the deletion_protection.enabled attribute) is not in the listing:
    # DeleteLoadBalancer refuses with OperationNotPermitted, and then it is lifted or the load
    # balancer skipped, as the settings say. moto never refuses: tests/test_elbv2.py plays
    # AWS's refusal with botocore's Stubber.
    protection=Protection("remove_deletion_protection",
                          Step("disable_deletion_protection", _disable_deletion_protection),
                          codes=frozenset({"OperationNotPermitted"})),
    wait=_still_there,
    gone_codes=frozenset({"LoadBalancerNotFound"}),
    # A network or gateway load balancer behind a VPC endpoint service is in use until the
    # service is deleted.
    retry_codes=frozenset({"ResourceInUse"}),
    seed=_seed,
    missing_id="arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/cc-no-such-lb/0123456789abcdef",
    holds=holding({"elbv2.target_groups": "target_group_arns", "ec2.elastic_ips": "elastic_ip_ids",
                    "ec2.security_groups": "security_group_ids", "ec2.subnets": "subnet_ids", "ec2.vpcs": "vpc_id"}),
)
catalog_load_balancers, cleanup_load_balancer, cleanup_load_balancers = engine.functions(LOAD_BALANCERS)
