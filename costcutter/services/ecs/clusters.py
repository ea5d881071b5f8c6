"""ECS clusters other than `default`: deleted once their services, tasks and container instances are gone.

A cluster costs nothing by itself, but it holds what does. Its services, standalone tasks
and container instances (ecs.services, ecs.tasks, ecs.container_instances) go first;
until ECS has caught up with them, the deletion is refused with a
ClusterContains...Exception, which is retried. The `default` cluster, which ECS makes
for itself, is kept (what runs in it is cleaned all the same).
"""

import uuid

from botocore.exceptions import ClientError

from costcutter import aws, engine
from costcutter.registry import ResourceType, call, pages, record

_CLUSTERS_AT_ONCE = 100  # DescribeClusters takes up to 100
_GONE_STATES = {"INACTIVE", "DEPROVISIONING"}
GONE_CODES = frozenset({"ClusterNotFoundException"})


def cluster_arns(ecs) -> list[str]:
    return [arn for page in pages(ecs, "list_clusters") for arn in page["clusterArns"]]


def cluster_of(arn: str) -> str | None:
    """The cluster named in a service's, task's or container instance's ARN: today's format
    is `service/CLUSTER/NAME`; the old one, `service/NAME`, names none."""
    path = arn.split(":", 5)[-1].split("/")
    return path[1] if len(path) == 3 else None


def cluster_param(resource) -> str:
    """The cluster of a listed resource, or of one given by its ARN alone."""
    return resource.parent or cluster_of(resource.id) or "default"


def chunked(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def describe(ecs, operation: str, items_key: str, param: str, at_once: int, cluster: str, arns: list, **params):
    """What `operation` (DescribeServices, DescribeTasks...) answers for ARNs of one
    cluster, `at_once` per call; nothing for a cluster that is gone."""
    for chunk in chunked(arns, at_once):
        try:
            yield from getattr(ecs, operation)(cluster=cluster, **{param: chunk}, **params)[items_key]
        except ClientError as error:
            if aws.error_code(error) not in GONE_CODES:
                raise


def members(ecs, list_operation: str, list_key: str, describe_operation: str, describe_key: str, param: str,
            at_once: int, list_params=None, **describe_params):
    """Every cluster's services (or tasks, or container instances), described, each with its
    clusterArn: one listing per cluster, then one description per `at_once` of them."""
    for cluster in cluster_arns(ecs):
        arns = [arn for page in pages(ecs, list_operation, cluster=cluster, **(list_params or {}))
                for arn in page[list_key]]
        for item in describe(ecs, describe_operation, describe_key, param, at_once, cluster, arns, **describe_params):
            yield {"clusterArn": cluster, **item}  # container instances do not say which


def described_by_arn(ecs, operation: str, items_key: str, param: str, at_once: int, arns: list, **params):
    """What `operation` answers for these ARNs, one call per cluster and `at_once` of them;
    ARNs in the old format, which name no cluster, are asked of every cluster."""
    grouped: dict[str | None, list] = {}
    for arn in arns:
        grouped.setdefault(cluster_of(arn), []).append(arn)
    if unplaced := grouped.pop(None, []):
        for cluster in cluster_arns(ecs):
            grouped.setdefault(cluster.split("/")[-1], []).extend(unplaced)
    for cluster, in_cluster in grouped.items():
        yield from describe(ecs, operation, items_key, param, at_once, cluster, in_cluster, **params)


def _list(target):
    for chunk in chunked(cluster_arns(target.client), _CLUSTERS_AT_ONCE):
        for cluster in target.client.describe_clusters(clusters=chunk, include=["TAGS"])["clusters"]:
            if cluster["status"] not in _GONE_STATES and cluster["clusterName"] != "default":
                yield record(cluster, "clusterArn", name="clusterName", tags="tags", properties={
                    "status": "status", "container_instances": "registeredContainerInstancesCount",
                    "running_tasks": "runningTasksCount", "active_services": "activeServicesCount"})


def create_cluster(session, region: str) -> str:
    ecs = session.client("ecs", region_name=region)
    return ecs.create_cluster(clusterName=f"cc-seed-{uuid.uuid4().hex[:12]}")["cluster"]["clusterArn"]


def _seed(session, region, count):
    return [create_cluster(session, region) for _ in range(count)]


CLUSTERS = ResourceType(
    service="ecs", name="clusters", client="ecs", depends_on=("services", "tasks", "container_instances"),
    doc=__doc__, list=_list,
    steps=(call("delete_cluster", "cluster"),),
    gone_codes=GONE_CODES,
    retry_codes=frozenset({"ClusterContainsServicesException", "ClusterContainsTasksException",
                           "ClusterContainsContainerInstancesException", "UpdateInProgressException"}),
    seed=_seed, missing_id="arn:aws:ecs:eu-west-1:123456789012:cluster/cc-no-such-cluster",
)
catalog_clusters, cleanup_cluster, cleanup_clusters = engine.functions(CLUSTERS)
