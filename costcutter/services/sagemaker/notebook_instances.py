"""SageMaker notebook instances: stopped, waited for until stopped (AWS deletes no other), then deleted and waited for."""

import time
from costcutter import engine
from costcutter.registry import Charge, ResourceType, Step, listed, seed_names, still_listed, unless
from costcutter.services.sagemaker import NOT_FOUND, SEED_ROLE, missing_is_gone, sagemaker_call

_DELETABLE = {"Stopped", "Failed"}


def _stop(target, notebook):
    """Stop it as soon as it can be (a pending or updating one first comes in service), and
    wait until it has stopped: one describe of this notebook per poll, backing off."""
    reporter, delay = target.reporter, engine.FIRST_POLL_SECONDS
    deadline = time.monotonic() + reporter.wait_timeout
    while (status := _status(target, notebook.id)) not in _DELETABLE:
        if status == "InService":
            target.client.stop_notebook_instance(NotebookInstanceName=notebook.id)
        if time.monotonic() + delay > deadline or reporter.stopping:
            raise TimeoutError(f"still {status} after waiting {reporter.wait_timeout}s for it to stop")
        time.sleep(delay)
        delay = min(delay * 1.5, engine.LONGEST_POLL_SECONDS)
    return status


def _status(target, name):
    return target.client.describe_notebook_instance(NotebookInstanceName=name)["NotebookInstanceStatus"]


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
