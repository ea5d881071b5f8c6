"""EKS clusters: $0.10 an hour for the control plane alone; deleted once their node groups and Fargate profiles are gone, then waited for.

Each cluster is described when listed (ListClusters gives names only), for its status,
version, tags and deletion protection. A cluster with deletion protection is refused
(InvalidRequestException); it is lifted first where remove_deletion_protection allows,
otherwise the cluster is skipped.
"""

import uuid

from botocore.exceptions import ClientError

from costcutter import aws, engine
from costcutter.registry import Charge, Protection, ResourceType, Step, call, holding, name_in_arn, pages, record
from costcutter.services.elbv2.load_balancers import default_subnets

SEED_ROLE = "arn:aws:iam::123456789012:role/costcutter-seed-eks"
GONE_CODES = frozenset({"ResourceNotFoundException"})


def cluster_names(eks) -> list[str]:
    return [name for page in pages(eks, "list_clusters") for name in page["clusters"]]


def member_id(cluster: str, name: str) -> str:
    """A node group's or Fargate profile's id: `CLUSTER/NAME` (neither name may hold a slash)."""
    return f"{cluster}/{name}"


def described(describe, items_key: str, **params) -> dict | None:
    """What a Describe call answers of something just listed, or None if it went since."""
    try:
        return describe(**params)[items_key]
    except ClientError as error:
        if aws.error_code(error) in GONE_CODES:
            return None
        raise


def still_listed(eks, operation: str, items_key: str, ids):
    """The `CLUSTER/NAME` ids a cluster still lists (DELETING ones included): one listing per
    cluster, for all of its ids at once."""
    by_cluster: dict[str, set] = {}
    for member in ids:
        by_cluster.setdefault(member.split("/", 1)[0], set()).add(member)
    for cluster, members in by_cluster.items():
        try:
            listed = {member_id(cluster, name) for page in pages(eks, operation, clusterName=cluster)
                      for name in page[items_key]}
        except ClientError as error:
            if aws.error_code(error) in GONE_CODES:
                continue  # the cluster is gone, and all of it with it
            raise
        yield from members & listed


def deleted_member(operation: str, name_param: str) -> Step:
    """The deletion of a node group or Fargate profile, named by its `CLUSTER/NAME` id."""
    def delete(target, member):
        cluster, name = member.id.split("/", 1)
        getattr(target.client, operation)(clusterName=cluster, **{name_param: name})
    delete.__name__ = operation
    return Step("delete", delete)


def seed_members(session, region: str, count: int, create) -> list[str]:
    """`count` node groups or Fargate profiles in a new cluster: `create(eks, cluster, name,
    subnets)` makes each."""
    eks = session.client("eks", region_name=region)
    cluster, subnets = create_cluster(session, region), default_subnets(session, region)
    names = [f"cc-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for name in names:
        create(eks, cluster, name, subnets)
    return [member_id(cluster, name) for name in names]


def _list(target):
    for name in cluster_names(target.client):
        cluster = described(target.client.describe_cluster, "cluster", name=name)
        if cluster and cluster["status"] != "DELETING":
            yield record(cluster, "name", name="name", created="createdAt", tags="tags", properties={
                "status": "status", "version": "version", "platform_version": "platformVersion",
                "deletion_protection": "deletionProtection", "role_arn": "roleArn",
                "subnet_ids": "resourcesVpcConfig.subnetIds", "vpc_id": "resourcesVpcConfig.vpcId",
                "security_group_ids": "resourcesVpcConfig.securityGroupIds"})


def _disable_deletion_protection(target, cluster):
    target.client.update_cluster_config(name=cluster.id, deletionProtection=False)


def _still_deleting(target, ids):
    waiting = set(ids)
    yield from (name for name in cluster_names(target.client) if name in waiting)


def create_cluster(session, region: str) -> str:
    eks = session.client("eks", region_name=region)
    return eks.create_cluster(name=f"cc-seed-{uuid.uuid4().hex[:12]}", roleArn=SEED_ROLE,
                              resourcesVpcConfig={"subnetIds": default_subnets(session, region)})["cluster"]["name"]


def _seed(session, region, count):
    return [create_cluster(session, region) for _ in range(count)]


CLUSTERS = ResourceType(
    service="eks", name="clusters", client="eks",
    cost=(Charge("eks.cluster"),),  # the control plane; its nodes are EC2 instances or Fargate
    depends_on=("node_groups", "fargate_profiles"), doc=__doc__,
    list=_list,
    steps=(call("delete_cluster", "name"),),
    # moto has no deletion protection: tests/test_eks.py plays it with botocore's Stubber.
    protection=Protection("remove_deletion_protection",
                          Step("disable_deletion_protection", _disable_deletion_protection),
                          is_on=lambda cluster: bool(cluster.raw.get("deletionProtection"))),
    wait=_still_deleting,
    gone_codes=GONE_CODES,
    # A node group or Fargate profile still going, or the update that lifted the protection.
    retry_codes=frozenset({"ResourceInUseException"}),
    seed=_seed, missing_id="cc-no-such-cluster",
    holds=holding({"iam.roles": ("role_arn", name_in_arn), "ec2.security_groups": "security_group_ids",
                    "ec2.subnets": "subnet_ids", "ec2.vpcs": "vpc_id"}),
)
catalog_clusters, cleanup_cluster, cleanup_clusters = engine.functions(CLUSTERS)
