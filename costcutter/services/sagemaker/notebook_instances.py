"""SageMaker notebook instances: stopped, waited for until stopped (AWS deletes no other), then deleted and waited for."""

import time

from botocore.exceptions import ClientError

from costcutter import aws, engine, polling
from costcutter.registry import Charge, ResourceType, Step, listed, pages, seed_names, still_listed, unless
from costcutter.services.sagemaker import NOT_FOUND, SEED_ROLE, missing_is_gone, sagemaker_call

_DELETABLE = {"Stopped", "Failed"}


def _listed_statuses(target):
    return {notebook["NotebookInstanceName"]: notebook["NotebookInstanceStatus"]
            for page in pages(target.client, "list_notebook_instances") for notebook in page["NotebookInstances"]}


# The region's notebooks that wait to stop share one listing per poll.
_STATUSES = polling.SharedStatuses(_listed_statuses)


def _stop(target, notebook):
    """Stop it as soon as it can be (a pending or updating one first comes in service), and
    wait until it has stopped, backing off; its status is the listing's until then, and
    then one listing per poll for all the region's notebooks that wait (never a describe each)."""
    reporter, delay = target.reporter, engine.FIRST_POLL_SECONDS
    deadline = time.monotonic() + reporter.wait_timeout
    status, since = notebook.raw.get("NotebookInstanceStatus"), time.monotonic()
    if status is None:  # given by name alone, not listed
        status, since = _status(target, notebook.id, since)
    while status not in _DELETABLE:
        if status == "InService":
            _stop_unless_changed(target, notebook.id)
            since = time.monotonic()  # only a listing that starts after the stop shows it
        if time.monotonic() + delay > deadline or reporter.stopping:
            raise TimeoutError(f"still {status} after waiting {reporter.wait_timeout}s for it to stop")
        time.sleep(delay)
        delay = min(delay * 1.5, engine.LONGEST_POLL_SECONDS)
        status, since = _status(target, notebook.id, since)
    return status


def _stop_unless_changed(target, name):
    """StopNotebookInstance. Its status is the listing's, which may be old: a refusal for the
    state ("Status (Stopping) not in ([InService])") means it is stopping or stopped already,
    which the next listing shows."""
    try:
        target.client.stop_notebook_instance(NotebookInstanceName=name)
    except ClientError as error:
        if aws.error_code(error) != "ValidationException" or "not in (" not in str(error):
            raise


def _status(target, name, since):
    status, listed_at = _STATUSES.status(target, name, after=since)
    if status is None:
        raise aws.client_error(NOT_FOUND, f"notebook instance {name} is no longer listed", "ListNotebookInstances")
    return status, listed_at


def _seed(session, region, count):
    sagemaker = session.client("sagemaker", region_name=region)
    return seed_names(count, lambda name: sagemaker.create_notebook_instance(
        NotebookInstanceName=name, InstanceType="ml.t3.medium", RoleArn=SEED_ROLE))


NOTEBOOK_INSTANCES = ResourceType(
    service="sagemaker", name="notebook_instances", client="sagemaker",
    cost=(Charge("sagemaker.notebook:{instance_type}", unless("status", "Stopped", "Stopping", "Failed", "Deleting")),),
    doc=__doc__,
    list=listed("list_notebook_instances", "NotebookInstances", "NotebookInstanceName", name="NotebookInstanceName",
                created="CreationTime", tags=None,
                keep=lambda notebook: notebook["NotebookInstanceStatus"] != "Deleting",
                properties={"instance_type": "InstanceType", "status": "NotebookInstanceStatus"}),
    steps=(
        missing_is_gone(Step("stop", _stop,
                             when=lambda notebook: notebook.raw.get("NotebookInstanceStatus") not in _DELETABLE)),
        sagemaker_call("delete_notebook_instance", "NotebookInstanceName"),
    ),
    wait=still_listed("list_notebook_instances", "NotebookInstances", "NotebookInstanceName"),
    gone_codes=frozenset({NOT_FOUND}),
    seed=_seed, missing_id="costcutter-no-such-notebook",
)
catalog_notebook_instances, cleanup_notebook_instance, cleanup_notebook_instances = engine.functions(
    NOTEBOOK_INSTANCES)
