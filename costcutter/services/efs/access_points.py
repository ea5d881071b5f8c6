"""EFS access points: free, but they hold their file system; deleted before it."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed
from costcutter.services.efs.file_systems import GONE_STATES, create_file_system


def _seed(session, region, count):
    efs = session.client("efs", region_name=region)
    file_system = create_file_system(session, region)
    return [efs.create_access_point(FileSystemId=file_system)["AccessPointId"] for _ in range(count)]


ACCESS_POINTS = ResourceType(
    depends_on=("lambda.functions",),
    service="efs", name="access_points", client="efs", doc=__doc__,
    # Without a file system or access point id, DescribeAccessPoints answers for the whole account.
    list=listed("describe_access_points", "AccessPoints", "AccessPointId", name="Name", parent="FileSystemId",
                keep=lambda point: point["LifeCycleState"] not in GONE_STATES,
                properties={"state": "LifeCycleState", "path": "RootDirectory.Path"}),
    # AWS answers the deletion of one that does not exist with AccessPointNotFound; moto, with success.
    steps=deleted_by("delete_access_point", "AccessPointId"),
    gone_codes=frozenset({"AccessPointNotFound"}),
    seed=_seed, missing_id="fsap-0123456789abcdef0",
)
catalog_access_points, cleanup_access_point, cleanup_access_points = engine.functions(ACCESS_POINTS)
