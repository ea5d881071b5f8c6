"""Auto Scaling groups: force-deleted with their instances, then waited for, so none relaunches what is terminated."""

import uuid

from botocore.exceptions import ClientError

from costcutter import aws, engine
from costcutter.registry import ResourceType, Step, holding, listed, pages
from costcutter.services.ec2.amis import register_image
from costcutter.services.ec2.launch_templates import create_launch_template

NOT_FOUND = "NotFound"
_DELETING = "Delete in progress"
_NAMES_PER_DESCRIBE = 50  # DescribeAutoScalingGroups takes up to 50 names


def deleted_by_name(operation: str, name_param: str, **params) -> Step:
    """The deletion of an Auto Scaling resource by name. Auto Scaling answers a name it does
    not know with a ValidationError that says "not found", which alone is raised again as
    NOT_FOUND, for gone_codes: any other ValidationError is a failure."""
    def delete(target, resource):
        try:
            getattr(target.client, operation)(**{name_param: resource.id}, **params)
        except ClientError as error:
            if aws.error_code(error) == "ValidationError" and "not found" in aws.error_message(error):
                raise ClientError({"Error": {"Code": NOT_FOUND, "Message": aws.error_message(error)}},
                                  error.operation_name) from error
            raise
    delete.__name__ = operation
    return Step("delete", delete)


def _still_deleting(target, names):
    for start in range(0, len(names), _NAMES_PER_DESCRIBE):
        for page in pages(target.client, "describe_auto_scaling_groups",
                          AutoScalingGroupNames=names[start:start + _NAMES_PER_DESCRIBE]):
            yield from (group["AutoScalingGroupName"] for group in page["AutoScalingGroups"])


def _seed(session, region, count):
    """Empty groups launching from a launch template: with instances, a group relaunches those
    a run of only ec2 terminates (tests/test_ec2_network.py seeds groups with instances)."""
    ec2, autoscaling = session.client("ec2", region_name=region), session.client("autoscaling", region_name=region)
    template = create_launch_template(ec2, register_image(ec2, "costcutter-seed-group-base"))
    names = [f"costcutter-seed-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for name in names:
        autoscaling.create_auto_scaling_group(AutoScalingGroupName=name, LaunchTemplate={"LaunchTemplateId": template},
                                              MinSize=0, MaxSize=1, DesiredCapacity=0,
                                              AvailabilityZones=[f"{region}a"])
    return names


GROUPS = ResourceType(
    depends_on=("eks.node_groups",),
    service="autoscaling", name="groups", client="autoscaling", doc=__doc__,
    list=listed("describe_auto_scaling_groups", "AutoScalingGroups", "AutoScalingGroupName",
                name="AutoScalingGroupName", created="CreatedTime",
                keep=lambda group: group.get("Status") != _DELETING,
                properties={"desired_capacity": "DesiredCapacity", "min_size": "MinSize", "max_size": "MaxSize",
                            "launch_configuration": "LaunchConfigurationName",
                            "launch_template": "LaunchTemplate.LaunchTemplateName",
                            "launch_template_id": "LaunchTemplate.LaunchTemplateId",
                            "instance_ids": "Instances[].InstanceId", "target_group_arns": "TargetGroupARNs"}),
    # ForceDelete terminates the instances with the group, without scaling it to zero first.
    steps=(deleted_by_name("delete_auto_scaling_group", "AutoScalingGroupName", ForceDelete=True),),
    wait=_still_deleting,
    gone_codes=frozenset({NOT_FOUND}),
    # A scaling activity in progress, or another update of the group, refuses for a while.
    retry_codes=frozenset({"ScalingActivityInProgress", "ResourceInUse"}),
    seed=_seed, missing_id="costcutter-no-such-group",
    holds=holding({"ec2.instances": "instance_ids", "autoscaling.launch_configurations": "launch_configuration",
                    "ec2.launch_templates": "launch_template_id", "elbv2.target_groups": "target_group_arns"}),
)
catalog_groups, cleanup_group, cleanup_groups = engine.functions(GROUPS)
