"""EBS snapshots owned by the account, once the AMIs built on them are gone."""

from costcutter.registry import Subresource, deleted_by, listed

SNAPSHOTS = Subresource(
    service="ec2", name="snapshots", client="ec2", after=("amis",),
    list=listed("describe_snapshots", "Snapshots", "SnapshotId", OwnerIds=["self"]),
    delete=deleted_by("delete_snapshot", "SnapshotId"),
    gone_codes=frozenset({"InvalidSnapshot.NotFound"}),
)
catalog_snapshots, cleanup_snapshot, cleanup_snapshots = SNAPSHOTS.functions()
