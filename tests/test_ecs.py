"""ECS's quirks, against moto in process: a service's teardown in order and its wait, what
is never listed (the default cluster, a service's own tasks), and task definition families
deregistered, then deleted, also when a run stopped between the two."""

import boto3
import pytest

from costcutter import events
from costcutter.services.ecs import clusters, services, task_definitions, tasks
from costcutter.services.ecs.services import register_task_definition

REGION = "eu-west-1"


@pytest.fixture
def ecs(aws_mock):
    return boto3.client("ecs", region_name=REGION)


@pytest.fixture
def reporter(make_reporter):
    return make_reporter(REGION)


def create_service(ecs, cluster, name="web", **options):
    definition = register_task_definition(ecs, f"{name}-task")
    return ecs.create_service(cluster=cluster, serviceName=name, taskDefinition=definition, **options)["service"]


def steps_of(reporter):
    return [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"]


def test_a_service_is_scaled_to_zero_then_deleted_by_force_then_waited_for(session, ecs, reporter, watch):
    service = create_service(ecs, clusters.create_cluster(session, REGION), desiredCount=3)["serviceArn"]
    updates, deletions = (watch(session, "ecs", REGION, op) for op in ("UpdateService", "DeleteService"))
    descriptions = watch(session, "ecs", REGION, "DescribeServices")
    assert services.cleanup_services(session, REGION, reporter, dry_run=False) == {service: "deleted"}
    assert [u["desiredCount"] for u in updates] == [0] and [d["force"] for d in deletions] == [True]
    assert steps_of(reporter) == [("step_requested", "scale_to_zero"), ("step_done", "scale_to_zero: desired count 3 -> 0"),
                                  ("delete_requested", None), ("deleted", None)]
    assert len(descriptions) == 2  # the catalog, then one poll
    [described] = ecs.describe_services(cluster=service.split("/")[1], services=[service])["services"]
    assert described["status"] == "INACTIVE"


def test_waiting_for_services_asks_once_per_cluster(session, ecs, reporter, watch):
    made = [create_service(ecs, clusters.create_cluster(session, REGION), name=f"web-{n}", desiredCount=1)["serviceArn"]
            for n in range(2)] + [create_service(ecs, clusters.create_cluster(session, REGION), desiredCount=0)["serviceArn"]]
    descriptions = watch(session, "ecs", REGION, "DescribeServices")
    assert services.cleanup_services(session, REGION, reporter, dry_run=False) == dict.fromkeys(made, "deleted")
    assert len(descriptions) == 3 + 3  # the catalog and one poll, each once per cluster


def test_a_service_with_nothing_to_scale_down_goes_straight_to_its_deletion(session, ecs, reporter):
    create_service(ecs, clusters.create_cluster(session, REGION), desiredCount=0)
    services.cleanup_services(session, REGION, reporter, dry_run=False)
    assert steps_of(reporter) == [("delete_requested", None), ("deleted", None)]


def test_a_services_own_tasks_are_left_to_it_and_standalone_ones_are_stopped(session, ecs, reporter, watch):
    cluster = clusters.create_cluster(session, REGION)
    definition = register_task_definition(ecs, "batch")
    [standalone] = ecs.run_task(cluster=cluster, taskDefinition=definition, launchType="FARGATE")["tasks"]
    ecs.run_task(cluster=cluster, taskDefinition=definition, launchType="FARGATE", group="service:web")
    stops = watch(session, "ecs", REGION, "StopTask")
    assert tasks.cleanup_tasks(session, REGION, reporter, dry_run=False) == {standalone["taskArn"]: "deleted"}
    assert [s["task"] for s in stops] == [standalone["taskArn"]]


def test_the_default_cluster_is_never_listed(session, ecs, reporter):
    ecs.create_cluster(clusterName="default")
    own = clusters.create_cluster(session, REGION)
    assert [r.id for r in clusters.catalog_clusters(session, REGION, reporter)] == [own]


def revisions(ecs, family, status):
    return ecs.list_task_definitions(familyPrefix=family, status=status)["taskDefinitionArns"]


def test_every_revision_of_a_family_is_deregistered_then_deleted(session, ecs, reporter, watch):
    arns = [register_task_definition(ecs, "api") for _ in range(3)]
    ecs.deregister_task_definition(taskDefinition=arns[0])  # deregistered long ago, never deleted
    deletions = watch(session, "ecs", REGION, "DeleteTaskDefinitions")
    listings = watch(session, "ecs", REGION, "ListTaskDefinitions")
    assert task_definitions.cleanup_task_definitions(session, REGION, reporter, dry_run=False) == {"api": "deleted"}
    assert sorted(arn for d in deletions for arn in d["taskDefinitions"]) == sorted(arns)
    # The catalog's two listings (ACTIVE, INACTIVE) are all: the teardown uses what they found.
    assert [listing["status"] for listing in listings] == ["ACTIVE", "INACTIVE"]
    assert revisions(ecs, "api", "ACTIVE") == revisions(ecs, "api", "INACTIVE") == []
    assert steps_of(reporter)[:2] == [("step_requested", "deregister"), ("step_done", "deregister: deregistered 2 revisions")]


def test_a_family_left_deregistered_by_a_stopped_run_is_still_listed_and_deleted(session, ecs, reporter):
    for arn in [register_task_definition(ecs, "api") for _ in range(2)]:
        ecs.deregister_task_definition(taskDefinition=arn)  # what the deregister step did before the stop
    [family] = task_definitions.catalog_task_definitions(session, REGION, reporter)
    assert (family.id, family.properties) == ("api", {"active_revisions": 0, "inactive_revisions": 2})
    assert task_definitions.cleanup_task_definitions(session, REGION, reporter, dry_run=False) == {"api": "deleted"}
    assert revisions(ecs, "api", "INACTIVE") == []


def test_revisions_that_delete_task_definitions_refuses_are_reported_failed(session, stubbed, make_reporter):
    # DeleteTaskDefinitions answers refusals in its response, not as an error.
    arn = "arn:aws:ecs:eu-west-1:123456789012:task-definition/api:1"
    ecs = stubbed(session, "ecs", REGION)
    ecs.add_response("list_task_definitions", {"taskDefinitionArns": []}, {"status": "ACTIVE"})
    ecs.add_response("list_task_definitions", {"taskDefinitionArns": [arn]}, {"status": "INACTIVE"})
    ecs.add_response("delete_task_definitions", {"taskDefinitions": [], "failures": [
        {"arn": arn, "reason": "The specified task definition is still in use."}]}, {"taskDefinitions": [arn]})
    reporter = make_reporter(REGION)
    assert task_definitions.cleanup_task_definitions(session, REGION, reporter, dry_run=False) == {"api": "failed"}
    [failed] = reporter.events(events.FAILED)
    assert failed["error_code"] == "DeleteTaskDefinitionsFailed"
    assert failed["message"] == f"1 revisions not deleted, e.g. {arn}: The specified task definition is still in use."
