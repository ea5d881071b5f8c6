"""Security groups other than each VPC's default, which AWS does not let anyone delete."""

from costcutter import aws
from costcutter.registry import Subresource, listed

_GONE_CODES = frozenset({"InvalidGroup.NotFound", "InvalidGroupId.NotFound"})


def _delete(ec2, group_id):
    _revoke_rules_naming_groups(ec2, group_id)
    ec2.delete_security_group(GroupId=group_id)


def _revoke_rules_naming_groups(ec2, group_id):
    """Two groups whose rules name each other could never be deleted one at a time; each
    group drops its own rules that name groups, so the other can go."""
    groups = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    for group in groups:
        for rules, revoke in ((group.get("IpPermissions", []), ec2.revoke_security_group_ingress),
                              (group.get("IpPermissionsEgress", []), ec2.revoke_security_group_egress)):
            naming_groups = [_only_group_pairs(rule) for rule in rules if rule.get("UserIdGroupPairs")]
            if naming_groups:
                # A group these rules name is gone already, so they hold nothing back. The
                # NotFound is about that group, not this one: whether this one is gone is
                # for the delete to say. A rule that is not found was revoked already, by an
                # earlier attempt whose answer was lost.
                with aws.ignoring(*_GONE_CODES, "InvalidPermission.NotFound"):
                    revoke(GroupId=group_id, IpPermissions=naming_groups)


def _only_group_pairs(rule):
    keep = ("IpProtocol", "FromPort", "ToPort", "UserIdGroupPairs")
    return {key: value for key, value in rule.items() if key in keep}


SECURITY_GROUPS = Subresource(
    service="ec2", name="security_groups", client="ec2", delete=_delete, after=("instances", "elastic_ips"),
    list=listed("describe_security_groups", "SecurityGroups", "GroupId",
                keep=lambda group: group["GroupName"] != "default"),
    gone_codes=_GONE_CODES,
    # Network interfaces of terminated instances, or another group's rule that names this
    # one, hold it for a while; both clear up as the rest of the sweep goes on.
    retry_codes=frozenset({"DependencyViolation"}),
)
catalog_security_groups, cleanup_security_group, cleanup_security_groups = SECURITY_GROUPS.functions()
