"""EBS volumes, including those freed when their instances terminated."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, listed, per


def create_volume(ec2, region: str, size: int = 10) -> str:
    return ec2.create_volume(AvailabilityZone=f"{region}a", Size=size)["VolumeId"]


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [create_volume(ec2, region) for _ in range(count)]


def _billed_iops(volume):
    """io1 and io2 bill every provisioned IOPS; gp3, those above the 3,000 it includes."""
    iops = volume.get("iops") or 0
    return {"io1": iops, "io2": iops, "gp3": max(0, iops - 3000)}.get(volume.get("volume_type"), 0)


def _billed_throughput(volume):
    """gp3 bills the throughput above the 125 MiB/s it includes."""
    return max(0, (volume.get("throughput_mibps") or 125) - 125) if volume.get("volume_type") == "gp3" else 0


VOLUMES = ResourceType(
    service="ec2", name="volumes", client="ec2", goes_with="root volumes go with their instances",
    cost=(Charge("ebs.{volume_type}", per("size_gib")), Charge("ebs.{volume_type}.iops", _billed_iops),
          Charge("ebs.gp3.throughput", _billed_throughput)),
    depends_on=("instances", "snapshots"), doc=__doc__,
    list=listed("describe_volumes", "Volumes", "VolumeId", created="CreateTime",
                keep=lambda volume: volume["State"] not in ("deleting", "deleted"),
                properties={"size_gib": "Size", "volume_type": "VolumeType", "iops": "Iops", "state": "State",
                            "throughput_mibps": "Throughput"}),
    steps=deleted_by("delete_volume", "VolumeId"),
    gone_codes=frozenset({"InvalidVolume.NotFound"}),
    seed=_seed, missing_id="vol-0123456789abcdef0",
)
catalog_volumes, cleanup_volume, cleanup_volumes = engine.functions(VOLUMES)
