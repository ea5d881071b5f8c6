"""Launch templates (all their versions): deleted once the Auto Scaling groups and spot fleets that launch from them are gone."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed
from costcutter.services.ec2.amis import register_image


def create_launch_template(ec2, image: str) -> str:
    return ec2.create_launch_template(LaunchTemplateName=f"costcutter-seed-{uuid.uuid4().hex[:8]}",
                                      LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"},
                                      )["LaunchTemplate"]["LaunchTemplateId"]


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    image = register_image(ec2, "costcutter-seed-template-base")
    return [create_launch_template(ec2, image) for _ in range(count)]


LAUNCH_TEMPLATES = ResourceType(
    service="ec2", name="launch_templates", client="ec2", doc=__doc__,
    depends_on=("autoscaling.groups", "spot_fleets", "eks.node_groups"),
    # One an AWS service operates (EKS, Batch) goes with what made it.
    list=listed("describe_launch_templates", "LaunchTemplates", "LaunchTemplateId", name="LaunchTemplateName",
                created="CreateTime", keep=lambda template: not (template.get("Operator") or {}).get("Managed"),
                properties={"latest_version": "LatestVersionNumber"}),
    steps=deleted_by("delete_launch_template", "LaunchTemplateId"),
    # AWS answers an unknown id with the first, moto with the second.
    gone_codes=frozenset({"InvalidLaunchTemplateId.NotFound", "InvalidLaunchTemplateName.NotFoundException"}),
    seed=_seed, missing_id="lt-0123456789abcdef0",
)
catalog_launch_templates, cleanup_launch_template, cleanup_launch_templates = engine.functions(LAUNCH_TEMPLATES)
