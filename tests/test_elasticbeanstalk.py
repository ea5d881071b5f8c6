"""Elastic Beanstalk's quirks. moto has no TerminateEnvironment, so environments are tested
with botocore's Stubber on real response shapes; applications against moto in process."""

from datetime import datetime, timezone


from aws_doubles import stubbed, watch
from costcutter.services.elasticbeanstalk import applications, environments

REGION = "eu-west-1"
CREATED = datetime(2025, 1, 2, tzinfo=timezone.utc)


def environment(env_id, status="Ready"):
    return {"EnvironmentName": f"web-{env_id}", "EnvironmentId": env_id, "ApplicationName": "shop",
            "SolutionStackName": environments.SEED_STACK, "DateCreated": CREATED, "Status": status, "Health": "Green",
            "Tier": {"Name": "WebServer", "Type": "Standard", "Version": "1.0"}}


def test_environments_are_terminated_with_their_resources_then_waited_for(session, make_reporter):
    reporter = make_reporter(REGION, threads=1)
    with stubbed(session, "elasticbeanstalk", REGION) as stub:
        stub.add_response("describe_environments", {"Environments": [
            environment("e-aaaaaaaaaa"), environment("e-bbbbbbbbbb"), environment("e-cccccccccc", "Terminating")]},
            {"IncludeDeleted": False})
        for env_id in ("e-aaaaaaaaaa", "e-bbbbbbbbbb"):
            stub.add_response("terminate_environment", environment(env_id, "Terminating"),
                              {"EnvironmentId": env_id, "TerminateResources": True})
        asked = {"EnvironmentIds": ["e-aaaaaaaaaa", "e-bbbbbbbbbb"]}
        stub.add_response("describe_environments", {"Environments": [
            environment("e-aaaaaaaaaa", "Terminated"), environment("e-bbbbbbbbbb", "Terminating")]}, asked)
        stub.add_response("describe_environments", {"Environments": [
            environment("e-aaaaaaaaaa", "Terminated"), environment("e-bbbbbbbbbb", "Terminated")]},
            {"EnvironmentIds": ["e-bbbbbbbbbb"]})
        outcomes = environments.cleanup_environments(session, REGION, reporter, dry_run=False)
    assert outcomes == {"e-aaaaaaaaaa": "deleted", "e-bbbbbbbbbb": "deleted"}
    assert [e["resource_id"] for e in reporter.events("cataloged")] == ["e-aaaaaaaaaa", "e-bbbbbbbbbb"]


def test_a_missing_environment_is_gone_and_a_busy_one_is_retried(session, make_reporter):
    with stubbed(session, "elasticbeanstalk", REGION) as stub:
        stub.add_client_error("terminate_environment", "InvalidParameterValue",
                              "No Environment found for EnvironmentId = 'e-0123456789'.")
        assert environments.cleanup_environment(session, REGION, "e-0123456789", make_reporter(REGION),
                                                False) == "already_gone"
        stub.add_client_error("terminate_environment", "InvalidParameterValue",
                              "Environment named web is in an invalid state for this operation. Must be Ready.")
        stub.add_response("terminate_environment", environment("e-aaaaaaaaaa", "Terminating"))
        assert environments.cleanup_environment(session, REGION, "e-aaaaaaaaaa", make_reporter(REGION),
                                                False) == "deleted"


def test_applications_are_deleted_with_their_versions_and_any_environment_left(session, make_reporter):
    [application] = applications.APPLICATIONS.seed(session, REGION, 1)
    deletes = watch(session, "elasticbeanstalk", REGION, "DeleteApplication")
    outcomes = applications.cleanup_applications(session, REGION, make_reporter(REGION), dry_run=False)
    assert outcomes == {application: "deleted"}
    assert deletes == [{"ApplicationName": application, "TerminateEnvByForce": True}]
    assert "environments" in applications.APPLICATIONS.depends_on
