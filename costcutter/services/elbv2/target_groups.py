"""Target groups: free themselves, but they hold targets and health checks; deleted once the load balancers are gone.

A target group a listener or rule still forwards to cannot be deleted (ResourceInUse).
Once elbv2.load_balancers is done, only a load balancer that was kept (protected) or
failed still has listeners, so that refusal is final for this run and is not retried.
"""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, holding, listed


def create_target_group(session, region: str) -> str:
    ec2 = session.client("ec2", region_name=region)
    [vpc] = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    elbv2 = session.client("elbv2", region_name=region)
    return elbv2.create_target_group(Name=f"cc-seed-{uuid.uuid4().hex[:12]}", Protocol="HTTP", Port=80,
                                     VpcId=vpc["VpcId"])["TargetGroups"][0]["TargetGroupArn"]


def _seed(session, region, count):
    return [create_target_group(session, region) for _ in range(count)]


TARGET_GROUPS = ResourceType(
    service="elbv2", name="target_groups", client="elbv2", doc=__doc__,
    depends_on=("load_balancers", "autoscaling.groups"),
    # The listing carries neither tags nor a creation time.
    list=listed("describe_target_groups", "TargetGroups", "TargetGroupArn", name="TargetGroupName", tags=None,
                properties={"target_type": "TargetType", "protocol": "Protocol", "vpc_id": "VpcId",
                            "load_balancer_arns": "LoadBalancerArns"}),
    steps=deleted_by("delete_target_group", "TargetGroupArn"),
    # AWS answers the deletion of a target group that does not exist with success; moto
    # answers TargetGroupNotFound.
    gone_codes=frozenset({"TargetGroupNotFound"}),
    seed=_seed,
    missing_id="arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/cc-no-such-tg/0123456789abcdef",
    holds=holding({"ec2.vpcs": "vpc_id"}),
)
catalog_target_groups, cleanup_target_group, cleanup_target_groups = engine.functions(TARGET_GROUPS)
