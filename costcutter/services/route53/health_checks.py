"""Route 53 health checks: billed monthly, each on its own; deleted once the zones whose records use them are gone."""

import uuid

from costcutter import engine
from costcutter.registry import GLOBAL, Charge, ResourceType, deleted_by, listed


def _seed(session, region, count):
    route53 = session.client("route53", region_name=region)
    return [route53.create_health_check(CallerReference=uuid.uuid4().hex, HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "example.com", "Port": 443, "ResourcePath": "/health",
        "RequestInterval": 30, "FailureThreshold": 3})["HealthCheck"]["Id"] for _ in range(count)]


HEALTH_CHECKS = ResourceType(
    service="route53", name="health_checks", client="route53",
    cost=(Charge("route53.health_check"),),  # of a non-AWS endpoint; an AWS one costs less
    scope=GLOBAL, depends_on=("hosted_zones",),
    doc=__doc__,
    # Those another service made and runs (LinkedService: AWS Cloud Map) are that service's to delete.
    list=listed("list_health_checks", "HealthChecks", "Id", keep=lambda check: "LinkedService" not in check,
                tags=None, properties={"type": "HealthCheckConfig.Type",
                                       "domain_name": "HealthCheckConfig.FullyQualifiedDomainName"}),
    steps=deleted_by("delete_health_check", "HealthCheckId"),
    gone_codes=frozenset({"NoSuchHealthCheck"}),
    seed=_seed, missing_id="01234567-89ab-cdef-0123-456789abcdef",
)
catalog_health_checks, cleanup_health_check, cleanup_health_checks = engine.functions(HEALTH_CHECKS)
