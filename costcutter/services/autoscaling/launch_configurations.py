"""Launch configurations: deleted once the Auto Scaling groups that use them are gone."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, listed
from costcutter.services.autoscaling.groups import NOT_FOUND, deleted_by_name
from costcutter.services.ec2.amis import register_image


def _seed(session, region, count):
    ec2, autoscaling = session.client("ec2", region_name=region), session.client("autoscaling", region_name=region)
    image = register_image(ec2, "costcutter-seed-configuration-base")
    names = [f"costcutter-seed-{uuid.uuid4().hex[:8]}" for _ in range(count)]
    for name in names:
        autoscaling.create_launch_configuration(LaunchConfigurationName=name, ImageId=image, InstanceType="t3.micro")
    return names


LAUNCH_CONFIGURATIONS = ResourceType(
    service="autoscaling", name="launch_configurations", client="autoscaling", depends_on=("groups",), doc=__doc__,
    list=listed("describe_launch_configurations", "LaunchConfigurations", "LaunchConfigurationName",
                name="LaunchConfigurationName", created="CreatedTime", tags=None,
                properties={"instance_type": "InstanceType", "image_id": "ImageId"}),
    steps=(deleted_by_name("delete_launch_configuration", "LaunchConfigurationName"),),
    gone_codes=frozenset({NOT_FOUND}),
    retry_codes=frozenset({"ResourceInUse"}),  # a group using it is still being deleted
    seed=_seed, missing_id="costcutter-no-such-launch-configuration",
)
catalog_launch_configurations, cleanup_launch_configuration, cleanup_launch_configurations = engine.functions(
    LAUNCH_CONFIGURATIONS)
