"""Elastic Beanstalk applications with their versions, once their environments are gone: deleted."""

from costcutter import engine
from costcutter.registry import ResourceType, call, listed, recoded
from costcutter.services.elasticbeanstalk.environments import create_application

_NOT_FOUND = "ApplicationNotFound"  # Beanstalk says InvalidParameterValue for this and for much else


def _seed(session, region, count):
    beanstalk = session.client("elasticbeanstalk", region_name=region)
    return [create_application(beanstalk) for _ in range(count)]


APPLICATIONS = ResourceType(
    service="elasticbeanstalk", name="applications", client="elasticbeanstalk", depends_on=("environments",),
    doc=__doc__,
    list=listed("describe_applications", "Applications", "ApplicationName", name="ApplicationName",
                created="DateCreated", tags=None),
    # Its environments were terminated and waited for already; TerminateEnvByForce ends any
    # that came up since, so the application never fails on them.
    steps=(recoded(call("delete_application", "ApplicationName", TerminateEnvByForce=True), "InvalidParameterValue",
                   {"not found": _NOT_FOUND, "No Application": _NOT_FOUND}),),
    gone_codes=frozenset({_NOT_FOUND}),
    retry_codes=frozenset({"OperationInProgressFailure"}),  # an environment is still being terminated
    seed=_seed, missing_id="costcutter-no-such-application",
)
catalog_applications, cleanup_application, cleanup_applications = engine.functions(APPLICATIONS)
