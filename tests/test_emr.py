"""EMR's quirks, against moto in process: termination protection, seen only in the
termination's refusal, skipped or lifted; one poll per wait; an unknown cluster (botocore's
Stubber: moto fails on one) counts as gone."""

import boto3
import pytest

from aws_doubles import stubbed, watch
from costcutter.services.emr import clusters

REGION = "eu-west-1"


@pytest.fixture
def emr(aws_mock):
    return boto3.client("emr", region_name=REGION)


def alive(emr):
    return [c["Id"] for c in emr.list_clusters(ClusterStates=["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"])
            ["Clusters"]]


def protected_cluster(session, emr):
    [cluster] = clusters.CLUSTERS.seed(session, REGION, 1)
    emr.set_termination_protection(JobFlowIds=[cluster], TerminationProtected=True)
    return cluster


def test_a_protected_cluster_is_skipped_and_the_others_are_terminated(session, emr, make_reporter):
    protected = protected_cluster(session, emr)
    [other] = clusters.CLUSTERS.seed(session, REGION, 1)
    reporter = make_reporter(REGION)
    assert clusters.cleanup_clusters(session, REGION, reporter, dry_run=False) == {protected: "skipped",
                                                                                   other: "deleted"}
    assert not reporter.events("failed")
    assert alive(emr) == [protected]


def test_a_protected_cluster_is_unprotected_then_terminated_when_the_settings_allow(session, emr, make_reporter):
    protected = protected_cluster(session, emr)
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    assert clusters.cleanup_clusters(session, REGION, reporter, dry_run=False) == {protected: "deleted"}
    assert [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"] == [
        ("delete_requested", None), ("step_requested", "remove_termination_protection"),
        ("step_done", "remove_termination_protection"), ("delete_requested", None), ("deleted", None)]
    assert alive(emr) == []


def test_terminating_waits_with_one_listing_per_poll_and_terminated_clusters_are_not_listed(session, emr,
                                                                                            make_reporter):
    clusters.CLUSTERS.seed(session, REGION, 3)
    listings = watch(session, "emr", REGION, "ListClusters")
    clusters.cleanup_clusters(session, REGION, make_reporter(REGION), dry_run=False)
    assert [call["ClusterStates"] for call in listings] == [
        ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"], ["TERMINATING"]]
    assert clusters.catalog_clusters(session, REGION, make_reporter(REGION)) == []


def test_an_unknown_cluster_counts_as_gone(session, make_reporter):
    with stubbed(session, "emr", REGION) as stub:
        stub.add_client_error("terminate_job_flows", "ValidationException", "Specified job flow ID does not exist.",
                              expected_params={"JobFlowIds": ["j-0123456789ABC"]})
        outcome = clusters.cleanup_cluster(session, REGION, "j-0123456789ABC", make_reporter(REGION), False)
    assert outcome == "already_gone"


def test_clusters_are_terminated_ten_to_a_call(session, emr, make_reporter):
    seeded = clusters.CLUSTERS.seed(session, REGION, 12)
    terminations = watch(session, "emr", REGION, "TerminateJobFlows")
    outcomes = clusters.cleanup_clusters(session, REGION, make_reporter(REGION), dry_run=False)
    assert outcomes == {cluster: "deleted" for cluster in seeded}
    assert sorted(len(call["JobFlowIds"]) for call in terminations) == [2, 10]
    assert alive(emr) == []
