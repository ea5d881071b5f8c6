"""Elastic Beanstalk environments: terminated with the resources Beanstalk made for them, then waited for."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, call, listed, recoded, still_listed

_GONE_STATES = ("Terminating", "Terminated")
# Beanstalk says InvalidParameterValue for an unknown environment and for a busy one.
_NOT_FOUND, _BUSY = "EnvironmentNotFound", "EnvironmentBusy"
SEED_STACK = "64bit Amazon Linux 2023 v4.3.0 running Python 3.11"


def create_application(beanstalk) -> str:
    name = f"costcutter-seed-{uuid.uuid4().hex[:8]}"
    beanstalk.create_application(ApplicationName=name)
    return name


def _seed(session, region, count):
    beanstalk = session.client("elasticbeanstalk", region_name=region)
    application = create_application(beanstalk)
    return [beanstalk.create_environment(ApplicationName=application, EnvironmentName=f"seed-{uuid.uuid4().hex[:8]}",
                                         SolutionStackName=SEED_STACK)["EnvironmentId"] for _ in range(count)]


# moto has no TerminateEnvironment: the teardown is tested with botocore's Stubber on real
# response shapes (tests/test_elasticbeanstalk.py), and the sandbox does not seed these.
ENVIRONMENTS = ResourceType(
    service="elasticbeanstalk", name="environments", client="elasticbeanstalk", doc=__doc__,
    list=listed("describe_environments", "Environments", "EnvironmentId", name="EnvironmentName",
                created="DateCreated", tags=None, parent="ApplicationName",
                keep=lambda environment: environment["Status"] not in _GONE_STATES,
                properties={"status": "Status", "health": "Health", "tier": "Tier.Name",
                            "platform": "SolutionStackName"},
                IncludeDeleted=False),
    steps=(recoded(call("terminate_environment", "EnvironmentId", TerminateResources=True), "InvalidParameterValue",
                   {"No Environment found": _NOT_FOUND, "invalid state": _BUSY}),),
    wait=still_listed("describe_environments", "Environments", "EnvironmentId",
                      keep=lambda environment: environment["Status"] != "Terminated",
                      asking=lambda ids: {"EnvironmentIds": ids}),
    gone_codes=frozenset({_NOT_FOUND}),
    retry_codes=frozenset({_BUSY}),  # still launching or updating
    seed=_seed, missing_id="e-0123456789",
)
catalog_environments, cleanup_environment, cleanup_environments = engine.functions(ENVIRONMENTS)
