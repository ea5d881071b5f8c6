"""CloudFront distributions: disabled, then deleted once CloudFront has deployed that (minutes, up to about 15).

The teardown is two recorded steps, each reading the distribution afresh (and its ETag,
which every change must quote), so a resume after a stop anywhere picks up where it was:

1. disable: when the distribution is enabled, switch it off (a repeat finds it off
   already and does nothing).
2. delete: only a distribution that is disabled and deployed can go; until then the step
   answers DistributionNotDisabled, a conflict the engine retries with backoff, up to the
   run's wait_timeout, while the other distributions go on in their own threads. Past
   that it fails, saying a later run will finish it: the disable is recorded done, so
   that run goes straight to the deletion.

A type-level `wait` (one poll for many) would fit better, but the engine polls it only
after the deletions, and here the wait comes between two steps.
"""

import uuid

from botocore.exceptions import ClientError

from costcutter import engine
from costcutter.registry import GLOBAL, ResourceType, Step, listed

_NOT_DISABLED = "DistributionNotDisabled"


def _disable(target, distribution):
    cloudfront = target.client
    answer = cloudfront.get_distribution_config(Id=distribution.id)
    config = answer["DistributionConfig"]
    if not config["Enabled"]:
        return "disabled already"
    cloudfront.update_distribution(Id=distribution.id, IfMatch=answer["ETag"],
                                   DistributionConfig={**config, "Enabled": False})
    return "disabled; CloudFront deploys that before it can be deleted"


def _delete(target, distribution):
    cloudfront = target.client
    answer = cloudfront.get_distribution(Id=distribution.id)
    enabled, status = answer["Distribution"]["DistributionConfig"]["Enabled"], answer["Distribution"]["Status"]
    if enabled or status != "Deployed":
        # What DeleteDistribution itself answers then, with a message that says what to expect.
        state = "still enabled" if enabled else f"disabled, CloudFront still deploying that (status {status})"
        raise ClientError({"Error": {"Code": _NOT_DISABLED, "Message": (
            f"{state}; it can be deleted once that is deployed (up to about 15 minutes): "
            "a later run will finish it")}}, "DeleteDistribution")
    cloudfront.delete_distribution(Id=distribution.id, IfMatch=answer["ETag"])


def create_distribution(cloudfront) -> str:
    origin = "costcutter-origin"
    config = {
        "CallerReference": uuid.uuid4().hex, "Comment": "seeded by costcutter", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": origin, "DomainName": "costcutter-seed.s3.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": origin, "ViewerProtocolPolicy": "allow-all",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"},
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def _seed(session, region, count):
    cloudfront = session.client("cloudfront", region_name=region)
    return [create_distribution(cloudfront) for _ in range(count)]


DISTRIBUTIONS = ResourceType(
    service="cloudfront", name="distributions", client="cloudfront", scope=GLOBAL, doc=__doc__,
    # ListDistributions returns neither tags nor when a distribution was made.
    list=listed("list_distributions", "DistributionList.Items", "Id", name="DomainName", tags=None,
                properties={"enabled": "Enabled", "status": "Status", "price_class": "PriceClass",
                            "comment": "Comment"}),
    steps=(
        Step("disable", _disable, when=lambda distribution: distribution.raw.get("Enabled", True)),
        Step("delete_distribution", _delete),
    ),
    gone_codes=frozenset({"NoSuchDistribution"}),
    # PreconditionFailed: the distribution changed between reading its ETag and the call;
    # the retry reads it again.
    retry_codes=frozenset({_NOT_DISABLED, "PreconditionFailed"}),
    seed=_seed, missing_id="E0123456789ABC",
)
catalog_distributions, cleanup_distribution, cleanup_distributions = engine.functions(DISTRIBUTIONS)
