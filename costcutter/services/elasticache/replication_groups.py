"""ElastiCache replication groups, with all their clusters: deleted, then waited for."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, listed, seed_names, still_listed


def _seed(session, region, count):
    elasticache = session.client("elasticache", region_name=region)
    return seed_names(count, lambda name: elasticache.create_replication_group(
        ReplicationGroupId=name, ReplicationGroupDescription="seeded by costcutter", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2))


REPLICATION_GROUPS = ResourceType(
    service="elasticache", name="replication_groups", client="elasticache",
    cost=(Charge("elasticache.node:{node_type}", lambda group: len(group.get("member_clusters") or [])),),
    doc=__doc__,
    list=listed("describe_replication_groups", "ReplicationGroups", "ReplicationGroupId",
                created="ReplicationGroupCreateTime", tags=None, keep=lambda group: group["Status"] != "deleting",
                properties={"node_type": "CacheNodeType", "engine": "Engine", "status": "Status",
                            "member_clusters": "MemberClusters"}),
    steps=deleted_by("delete_replication_group", "ReplicationGroupId", RetainPrimaryCluster=False),
    wait=still_listed("describe_replication_groups", "ReplicationGroups", "ReplicationGroupId"),
    gone_codes=frozenset({"ReplicationGroupNotFoundFault"}),
    retry_codes=frozenset({"InvalidReplicationGroupState"}),  # still being created, modified or snapshotted
    seed=_seed, missing_id="costcutter-no-such-group",
)
catalog_replication_groups, cleanup_replication_group, cleanup_replication_groups = engine.functions(
    REPLICATION_GROUPS)
