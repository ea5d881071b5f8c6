"""IAM roles: out of their instance profiles, policies detached and deleted, then deleted; never service-linked or AWS-reserved ones.

AWS makes and owns the roles under /aws-service-role/ (service-linked: only their service
may delete them) and /aws-reserved/ (IAM Identity Center's): they are never listed.
"""

import json

from costcutter import engine
from costcutter.registry import GLOBAL, ResourceType, call, listed
from costcutter.services.iam.entities import (GONE, RETRY, RunningIdentity, dropping_policies, is_the_accounts,
                                              removing, seed_name, sparing)
from costcutter.services.iam.users import READ_ONLY_POLICY

_ROLE = "RoleName"
ASSUMED_BY_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def create_role(iam, prefix="costcutter-seed") -> str:
    iam.create_role(RoleName=(name := seed_name(prefix)), AssumeRolePolicyDocument=ASSUMED_BY_EC2)
    return name


def _seed(session, region, count):
    iam = session.client("iam", region_name=region)
    names = [create_role(iam) for _ in range(count)]
    for name in names:
        iam.put_role_policy(RoleName=name, PolicyName="read", PolicyDocument=READ_ONLY_POLICY)
    return names


ROLES = ResourceType(
    service="iam", name="roles", client="iam", scope=GLOBAL, doc=__doc__,
    depends_on=(
        "instance_profiles", "lambda.functions", "stepfunctions.state_machines", "firehose.delivery_streams",
        "events.rules", "eks.clusters", "eks.node_groups", "ecs.services", "cloudformation.stacks",
        "elasticbeanstalk.environments", "emr.clusters", "sagemaker.notebook_instances", "glue.crawlers", "glue.jobs",
    ),
    # ListRoles returns no tags (nor when the role was last used).
    list=sparing(RunningIdentity.roles, listed(
        "list_roles", "Roles", "RoleName", keep=is_the_accounts, name="RoleName", created="CreateDate", tags=None,
        properties={"path": "Path"})),
    steps=(
        removing("leave_instance_profiles", "list_instance_profiles_for_role", "InstanceProfiles",
                 "remove_role_from_instance_profile", owner=_ROLE,
                 item_params={"InstanceProfileName": "InstanceProfileName"}),
        *dropping_policies("role"),
        call("delete_role", _ROLE),
    ),
    gone_codes=GONE, retry_codes=RETRY,
    seed=_seed, missing_id="costcutter-no-such-role",
)
catalog_roles, cleanup_role, cleanup_roles = engine.functions(ROLES)
