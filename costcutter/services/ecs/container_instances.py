"""ECS container instances: deregistered (forced) from their clusters, so the clusters can be deleted.

Deregistering does not stop the EC2 instance: ec2.instances terminates it (or its Auto
Scaling group, autoscaling's groups), and an instance terminated first is deregistered by
ECS on its own. Deregistered instances are INACTIVE and no longer listed.
"""

import json

from costcutter import engine
from costcutter.registry import ResourceType, Step, record
from costcutter.services.ec2.instances import INSTANCES
from costcutter.services.ecs.clusters import GONE_CODES, cluster_param, create_cluster, members

_INSTANCES_AT_ONCE = 100  # DescribeContainerInstances takes up to 100
_PROPERTIES = {"ec2_instance_id": "ec2InstanceId", "status": "status", "running_tasks": "runningTasksCount",
               "capacity_provider": "capacityProviderName"}


def _list(target):
    for instance in members(target.client, "list_container_instances", "containerInstanceArns",
                            "describe_container_instances", "containerInstances", "containerInstances",
                            _INSTANCES_AT_ONCE, include=["TAGS"]):
        if instance["status"] not in ("INACTIVE", "DEREGISTERING"):
            yield record(instance, "containerInstanceArn", created="registeredAt", tags="tags",
                         parent="clusterArn", properties=_PROPERTIES)


def _deregister(target, instance):
    target.client.deregister_container_instance(cluster=cluster_param(instance), containerInstance=instance.id,
                                                force=True)


def _seed(session, region, count):
    ecs = session.client("ecs", region_name=region)
    cluster = create_cluster(session, region)
    return [ecs.register_container_instance(cluster=cluster, instanceIdentityDocument=json.dumps(
        {"instanceId": instance, "region": region}))["containerInstance"]["containerInstanceArn"]
        for instance in INSTANCES.seed(session, region, count)]


CONTAINER_INSTANCES = ResourceType(
    service="ecs", name="container_instances", client="ecs", depends_on=("services",), doc=__doc__, list=_list,
    steps=(Step("deregister", _deregister),),
    gone_codes=GONE_CODES,
    seed=_seed,
    missing_id="arn:aws:ecs:eu-west-1:123456789012:container-instance/cc-no-such-cluster/0123456789abcdef0123456789abcdef",
)
catalog_container_instances, cleanup_container_instance, cleanup_container_instances = engine.functions(
    CONTAINER_INSTANCES)
