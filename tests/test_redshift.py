"""Redshift's quirks, against moto in process: final snapshots only when asked for, and
kept; automated snapshots never listed."""

import boto3
import pytest

from aws_doubles import watch
from costcutter.services.redshift import clusters, snapshots

REGION = "eu-west-1"


@pytest.fixture
def redshift(aws_mock):
    return boto3.client("redshift", region_name=REGION)


def manual_snapshots(redshift):
    return [s["SnapshotIdentifier"] for s in redshift.describe_cluster_snapshots()["Snapshots"]
            if s["SnapshotType"] == "manual"]


def test_without_the_setting_no_final_snapshot_is_taken(session, redshift, make_reporter):
    cluster = clusters.create_cluster(redshift)
    deletes = watch(session, "redshift", REGION, "DeleteCluster")
    assert clusters.cleanup_clusters(session, REGION, make_reporter(REGION), dry_run=False) == {cluster: "deleted"}
    assert deletes == [{"ClusterIdentifier": cluster, "SkipFinalClusterSnapshot": True}]
    assert manual_snapshots(redshift) == []


def test_a_final_snapshot_is_taken_when_asked_for_and_never_swept(session, redshift, make_reporter):
    cluster = clusters.create_cluster(redshift)
    deletes = watch(session, "redshift", REGION, "DeleteCluster")
    reporter = make_reporter(REGION, settings={"rds_final_snapshot": True})
    snapshot = f"costcutter-final-{cluster}-{reporter.run_id}"

    assert clusters.cleanup_clusters(session, REGION, reporter, dry_run=False) == {cluster: "deleted"}

    assert deletes == [{"ClusterIdentifier": cluster, "SkipFinalClusterSnapshot": False,
                        "FinalClusterSnapshotIdentifier": snapshot}]
    assert snapshots.cleanup_snapshots(session, REGION, make_reporter(REGION), dry_run=False) == {}
    assert manual_snapshots(redshift) == [snapshot]


def test_automated_snapshots_are_never_cataloged(session, redshift, make_reporter):
    clusters.create_cluster(redshift)  # moto makes an automated snapshot of it
    assert [s for s in redshift.describe_cluster_snapshots()["Snapshots"] if s["SnapshotType"] == "automated"]
    assert snapshots.catalog_snapshots(session, REGION, make_reporter(REGION)) == []
