"""IAM groups: emptied of their users, their policies detached and deleted, then deleted."""

from costcutter import engine
from costcutter.registry import GLOBAL, ResourceType, call, listed
from costcutter.services.iam.entities import (GONE, RETRY, RunningIdentity, dropping_policies, removing, seed_name,
                                              sparing)
from costcutter.services.iam.users import READ_ONLY_POLICY, create_user

_GROUP = "GroupName"


def create_group(iam, prefix="costcutter-seed") -> str:
    iam.create_group(GroupName=(name := seed_name(prefix)))
    return name


def _seed(session, region, count):
    """Groups with a member and an inline policy."""
    iam = session.client("iam", region_name=region)
    names = [create_group(iam) for _ in range(count)]
    for name in names:
        iam.add_user_to_group(GroupName=name, UserName=create_user(iam))
        iam.put_group_policy(GroupName=name, PolicyName="read", PolicyDocument=READ_ONLY_POLICY)
    return names


GROUPS = ResourceType(
    # After the users, which leave their groups as they go: what is left here is rare.
    service="iam", name="groups", client="iam", scope=GLOBAL, depends_on=("users",), doc=__doc__,
    list=sparing(RunningIdentity.groups, listed(
        "list_groups", "Groups", "GroupName", name="GroupName", created="CreateDate", tags=None,
        properties={"path": "Path"})),
    steps=(
        removing("remove_users", "get_group", "Users", "remove_user_from_group", owner=_GROUP,
                 item_params={"UserName": "UserName"}),
        *dropping_policies("group"),
        call("delete_group", _GROUP),
    ),
    gone_codes=GONE, retry_codes=RETRY,
    seed=_seed, missing_id="costcutter-no-such-group",
)
catalog_groups, cleanup_group, cleanup_groups = engine.functions(GROUPS)
