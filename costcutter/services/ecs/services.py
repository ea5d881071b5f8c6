"""ECS services: scaled to zero, deleted (forced), then waited for until INACTIVE, so their clusters can go.

A service's tasks cost money (Fargate by the second, EC2 by the instances they keep
busy). Scaling to zero first stops new tasks from being placed while the deletion drains
the old ones; DAEMON services have no desired count and go straight to the deletion.
"""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, Step, holding, name_in_arn, record
from costcutter.services.ecs.clusters import cluster_param, create_cluster, described_by_arn, members

_SERVICES_AT_ONCE = 10  # DescribeServices takes up to 10
_PROPERTIES = {"status": "status", "desired_count": "desiredCount", "running_count": "runningCount",
               "launch_type": "launchType", "scheduling_strategy": "schedulingStrategy",
               "cluster_arn": "clusterArn", "task_definition_arn": "taskDefinition", "role_arn": "roleArn",
               "subnet_ids": "networkConfiguration.awsvpcConfiguration.subnets",
               "security_group_ids": "networkConfiguration.awsvpcConfiguration.securityGroups"}


def _family(task_definition_arn: str) -> str:
    """A task definition's family (the id of ecs.task_definitions) from the ARN of one revision."""
    return name_in_arn(task_definition_arn).split(":")[0]


def _list(target):
    for service in members(target.client, "list_services", "serviceArns", "describe_services", "services", "services",
                           _SERVICES_AT_ONCE, include=["TAGS"]):
        # DRAINING services are being deleted already.
        if service["status"] == "ACTIVE":
            yield record(service, "serviceArn", name="serviceName", created="createdAt", tags="tags",
                         parent="clusterArn", properties=_PROPERTIES)


def _runs_tasks(service) -> bool:
    return service.raw.get("schedulingStrategy") != "DAEMON" and service.raw.get("desiredCount", 0) > 0


def _scale_to_zero(target, service):
    target.client.update_service(cluster=cluster_param(service), service=service.id, desiredCount=0)
    return f"desired count {service.raw['desiredCount']} -> 0"


def _delete(target, service):
    target.client.delete_service(cluster=cluster_param(service), service=service.id, force=True)


def _still_draining(target, ids):
    for service in described_by_arn(target.client, "describe_services", "services", "services", _SERVICES_AT_ONCE,
                                    ids):
        if service["status"] != "INACTIVE":
            yield service["serviceArn"]


def register_task_definition(ecs, family: str) -> str:
    return ecs.register_task_definition(
        family=family,
        containerDefinitions=[{"name": "app", "image": "public.ecr.aws/nginx/nginx:latest", "memory": 512}],
    )["taskDefinition"]["taskDefinitionArn"]


def _seed(session, region, count):
    ecs = session.client("ecs", region_name=region)
    cluster = create_cluster(session, region)
    task_definition = register_task_definition(ecs, f"cc-seed-{uuid.uuid4().hex[:12]}")
    return [ecs.create_service(cluster=cluster, serviceName=f"cc-seed-{uuid.uuid4().hex[:12]}",
                               taskDefinition=task_definition, desiredCount=2)["service"]["serviceArn"]
            for _ in range(count)]


SERVICES = ResourceType(
    service="ecs", name="services", client="ecs", doc=__doc__, list=_list,
    steps=(Step("scale_to_zero", _scale_to_zero, when=_runs_tasks), Step("delete", _delete)),
    wait=_still_draining,
    # A service that is no longer ACTIVE is being deleted (or was) already.
    gone_codes=frozenset({"ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException"}),
    seed=_seed,
    missing_id="arn:aws:ecs:eu-west-1:123456789012:service/cc-no-such-cluster/cc-no-such-service",
    holds=holding({"ecs.clusters": "cluster_arn", "ecs.task_definitions": ("task_definition_arn", _family),
                    "iam.roles": ("role_arn", name_in_arn), "ec2.security_groups": "security_group_ids",
                    "ec2.subnets": "subnet_ids"}),
)
catalog_services, cleanup_service, cleanup_services = engine.functions(SERVICES)
