"""IAM instance profiles: their role removed, then deleted, once the instances that used them are gone."""

from costcutter import engine
from costcutter.registry import GLOBAL, ResourceType, call, holding, listed
from costcutter.services.iam.entities import GONE, RETRY, RunningIdentity, is_the_accounts, removing, seed_name, sparing
from costcutter.services.iam.roles import create_role

_PROFILE = "InstanceProfileName"


def _seed(session, region, count):
    """Instance profiles, each holding a role of its own."""
    iam = session.client("iam", region_name=region)
    names = []
    for _ in range(count):
        name = seed_name("costcutter-seed")
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=create_role(iam))
        names.append(name)
    return names


INSTANCE_PROFILES = ResourceType(
    # An instance profile can be deleted under a running instance, which then loses its
    # credentials: the instances go first, in every region.
    service="iam", name="instance_profiles", client="iam", scope=GLOBAL, doc=__doc__,
    depends_on=(
        "ec2.instances", "autoscaling.groups", "elasticbeanstalk.environments", "emr.clusters", "eks.node_groups",
    ),
    list=sparing(RunningIdentity.instance_profiles, listed(
        "list_instance_profiles", "InstanceProfiles", "InstanceProfileName", keep=is_the_accounts,
        name="InstanceProfileName", created="CreateDate", tags=None,
        properties={"path": "Path", "role_names": "Roles[].RoleName"})),
    steps=(
        # Read again rather than taken from the listing, so a repeat removes only what is left.
        removing("remove_roles", "get_instance_profile", "InstanceProfile.Roles", "remove_role_from_instance_profile",
                 owner=_PROFILE, item_params={"RoleName": "RoleName"}),
        call("delete_instance_profile", _PROFILE),
    ),
    gone_codes=GONE, retry_codes=RETRY,
    seed=_seed, missing_id="costcutter-no-such-instance-profile",
    holds=holding({"iam.roles": "role_names"}),
)
catalog_instance_profiles, cleanup_instance_profile, cleanup_instance_profiles = engine.functions(INSTANCE_PROFILES)
