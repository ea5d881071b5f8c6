"""ElastiCache's quirks. Against moto in process where it can; with botocore's Stubber on
real response shapes where it cannot (moto lists no replication group's clusters, never
finishes a deletion, and has no DeleteCacheSubnetGroup)."""

from datetime import datetime, timezone


from aws_doubles import stubbed, watch
from costcutter.services.elasticache import cache_clusters, cache_subnet_groups, replication_groups

REGION = "eu-west-1"
CREATED = datetime(2025, 1, 2, tzinfo=timezone.utc)


def cluster(name, status="available", group=None):
    item = {"CacheClusterId": name, "CacheNodeType": "cache.t3.micro", "Engine": "redis", "NumCacheNodes": 1,
            "CacheClusterStatus": status, "CacheClusterCreateTime": CREATED}
    return {**item, "ReplicationGroupId": group} if group else item


def subnet_group(name):
    return {"CacheSubnetGroupName": name, "CacheSubnetGroupDescription": name, "VpcId": "vpc-0123456789abcdef0",
            "Subnets": [{"SubnetIdentifier": "subnet-0123456789abcdef0",
                         "SubnetAvailabilityZone": {"Name": f"{REGION}a"}}]}


def test_clusters_of_replication_groups_and_those_being_deleted_are_not_cataloged(session, make_reporter):
    with stubbed(session, "elasticache", REGION) as stub:
        stub.add_response("describe_cache_clusters", {"CacheClusters": [
            cluster("own"), cluster("orders-001", group="orders"), cluster("going", status="deleting")]}, {})
        listed = cache_clusters.catalog_cache_clusters(session, REGION, make_reporter(REGION))
    assert [c.id for c in listed] == ["own"]


def test_deleting_clusters_waits_with_one_describe_per_poll(session, make_reporter):
    with stubbed(session, "elasticache", REGION) as stub:
        stub.add_response("describe_cache_clusters", {"CacheClusters": [cluster("a"), cluster("b")]}, {})
        for name in ("a", "b"):
            stub.add_response("delete_cache_cluster", {"CacheCluster": cluster(name, status="deleting")},
                              {"CacheClusterId": name})
        stub.add_response("describe_cache_clusters", {"CacheClusters": [cluster("b", status="deleting")]}, {})
        stub.add_response("describe_cache_clusters", {"CacheClusters": []}, {})
        outcomes = cache_clusters.cleanup_cache_clusters(session, REGION, make_reporter(REGION, threads=1),
                                                         dry_run=False)
    assert outcomes == {"a": "deleted", "b": "deleted"}


def test_a_replication_group_goes_with_all_its_clusters(session, make_reporter):
    [group] = replication_groups.REPLICATION_GROUPS.seed(session, REGION, 1)
    deletes = watch(session, "elasticache", REGION, "DeleteReplicationGroup")
    reporter = make_reporter(REGION, wait_timeout=1)  # moto never finishes the deletion
    assert replication_groups.cleanup_replication_groups(session, REGION, reporter, dry_run=False) == {group: "deleted"}
    assert deletes == [{"ReplicationGroupId": group, "RetainPrimaryCluster": False}]


# Subnet groups: moto has no DeleteCacheSubnetGroup.


def test_subnet_groups_other_than_default_are_deleted(session, make_reporter):
    reporter = make_reporter(REGION)
    with stubbed(session, "elasticache", REGION) as stub:
        stub.add_response("describe_cache_subnet_groups",
                          {"CacheSubnetGroups": [subnet_group("default"), subnet_group("app")]}, {})
        stub.add_response("delete_cache_subnet_group", {}, {"CacheSubnetGroupName": "app"})
        outcomes = cache_subnet_groups.cleanup_cache_subnet_groups(session, REGION, reporter, dry_run=False)
    assert outcomes == {"app": "deleted"}


def test_a_subnet_group_still_in_use_is_retried(session, make_reporter):
    with stubbed(session, "elasticache", REGION) as stub:
        stub.add_client_error("delete_cache_subnet_group", "CacheSubnetGroupInUse", "in use by cluster app-001")
        stub.add_response("delete_cache_subnet_group", {}, {"CacheSubnetGroupName": "app"})
        outcome = cache_subnet_groups.cleanup_cache_subnet_group(session, REGION, "app", make_reporter(REGION), False)
    assert outcome == "deleted"


def test_a_missing_subnet_group_counts_as_done(session, make_reporter):
    missing = cache_subnet_groups.CACHE_SUBNET_GROUPS.missing_id
    with stubbed(session, "elasticache", REGION) as stub:
        stub.add_client_error("delete_cache_subnet_group", "CacheSubnetGroupNotFoundFault", f"{missing} not found",
                              expected_params={"CacheSubnetGroupName": missing})
        outcome = cache_subnet_groups.cleanup_cache_subnet_group(session, REGION, missing, make_reporter(REGION), False)
    assert outcome == "already_gone"
