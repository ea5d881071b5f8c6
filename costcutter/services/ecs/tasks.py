"""Standalone ECS tasks (run by RunTask, not by a service): stopped, then waited for until STOPPED.

A Fargate task is billed by the second for as long as it runs, and a cluster with running
tasks cannot be deleted. A service's tasks are left to ecs.services, which drains them.
"""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, Step, record
from costcutter.services.ecs.clusters import GONE_CODES, cluster_param, create_cluster, described_by_arn, members
from costcutter.services.ecs.services import register_task_definition

_TASKS_AT_ONCE = 100  # DescribeTasks takes up to 100
_PROPERTIES = {"launch_type": "launchType", "cpu": "cpu", "memory": "memory", "last_status": "lastStatus",
               "task_definition": "taskDefinitionArn", "group": "group", "started_by": "startedBy"}


def _list(target):
    for task in members(target.client, "list_tasks", "taskArns", "describe_tasks", "tasks", "tasks", _TASKS_AT_ONCE,
                        list_params={"desiredStatus": "RUNNING"}, include=["TAGS"]):
        if task.get("desiredStatus") == "RUNNING" and not task.get("group", "").startswith("service:"):
            yield record(task, "taskArn", created="createdAt", tags="tags", parent="clusterArn",
                         properties=_PROPERTIES)


def _stop(target, task):
    target.client.stop_task(cluster=cluster_param(task), task=task.id, reason="Stopped by CostCutter")


def _still_running(target, ids):
    for task in described_by_arn(target.client, "describe_tasks", "tasks", "tasks", _TASKS_AT_ONCE, ids):
        if task.get("lastStatus") != "STOPPED":
            yield task["taskArn"]


def _seed(session, region, count):
    ecs = session.client("ecs", region_name=region)
    tasks = ecs.run_task(cluster=create_cluster(session, region), count=count, launchType="FARGATE",
                         taskDefinition=register_task_definition(ecs, f"cc-seed-{uuid.uuid4().hex[:12]}"))
    return [task["taskArn"] for task in tasks["tasks"]]


TASKS = ResourceType(
    service="ecs", name="tasks", client="ecs", depends_on=("services",), doc=__doc__, list=_list,
    # Stopping a task that has stopped already succeeds.
    steps=(Step("stop", _stop),),
    wait=_still_running,
    gone_codes=GONE_CODES,
    seed=_seed,
    missing_id="arn:aws:ecs:eu-west-1:123456789012:task/cc-no-such-cluster/0123456789abcdef0123456789abcdef",
)
catalog_tasks, cleanup_task, cleanup_tasks = engine.functions(TASKS)
