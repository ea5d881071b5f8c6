"""EKS Fargate profiles: free themselves, but they hold their cluster; deleted one at a time per cluster, then waited for.

A cluster lets only one of its Fargate profiles be deleting at a time: the others are
refused (ResourceInUseException) and retried until it is gone. Deleting a profile stops
the pods it runs.
"""

from costcutter import engine
from costcutter.registry import Resource, ResourceType, pages
from costcutter.services.eks.clusters import (GONE_CODES, SEED_ROLE, cluster_names, deleted_member, member_id,
                                              seed_members, still_listed)


def _list(target):
    # ListFargateProfiles gives names only, and a profile has nothing that prices it.
    for cluster in cluster_names(target.client):
        for page in pages(target.client, "list_fargate_profiles", clusterName=cluster):
            for name in page["fargateProfileNames"]:
                yield Resource(id=member_id(cluster, name), name=name, parent=cluster)


def _still_deleting(target, ids):
    return still_listed(target.client, "list_fargate_profiles", "fargateProfileNames", ids)


def _seed(session, region, count):
    return seed_members(session, region, count, lambda eks, cluster, name, subnets: eks.create_fargate_profile(
        clusterName=cluster, fargateProfileName=name, podExecutionRoleArn=SEED_ROLE,
        selectors=[{"namespace": name}], subnets=subnets))


FARGATE_PROFILES = ResourceType(
    service="eks", name="fargate_profiles", client="eks", doc=__doc__, list=_list,
    steps=(deleted_member("delete_fargate_profile", "fargateProfileName"),),
    wait=_still_deleting,
    gone_codes=GONE_CODES,
    retry_codes=frozenset({"ResourceInUseException"}),
    seed=_seed, missing_id="cc-no-such-cluster/cc-no-such-fargate-profile",
)
catalog_fargate_profiles, cleanup_fargate_profile, cleanup_fargate_profiles = engine.functions(FARGATE_PROFILES)
