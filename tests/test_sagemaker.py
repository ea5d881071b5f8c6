"""SageMaker's quirks: a notebook stopped and waited for before its deletion (moto in
process; botocore's Stubber for the states moto skips), and a ValidationException that
means "missing" told from one that means "not now"."""

import boto3

from aws_doubles import stubbed, watch
from costcutter.registry import Resource
from costcutter.services.sagemaker import notebook_instances

REGION = "eu-west-1"
NOTEBOOK_ARN = f"arn:aws:sagemaker:{REGION}:123456789012:notebook-instance/lab"


def non_lifecycle(reporter):
    return [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"]


def test_an_in_service_notebook_is_stopped_then_deleted(session, make_reporter):
    [notebook] = notebook_instances.NOTEBOOK_INSTANCES.seed(session, REGION, 1)
    stops = watch(session, "sagemaker", REGION, "StopNotebookInstance")
    reporter = make_reporter(REGION)
    assert notebook_instances.cleanup_notebook_instances(session, REGION, reporter, dry_run=False) == {
        notebook: "deleted"}
    assert stops == [{"NotebookInstanceName": notebook}]
    assert non_lifecycle(reporter) == [("step_requested", "stop"), ("step_done", "stop: Stopped"),
                                       ("delete_requested", None), ("deleted", None)]


def test_a_stopped_notebook_is_deleted_without_a_stop_step(session, make_reporter):
    [notebook] = notebook_instances.NOTEBOOK_INSTANCES.seed(session, REGION, 1)
    boto3.client("sagemaker", region_name=REGION).stop_notebook_instance(NotebookInstanceName=notebook)
    reporter = make_reporter(REGION)
    notebook_instances.cleanup_notebook_instances(session, REGION, reporter, dry_run=False)
    assert non_lifecycle(reporter) == [("delete_requested", None), ("deleted", None)]


def test_notebooks_waiting_to_stop_share_one_listing_per_poll(session, make_reporter):
    notebooks = notebook_instances.NOTEBOOK_INSTANCES.seed(session, REGION, 3)
    describes = watch(session, "sagemaker", REGION, "DescribeNotebookInstance")
    listings = watch(session, "sagemaker", REGION, "ListNotebookInstances")
    reporter = make_reporter(REGION, threads=4)
    assert notebook_instances.cleanup_notebook_instances(session, REGION, reporter, dry_run=False) == {
        notebook: "deleted" for notebook in notebooks}
    # The catalog, one poll (moto stops at once) for the three, and the wait for the deletions.
    assert (len(describes), len(listings)) == (0, 3)


def listing(status):
    return {"NotebookInstances": [{"NotebookInstanceName": "lab", "NotebookInstanceArn": NOTEBOOK_ARN,
                                   "NotebookInstanceStatus": status, "CreationTime": 0, "LastModifiedTime": 0}]}


def test_a_pending_notebook_is_stopped_once_in_service_and_deleted_once_stopped(session, make_reporter):
    pending = Resource(id="lab", raw={"NotebookInstanceStatus": "Pending"})
    with stubbed(session, "sagemaker", REGION) as stub:
        stub.add_response("list_notebook_instances", listing("InService"), {})
        stub.add_response("stop_notebook_instance", {}, {"NotebookInstanceName": "lab"})
        for status in ("Stopping", "Stopped"):
            stub.add_response("list_notebook_instances", listing(status), {})
        stub.add_response("delete_notebook_instance", {}, {"NotebookInstanceName": "lab"})
        outcome = notebook_instances.cleanup_notebook_instance(session, REGION, pending, make_reporter(REGION), False)
    assert outcome == "deleted"


def test_a_notebook_listed_in_service_but_stopping_since_is_waited_for_and_deleted(session, make_reporter):
    listed = Resource(id="lab", raw={"NotebookInstanceStatus": "InService"})
    with stubbed(session, "sagemaker", REGION) as stub:
        stub.add_client_error("stop_notebook_instance", "ValidationException",
                              f"Status (Stopping) not in ([InService]). Unable to transition to (Stopping) "
                              f"for Notebook Instance ({NOTEBOOK_ARN})")
        stub.add_response("list_notebook_instances", listing("Stopped"), {})
        stub.add_response("delete_notebook_instance", {}, {"NotebookInstanceName": "lab"})
        outcome = notebook_instances.cleanup_notebook_instance(session, REGION, listed, make_reporter(REGION), False)
    assert outcome == "deleted"


def test_a_notebook_that_never_stops_fails_after_the_wait_timeout(session, make_reporter):
    reporter = make_reporter(REGION, wait_timeout=1)
    with stubbed(session, "sagemaker", REGION) as stub:
        stub.add_response("list_notebook_instances", listing("Updating"), {})
        outcome = notebook_instances.cleanup_notebook_instance(session, REGION, "lab", reporter, False)
    assert outcome == "failed"
    assert "still Updating" in reporter.events("failed")[0]["message"]


def test_a_refusal_for_the_state_is_a_failure_and_a_missing_notebook_is_gone(session, make_reporter):
    stopped = Resource(id="lab", raw={"NotebookInstanceStatus": "Stopped"})
    reporter = make_reporter(REGION)
    with stubbed(session, "sagemaker", REGION) as stub:
        stub.add_client_error("delete_notebook_instance", "ValidationException",
                              f"Status (InService) not in ([Stopped, Failed]). Unable to transition to (Deleting) "
                              f"for Notebook Instance ({NOTEBOOK_ARN})")
        assert notebook_instances.cleanup_notebook_instance(session, REGION, stopped, reporter, False) == "failed"
        stub.add_client_error("delete_notebook_instance", "ValidationException", "RecordNotFound")
        assert notebook_instances.cleanup_notebook_instance(session, REGION, stopped, make_reporter(REGION),
                                                            False) == "already_gone"
    assert reporter.events("failed")[0]["error_code"] == "ValidationException"


def test_a_notebook_no_longer_listed_while_waiting_to_stop_is_gone(session, make_reporter):
    with stubbed(session, "sagemaker", REGION) as stub:
        stub.add_response("list_notebook_instances", {"NotebookInstances": []}, {})
        outcome = notebook_instances.cleanup_notebook_instance(session, REGION, "lab", make_reporter(REGION), False)
    assert outcome == "already_gone"
