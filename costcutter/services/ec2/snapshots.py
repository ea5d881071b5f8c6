"""EBS snapshots owned by the account, once the AMIs built on them are gone."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, listed, per
from costcutter.services.ec2.volumes import create_volume


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    volume = create_volume(ec2, region)
    return [ec2.create_snapshot(VolumeId=volume)["SnapshotId"] for _ in range(count)]


def _tier(snapshot):
    # Priced at its volume's size: an upper bound, as a snapshot is billed for the blocks it holds.
    return {"tier": "archive" if snapshot.get("storage_tier") == "archive" else "standard"}


SNAPSHOTS = ResourceType(
    service="ec2", name="snapshots", client="ec2", goes_with="an AMI's snapshot goes with it when AWS deletes both",
    cost=(Charge("ebs.snapshot.{tier}", per("size_gib"), fields=_tier),),
    depends_on=("amis",), doc=__doc__,
    list=listed("describe_snapshots", "Snapshots", "SnapshotId", created="StartTime",
                properties={"size_gib": "VolumeSize", "storage_tier": "StorageTier"}, OwnerIds=["self"]),
    steps=deleted_by("delete_snapshot", "SnapshotId"),
    gone_codes=frozenset({"InvalidSnapshot.NotFound"}),
    seed=_seed, missing_id="snap-0123456789abcdef0",
)
catalog_snapshots, cleanup_snapshot, cleanup_snapshots = engine.functions(SNAPSHOTS)
