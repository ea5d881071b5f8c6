"""Customer-managed IAM policies: detached from every user, group and role, every version but the default deleted, then deleted.

Only the account's own (Scope=Local): the AWS-managed policies are AWS's.
"""

import dataclasses

from costcutter import engine
from costcutter.registry import GLOBAL, ResourceType, call, listed
from costcutter.services.iam.entities import GONE, RETRY, RunningIdentity, removing, seed_name, sparing
from costcutter.services.iam.users import READ_ONLY_POLICY

_POLICY = "PolicyArn"


def _attached(policy) -> bool:
    """Whether it may be attached to anything: the listing's AttachmentCount says (a policy
    given by its ARN alone, not listed, may be)."""
    return policy.properties.get("attachments", 1) != 0


def _detaching(entity: str, key: str):
    step = removing(f"detach_from_{entity.lower()}s", "list_entities_for_policy", f"Policy{entity}s",
                    f"detach_{entity.lower()}_policy", owner=_POLICY, item_params={key: key}, EntityFilter=entity)
    return dataclasses.replace(step, when=_attached)


def create_policy(iam, prefix="costcutter-seed") -> str:
    return iam.create_policy(PolicyName=seed_name(prefix), PolicyDocument=READ_ONLY_POLICY)["Policy"]["Arn"]


def _seed(session, region, count):
    """Policies with a second version, the default."""
    iam = session.client("iam", region_name=region)
    arns = [create_policy(iam) for _ in range(count)]
    for arn in arns:
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=READ_ONLY_POLICY, SetAsDefault=True)
    return arns


POLICIES = ResourceType(
    # After the users, groups and roles, which detach their policies as they go.
    service="iam", name="policies", client="iam", scope=GLOBAL, depends_on=("users", "groups", "roles"),
    doc=__doc__,
    # Every call takes the ARN. ListPolicies returns no tags.
    list=sparing(RunningIdentity.policies, listed(
        "list_policies", "Policies", "Arn", name="PolicyName", created="CreateDate", tags=None,
        properties={"path": "Path", "attachments": "AttachmentCount", "default_version": "DefaultVersionId"},
        Scope="Local")),
    steps=(
        _detaching("User", "UserName"),
        _detaching("Group", "GroupName"),
        _detaching("Role", "RoleName"),
        # The default version goes with the policy; AWS refuses to delete it on its own.
        removing("delete_other_versions", "list_policy_versions", "Versions", "delete_policy_version",
                 owner=_POLICY, item_params={"VersionId": "VersionId"},
                 keep=lambda version: not version["IsDefaultVersion"]),
        call("delete_policy", _POLICY),
    ),
    gone_codes=GONE, retry_codes=RETRY,
    seed=_seed, missing_id="arn:aws:iam::123456789012:policy/costcutter-no-such-policy",
)
catalog_policies, cleanup_policy, cleanup_policies = engine.functions(POLICIES)
