"""EMR clusters still starting, running or waiting: terminated (termination protection lifted where allowed), then waited for."""

import uuid

from costcutter import engine
from costcutter.registry import Protection, ResourceType, Step, batched, call, listed, recoded, still_listed

_ALIVE = ["STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"]
# EMR says ValidationException for a protected cluster, and for an unknown one.
_PROTECTED, _NOT_FOUND = "TerminationProtected", "JobFlowNotFound"


def _remove_termination_protection(target, cluster):
    target.client.set_termination_protection(JobFlowIds=[cluster.id], TerminationProtected=False)


def _seed(session, region, count):
    emr = session.client("emr", region_name=region)
    return [emr.run_job_flow(Name=f"costcutter-seed-{uuid.uuid4().hex[:8]}", ReleaseLabel="emr-7.1.0",
                             JobFlowRole="EMR_EC2_DefaultRole", ServiceRole="EMR_DefaultRole",
                             Instances={"MasterInstanceType": "m5.xlarge", "SlaveInstanceType": "m5.xlarge",
                                        "InstanceCount": 1, "KeepJobFlowAliveWhenNoSteps": True})["JobFlowId"]
            for _ in range(count)]


CLUSTERS = ResourceType(
    service="emr", name="clusters", client="emr", doc=__doc__,
    list=listed("list_clusters", "Clusters", "Id", name="Name", created="Status.Timeline.CreationDateTime", tags=None,
                properties={"state": "Status.State", "normalized_instance_hours": "NormalizedInstanceHours"},
                ClusterStates=_ALIVE),
    steps=(recoded(call("terminate_job_flows", "JobFlowIds", in_list=True), "ValidationException",
                   {"termination protected": _PROTECTED, "does not exist": _NOT_FOUND, "not valid": _NOT_FOUND}),),
    # AWS takes up to 10 clusters a call; a protected or unknown one fails the whole call,
    # and then the engine terminates them one at a time, each with its own outcome.
    batch=batched("terminate_job_flows", "JobFlowIds", size=10),
    # The listing does not show termination protection: the termination's refusal does.
    protection=Protection("remove_deletion_protection",
                          Step("remove_termination_protection", _remove_termination_protection),
                          codes=frozenset({_PROTECTED})),
    wait=still_listed("list_clusters", "Clusters", "Id", ClusterStates=["TERMINATING"]),
    gone_codes=frozenset({_NOT_FOUND}),
    seed=_seed, missing_id="j-0123456789ABC",
)
catalog_clusters, cleanup_cluster, cleanup_clusters = engine.functions(CLUSTERS)
