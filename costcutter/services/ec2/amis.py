"""AMIs owned by the account: deregistered before their snapshots can be deleted."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def register_image(ec2, name: str) -> str:
    """An AMI with an 8 GiB root device; moto backs it with a snapshot, as AWS does."""
    return ec2.register_image(Name=name, RootDeviceName="/dev/sda1",
                              BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}])["ImageId"]


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [register_image(ec2, f"costcutter-seed-{uuid.uuid4().hex[:8]}") for _ in range(count)]


AMIS = ResourceType(
    service="ec2", name="amis", client="ec2", depends_on=("instances",), doc=__doc__,
    list=listed("describe_images", "Images", "ImageId", name="Name", created="CreationDate",
                properties={"state": "State", "platform": "PlatformDetails"}, Owners=["self"]),
    steps=deleted_by("deregister_image", "ImageId"),
    gone_codes=frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"}),
    seed=_seed, missing_id="ami-0123456789abcdef0",
)
catalog_amis, cleanup_ami, cleanup_amis = engine.functions(AMIS)
