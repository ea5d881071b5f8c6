"""EKS managed node groups: their EC2 instances are the bulk of a cluster's bill; deleted, then waited for.

Deleting a node group terminates its instances and deletes its Auto Scaling group.
Each is described when listed (ListNodegroups gives names only), for its instance types,
size and status.
"""

from costcutter import engine
from costcutter.registry import ResourceType, holding, name_in_arn, pages, record
from costcutter.services.eks.clusters import (GONE_CODES, SEED_ROLE, cluster_names, deleted_member, described,
                                              member_id, seed_members, still_listed)

_PROPERTIES = {"status": "status", "instance_types": "instanceTypes", "capacity_type": "capacityType",
               "desired_size": "scalingConfig.desiredSize", "ami_type": "amiType", "cluster": "clusterName",
               "role_arn": "nodeRole", "subnet_ids": "subnets", "launch_template_id": "launchTemplate.id"}


def _list(target):
    eks = target.client
    for cluster in cluster_names(eks):
        for page in pages(eks, "list_nodegroups", clusterName=cluster):
            for name in page["nodegroups"]:
                group = described(eks.describe_nodegroup, "nodegroup", clusterName=cluster, nodegroupName=name)
                if group and group["status"] != "DELETING":
                    yield record({**group, "id": member_id(cluster, name)}, "id", name="nodegroupName",
                                 created="createdAt", tags="tags", parent="clusterName", properties=_PROPERTIES)


def _still_deleting(target, ids):
    return still_listed(target.client, "list_nodegroups", "nodegroups", ids)


def _seed(session, region, count):
    return seed_members(session, region, count, lambda eks, cluster, name, subnets: eks.create_nodegroup(
        clusterName=cluster, nodegroupName=name, nodeRole=SEED_ROLE, subnets=subnets))


NODE_GROUPS = ResourceType(
    service="eks", name="node_groups", client="eks", doc=__doc__, list=_list,
    steps=(deleted_member("delete_nodegroup", "nodegroupName"),),
    wait=_still_deleting,
    gone_codes=GONE_CODES,
    # A node group being created or updated cannot be deleted until that is over.
    retry_codes=frozenset({"ResourceInUseException"}),
    seed=_seed, missing_id="cc-no-such-cluster/cc-no-such-node-group",
    holds=holding({"eks.clusters": "cluster", "iam.roles": ("role_arn", name_in_arn), "ec2.subnets": "subnet_ids",
                    "ec2.launch_templates": "launch_template_id"}),
)
catalog_node_groups, cleanup_node_group, cleanup_node_groups = engine.functions(NODE_GROUPS)
