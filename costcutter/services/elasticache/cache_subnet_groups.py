"""ElastiCache subnet groups other than `default`, once no cluster uses them: deleted."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed, seed_names
from costcutter.services.rds.db_subnet_groups import create_subnets


def _seed(session, region, count):
    elasticache = session.client("elasticache", region_name=region)
    subnets = create_subnets(session, region)
    return seed_names(count, lambda name: elasticache.create_cache_subnet_group(
        CacheSubnetGroupName=name, SubnetIds=subnets, CacheSubnetGroupDescription="seeded by costcutter"))


# moto has no DeleteCacheSubnetGroup: the deletion is tested with botocore's Stubber on real
# response shapes (tests/test_elasticache.py), and the sandbox does not seed these.
CACHE_SUBNET_GROUPS = ResourceType(
    service="elasticache", name="cache_subnet_groups", client="elasticache",
    depends_on=("cache_clusters", "replication_groups"), doc=__doc__,
    list=listed("describe_cache_subnet_groups", "CacheSubnetGroups", "CacheSubnetGroupName",
                name="CacheSubnetGroupName", tags=None, keep=lambda group: group["CacheSubnetGroupName"] != "default",
                properties={"vpc_id": "VpcId"}),
    steps=deleted_by("delete_cache_subnet_group", "CacheSubnetGroupName"),
    gone_codes=frozenset({"CacheSubnetGroupNotFoundFault"}),
    retry_codes=frozenset({"CacheSubnetGroupInUse"}),  # a cluster being deleted still uses it
    seed=_seed, missing_id="costcutter-no-such-subnet-group",
)
catalog_cache_subnet_groups, cleanup_cache_subnet_group, cleanup_cache_subnet_groups = engine.functions(
    CACHE_SUBNET_GROUPS)
