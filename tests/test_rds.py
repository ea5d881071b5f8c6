"""RDS's quirks, against moto in process: defaults and automated snapshots never listed,
final snapshots taken and kept when asked for, a cluster's instances first, protections,
one poll per wait."""

import boto3
import pytest

from aws_doubles import watch
from costcutter.services.rds import (db_cluster_snapshots, db_clusters, db_instances, db_parameter_groups,
                                     db_snapshots, db_subnet_groups)

REGION = "eu-west-1"


@pytest.fixture
def rds(aws_mock):
    return boto3.client("rds", region_name=REGION)


def non_lifecycle(reporter):
    return [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"]


def manual_snapshots(rds):
    return [s["DBSnapshotIdentifier"] for s in rds.describe_db_snapshots(SnapshotType="manual")["DBSnapshots"]]


# What is never listed


def test_default_groups_and_automated_snapshots_are_never_cataloged(session, rds, make_reporter):
    db_instances.create_db_instance(rds)  # moto makes its default.* parameter group
    db_clusters.create_db_cluster(rds)    # and an automated cluster snapshot
    subnets = db_subnet_groups.create_subnets(session, REGION)
    for name in ("default", "default-vpc-0123456789abcdef0", "app"):
        rds.create_db_subnet_group(DBSubnetGroupName=name, DBSubnetGroupDescription=name, SubnetIds=subnets)
    assert any(g["DBParameterGroupName"].startswith("default.")
               for g in rds.describe_db_parameter_groups()["DBParameterGroups"])
    assert rds.describe_db_cluster_snapshots(SnapshotType="automated")["DBClusterSnapshots"]
    reporter = make_reporter(REGION)

    assert db_parameter_groups.catalog_db_parameter_groups(session, REGION, reporter) == []
    assert db_cluster_snapshots.catalog_db_cluster_snapshots(session, REGION, reporter) == []
    assert [g.id for g in db_subnet_groups.catalog_db_subnet_groups(session, REGION, reporter)] == ["app"]


# Final snapshots


def test_without_the_setting_no_final_snapshot_is_taken(session, rds, make_reporter):
    instance = db_instances.create_db_instance(rds)
    deletes = watch(session, "rds", REGION, "DeleteDBInstance")
    reporter = make_reporter(REGION)
    assert db_instances.cleanup_db_instances(session, REGION, reporter, dry_run=False) == {instance: "deleted"}
    assert deletes == [{"DBInstanceIdentifier": instance, "DeleteAutomatedBackups": True, "SkipFinalSnapshot": True}]
    assert manual_snapshots(rds) == []


def test_a_final_snapshot_is_taken_when_asked_for_and_never_swept(session, rds, make_reporter):
    instance = db_instances.create_db_instance(rds)
    deletes = watch(session, "rds", REGION, "DeleteDBInstance")
    reporter = make_reporter(REGION, settings={"rds_final_snapshot": True})
    snapshot = f"costcutter-final-{instance}-{reporter.run_id}"

    assert db_instances.cleanup_db_instances(session, REGION, reporter, dry_run=False) == {instance: "deleted"}

    assert deletes == [{"DBInstanceIdentifier": instance, "DeleteAutomatedBackups": True, "SkipFinalSnapshot": False,
                        "FinalDBSnapshotIdentifier": snapshot}]
    assert [e["message"] for e in reporter.events("deleted")] == [f"final snapshot {snapshot}"]
    assert db_snapshots.cleanup_db_snapshots(session, REGION, make_reporter(REGION), dry_run=False) == {}
    assert manual_snapshots(rds) == [snapshot]


def test_a_clusters_instances_go_first_and_only_the_cluster_takes_a_final_snapshot(session, rds, make_reporter):
    cluster = db_clusters.create_db_cluster(rds)
    member = db_instances.create_db_instance(rds, cluster=cluster)
    instance_deletes = watch(session, "rds", REGION, "DeleteDBInstance")
    cluster_deletes = watch(session, "rds", REGION, "DeleteDBCluster")
    reporter = make_reporter(REGION, settings={"rds_final_snapshot": True})
    assert "rds.db_instances" in db_clusters.DB_CLUSTERS.dependencies

    assert db_instances.cleanup_db_instances(session, REGION, reporter, dry_run=False) == {member: "deleted"}
    assert db_clusters.cleanup_db_clusters(session, REGION, reporter, dry_run=False) == {cluster: "deleted"}

    # AWS refuses a final snapshot of a cluster's instance: the cluster's snapshot has its data.
    assert instance_deletes == [{"DBInstanceIdentifier": member, "DeleteAutomatedBackups": True,
                                 "SkipFinalSnapshot": True}]
    snapshot = f"costcutter-final-{cluster}-{reporter.run_id}"
    assert cluster_deletes[0]["FinalDBSnapshotIdentifier"] == snapshot
    kept = rds.describe_db_cluster_snapshots(SnapshotType="manual")["DBClusterSnapshots"]
    assert [s["DBClusterSnapshotIdentifier"] for s in kept] == [snapshot]
    assert db_cluster_snapshots.catalog_db_cluster_snapshots(session, REGION, make_reporter(REGION)) == []


def test_manual_snapshots_are_deleted(session, rds, make_reporter):
    seeded = db_snapshots.DB_SNAPSHOTS.seed(session, REGION, 2)
    outcomes = db_snapshots.cleanup_db_snapshots(session, REGION, make_reporter(REGION), dry_run=False)
    assert outcomes == {name: "deleted" for name in seeded}
    assert manual_snapshots(rds) == []


# Deletion protection


def test_a_protected_instance_is_skipped_and_the_others_are_deleted(session, rds, make_reporter):
    protected, other = db_instances.create_db_instance(rds), db_instances.create_db_instance(rds)
    rds.modify_db_instance(DBInstanceIdentifier=protected, DeletionProtection=True, ApplyImmediately=True)
    modifies = watch(session, "rds", REGION, "ModifyDBInstance")
    reporter = make_reporter(REGION)
    outcomes = db_instances.cleanup_db_instances(session, REGION, reporter, dry_run=False)
    assert outcomes == {protected: "skipped", other: "deleted"}
    assert "set remove_deletion_protection: true" in reporter.events("skipped")[0]["message"]
    assert modifies == []
    assert [i["DBInstanceIdentifier"] for i in rds.describe_db_instances()["DBInstances"]] == [protected]


def test_a_protected_cluster_is_unprotected_then_deleted_when_the_settings_allow(session, rds, make_reporter):
    cluster = db_clusters.create_db_cluster(rds)
    rds.modify_db_cluster(DBClusterIdentifier=cluster, DeletionProtection=True, ApplyImmediately=True)
    modifies = watch(session, "rds", REGION, "ModifyDBCluster")
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    assert db_clusters.cleanup_db_clusters(session, REGION, reporter, dry_run=False) == {cluster: "deleted"}
    assert modifies == [{"DBClusterIdentifier": cluster, "DeletionProtection": False, "ApplyImmediately": True}]
    assert non_lifecycle(reporter) == [
        ("step_requested", "remove_deletion_protection"), ("step_done", "remove_deletion_protection"),
        ("delete_requested", None), ("deleted", None)]
    assert rds.describe_db_clusters()["DBClusters"] == []


# Waiting


def test_deleting_many_instances_waits_with_one_describe_per_poll(session, rds, make_reporter):
    seeded = db_instances.DB_INSTANCES.seed(session, REGION, 5)
    describes = watch(session, "rds", REGION, "DescribeDBInstances")
    db_instances.cleanup_db_instances(session, REGION, make_reporter(REGION), dry_run=False)
    assert len(describes) == 2  # the listing, then one poll for all five
    assert describes[1]["Filters"][0]["Name"] == "db-instance-id"
    assert sorted(describes[1]["Filters"][0]["Values"]) == sorted(seeded)
