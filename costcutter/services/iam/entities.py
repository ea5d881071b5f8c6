"""What the IAM types share: what is never listed (what AWS owns, and the identity
CostCutter runs as), and steps that strip an entity of what it holds (keys, policies,
memberships...), read with list calls inside the step, so a step repeated on resume
removes only what is left.

IAM refuses to delete a user, role, group, instance profile or policy that still holds
anything, and none of this shows in the listing, so each teardown is a series of these
steps, then the deletion.
"""

import logging
import uuid
from collections.abc import Callable, Mapping

from costcutter import aws
from costcutter.registry import Step, pages

log = logging.getLogger(__name__)

GONE = frozenset({"NoSuchEntity"})
# A change to the same entity that was in flight; it clears up at once.
RETRY = frozenset({"ConcurrentModification"})
# Paths AWS keeps for itself: service-linked roles (only their service may delete them)
# and IAM Identity Center's roles.
_AWS_PATHS = ("/aws-service-role/", "/aws-reserved/")


def is_the_accounts(entity) -> bool:
    """False for what AWS made and owns, by its path."""
    return not entity["Path"].startswith(_AWS_PATHS)


class RunningIdentity:
    """The IAM user or role CostCutter runs as, and what gives it its permissions: its
    groups, its policies, the instance profile it comes through. Deleting any of them
    would take the run's permissions away halfway (the regions are swept at the same
    time), and the next scheduled run's too, so none of them is ever listed.

    The root user, federated users and AWS's own roles are none of the account's
    entities: then nothing is spared."""

    def __init__(self, target):
        self.iam = target.client_for("iam")
        arn = aws.caller_identity(target.client_for("sts"))["Arn"]
        kind, _, path = arn.split(":", 5)[5].partition("/")
        # arn:aws:iam::123456789012:user/path/name, arn:aws:sts::123456789012:assumed-role/name/session
        self.user = path.rsplit("/", 1)[-1] if kind == "user" else None
        self.role = path.split("/", 1)[0] if kind == "assumed-role" else None

    def users(self) -> set[str]:
        return {self.user} if self.user else set()

    def roles(self) -> set[str]:
        return {self.role} if self.role else set()

    def groups(self) -> set[str]:
        return {group["GroupName"] for group in self._each("list_groups_for_user", "Groups", UserName=self.user)}

    def instance_profiles(self) -> set[str]:
        return {profile["InstanceProfileName"]
                for profile in self._each("list_instance_profiles_for_role", "InstanceProfiles", RoleName=self.role)}

    def policies(self) -> set[str]:
        attached = [*self._each("list_attached_user_policies", "AttachedPolicies", UserName=self.user),
                    *self._each("list_attached_role_policies", "AttachedPolicies", RoleName=self.role),
                    *(policy for group in self.groups()
                      for policy in self._each("list_attached_group_policies", "AttachedPolicies", GroupName=group))]
        return {policy["PolicyArn"] for policy in attached}

    def _each(self, operation: str, items_key: str, **entity):
        if None in entity.values():
            return []
        with aws.ignoring(*GONE):  # an identity IAM does not know (moto's default caller)
            return [item for page in pages(self.iam, operation, **entity) for item in page[items_key]]
        return []


def sparing(spared: Callable[[RunningIdentity], set[str]], list_resources):
    """A `list` that leaves out the ids `spared` names of the identity CostCutter runs as."""
    def list_sparing(target):
        keep_out = spared(RunningIdentity(target))
        for resource in list_resources(target):
            if resource.id in keep_out:
                log.info("left %s %s alone: CostCutter runs as it, or through it", target.rtype.key, resource.id)
            else:
                yield resource
    list_sparing.__name__ = f"{list_resources.__name__}_sparing"
    return list_sparing


def _value(mapping, path: str | None):
    """item["A"]["B"] for "A.B"; the item itself for None (lists of plain names)."""
    for part in path.split(".") if path else ():
        mapping = mapping[part]
    return mapping


def removing(name: str, list_operation: str, items_key: str, remove_operation: str, *, owner: str,
             item_params: Mapping[str, str | None], keep: Callable[[dict], bool] | None = None,
             **list_params) -> Step:
    """A Step that lists what the entity holds (every page of `list_operation`, with the
    entity's id as `owner`) and removes each item with `remove_operation`, passing `owner`
    and `item_params` (parameter -> key of the item, or None for the item itself).

    Everything is listed before anything is removed, so no page marker can skip an item.
    An item gone meanwhile counts as removed; the entity itself gone means the step is
    done, and its deletion will say so."""
    def remove_each(target, entity):
        items = [item for page in pages(target.client, list_operation, **{owner: entity.id}, **list_params)
                 for item in _value(page, items_key) or [] if keep is None or keep(item)]
        remove = getattr(target.client, remove_operation)
        for item in items:
            with aws.ignoring(*GONE):
                remove(**{owner: entity.id}, **{param: _value(item, key) for param, key in item_params.items()})
        return f"{len(items)} removed"
    remove_each.__name__ = name
    return Step(name, remove_each, done_codes=GONE)


def dropping_policies(entity: str) -> tuple[Step, Step]:
    """The steps that take a user's, group's or role's policies away: its managed ones
    detached, its inline ones deleted."""
    owner = f"{entity.capitalize()}Name"
    return (removing("detach_policies", f"list_attached_{entity}_policies", "AttachedPolicies",
                     f"detach_{entity}_policy", owner=owner, item_params={"PolicyArn": "PolicyArn"}),
            removing("delete_inline_policies", f"list_{entity}_policies", "PolicyNames", f"delete_{entity}_policy",
                     owner=owner, item_params={"PolicyName": None}))


def seed_name(prefix: str) -> str:
    """A name no other seeded entity has: IAM names are unique in the account."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
