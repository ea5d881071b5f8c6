"""EBS volumes, including those freed when their instances terminated."""

from costcutter.registry import Subresource, deleted_by, listed

VOLUMES = Subresource(
    service="ec2", name="volumes", client="ec2", after=("instances", "snapshots"),
    list=listed("describe_volumes", "Volumes", "VolumeId",
                keep=lambda volume: volume["State"] not in ("deleting", "deleted")),
    delete=deleted_by("delete_volume", "VolumeId"),
    gone_codes=frozenset({"InvalidVolume.NotFound"}),
)
catalog_volumes, cleanup_volume, cleanup_volumes = VOLUMES.functions()
