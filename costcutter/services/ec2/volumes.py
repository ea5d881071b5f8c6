"""EBS volumes, including those freed when their instances terminated."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def create_volume(ec2, region: str, size: int = 10) -> str:
    return ec2.create_volume(AvailabilityZone=f"{region}a", Size=size)["VolumeId"]


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [create_volume(ec2, region) for _ in range(count)]


VOLUMES = ResourceType(
    service="ec2", name="volumes", client="ec2", depends_on=("instances", "snapshots"), doc=__doc__,
    list=listed("describe_volumes", "Volumes", "VolumeId", created="CreateTime",
                keep=lambda volume: volume["State"] not in ("deleting", "deleted"),
                properties={"size_gib": "Size", "volume_type": "VolumeType", "iops": "Iops", "state": "State"}),
    steps=deleted_by("delete_volume", "VolumeId"),
    gone_codes=frozenset({"InvalidVolume.NotFound"}),
    seed=_seed, missing_id="vol-0123456789abcdef0",
)
catalog_volumes, cleanup_volume, cleanup_volumes = engine.functions(VOLUMES)
