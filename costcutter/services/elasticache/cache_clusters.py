"""ElastiCache cache clusters of their own (a replication group's clusters go with it): deleted, then waited for."""

from costcutter import engine
from costcutter.registry import Charge, ResourceType, deleted_by, holding, listed, per, seed_names, still_listed


def _seed(session, region, count):
    elasticache = session.client("elasticache", region_name=region)
    return seed_names(count, lambda name: elasticache.create_cache_cluster(
        CacheClusterId=name, Engine="redis", CacheNodeType="cache.t3.micro", NumCacheNodes=1))


CACHE_CLUSTERS = ResourceType(
    service="elasticache", name="cache_clusters", client="elasticache",
    cost=(Charge("elasticache.node:{node_type}", per("nodes")),),
    doc=__doc__,
    list=listed("describe_cache_clusters", "CacheClusters", "CacheClusterId", created="CacheClusterCreateTime",
                tags=None, keep=lambda cluster: not cluster.get("ReplicationGroupId")
                and cluster["CacheClusterStatus"] != "deleting",
                properties={"node_type": "CacheNodeType", "nodes": "NumCacheNodes", "engine": "Engine",
                            "status": "CacheClusterStatus", "subnet_group": "CacheSubnetGroupName",
                            "security_group_ids": "SecurityGroups[].SecurityGroupId"}),
    steps=deleted_by("delete_cache_cluster", "CacheClusterId"),
    wait=still_listed("describe_cache_clusters", "CacheClusters", "CacheClusterId"),
    gone_codes=frozenset({"CacheClusterNotFound"}),
    retry_codes=frozenset({"InvalidCacheClusterState"}),  # still being created, modified or snapshotted
    seed=_seed, missing_id="costcutter-no-such-cluster",
    holds=holding({"elasticache.cache_subnet_groups": "subnet_group", "ec2.security_groups": "security_group_ids"}),
)
catalog_cache_clusters, cleanup_cache_cluster, cleanup_cache_clusters = engine.functions(CACHE_CLUSTERS)
