"""EKS's quirks: deletion protection (moto has none, so it is played with botocore's
Stubber on AWS's response shapes), and node groups and Fargate profiles, named
CLUSTER/NAME, waited for with one listing per cluster."""

import datetime

import boto3

from costcutter.services.eks import clusters, fargate_profiles, node_groups

REGION = "eu-west-1"
CREATED = datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)


def stub_protected_cluster(stubbed, session):
    eks = stubbed(session, "eks", REGION)
    eks.add_response("list_clusters", {"clusters": ["prod"]}, {})
    eks.add_response("describe_cluster", {"cluster": {
        "name": "prod", "arn": "arn:aws:eks:eu-west-1:123456789012:cluster/prod", "createdAt": CREATED,
        "version": "1.31", "status": "ACTIVE", "deletionProtection": True, "tags": {"team": "platform"}}},
        {"name": "prod"})
    return eks


def test_a_protected_cluster_is_skipped_without_a_deletion_request(session, stubbed, make_reporter):
    stub_protected_cluster(stubbed, session)  # any other call would be refused by the Stubber
    reporter = make_reporter(REGION)
    assert clusters.cleanup_clusters(session, REGION, reporter, dry_run=False) == {"prod": "skipped"}
    [skipped] = reporter.events("skipped")
    assert "set remove_deletion_protection: true" in skipped["message"]


def test_a_protected_cluster_is_unprotected_deleted_and_waited_for_when_the_settings_allow(session, stubbed,
                                                                                            make_reporter):
    eks = stub_protected_cluster(stubbed, session)
    eks.add_response("update_cluster_config", {"update": {"id": "b5f0ba18", "status": "InProgress",
                                                          "type": "DeletionProtectionUpdate"}},
                     {"name": "prod", "deletionProtection": False})
    eks.add_response("delete_cluster", {"cluster": {"name": "prod", "status": "DELETING"}}, {"name": "prod"})
    eks.add_response("list_clusters", {"clusters": ["prod"]}, {})  # the wait: still deleting,
    eks.add_response("list_clusters", {"clusters": []}, {})        # then gone
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    assert clusters.cleanup_clusters(session, REGION, reporter, dry_run=False) == {"prod": "deleted"}
    assert [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"] == [
        ("step_requested", "disable_deletion_protection"), ("step_done", "disable_deletion_protection"),
        ("delete_requested", None), ("deleted", None)]


def test_node_groups_are_cataloged_with_what_they_cost_and_waited_for_once_per_cluster(session, make_reporter, watch):
    made = [group for _ in range(2) for group in node_groups.NODE_GROUPS.seed(session, REGION, 2)]
    reporter = make_reporter(REGION)
    listed = node_groups.catalog_node_groups(session, REGION, reporter)
    assert sorted(group.id for group in listed) == sorted(made)
    assert all(group.parent == group.id.split("/")[0] and group.properties["instance_types"] for group in listed)
    listings = watch(session, "eks", REGION, "ListNodegroups")
    outcomes = node_groups.cleanup_node_groups(session, REGION, reporter, dry_run=False)
    assert outcomes == dict.fromkeys(made, "deleted")
    assert len(listings) == 2 + 2  # the catalog and one poll, each once per cluster


def test_a_cluster_goes_once_its_node_groups_and_fargate_profiles_are_gone(session, make_reporter):
    [group] = node_groups.NODE_GROUPS.seed(session, REGION, 1)
    cluster = group.split("/")[0]
    boto3.client("eks", region_name=REGION).create_fargate_profile(
        clusterName=cluster, fargateProfileName="pods", podExecutionRoleArn=clusters.SEED_ROLE,
        selectors=[{"namespace": "default"}])
    reporter = make_reporter(REGION)
    assert fargate_profiles.cleanup_fargate_profiles(session, REGION, reporter, dry_run=False) == {
        f"{cluster}/pods": "deleted"}
    assert node_groups.cleanup_node_groups(session, REGION, reporter, dry_run=False) == {group: "deleted"}
    assert clusters.cleanup_clusters(session, REGION, reporter, dry_run=False) == {cluster: "deleted"}
    assert boto3.client("eks", region_name=REGION).list_clusters()["clusters"] == []
