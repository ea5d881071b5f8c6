"""Lambda's quirks, against moto in process (and botocore's Stubber where moto cannot
show AWS's answer): what each type must get right beyond the conformance test."""

import boto3
import pytest

from costcutter.services.awslambda import event_source_mappings, functions, layers
from costcutter.services.awslambda.functions import create_function, handler_zip, seed_role
from costcutter.services.sqs.queues import create_queue

REGION = "eu-west-1"


@pytest.fixture
def client(aws_mock):
    return boto3.client("lambda", region_name=REGION)


@pytest.fixture
def reporter(make_reporter):
    return make_reporter(REGION)


def test_deleting_a_function_deletes_its_versions_and_aliases(session, client, reporter):
    name = create_function(client, seed_role(session))
    client.publish_version(FunctionName=name)
    assert [r.id for r in functions.catalog_functions(session, REGION, reporter)] == [name]  # one, not per version

    assert functions.cleanup_functions(session, REGION, reporter, dry_run=False) == {name: "deleted"}

    assert client.list_versions_by_function(FunctionName=name)["Versions"] == []
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_function(FunctionName=name, Qualifier="2")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_aliases(FunctionName=name)


def publish(client, layer, versions):
    for _ in range(versions):
        client.publish_layer_version(LayerName=layer, Content={"ZipFile": handler_zip()})


def test_a_layer_is_one_resource_and_its_teardown_deletes_every_version(session, client, reporter):
    publish(client, "shared-libs", 3)
    [layer] = layers.catalog_layers(session, REGION, reporter)
    assert (layer.id, layer.properties["latest_version"]) == ("shared-libs", 3)

    assert layers.cleanup_layers(session, REGION, reporter, dry_run=False) == {"shared-libs": "deleted"}

    assert client.list_layer_versions(LayerName="shared-libs")["LayerVersions"] == []
    [event] = reporter.events("deleted")
    assert event["message"] == "deleted versions 1, 2, 3"


def test_a_layer_without_versions_is_already_gone(session, reporter):
    # ListLayerVersions answers an unknown layer with an empty list, not an error.
    outcome = layers.cleanup_layer(session, REGION, "never-published", reporter, False)
    assert outcome == "already_gone"
    assert not reporter.events("failed")


def test_a_resumed_layer_deletion_deletes_only_the_versions_left(session, client, reporter, watch):
    publish(client, "half-done", 3)
    client.delete_layer_version(LayerName="half-done", VersionNumber=1)  # deleted before the run stopped
    deletions = watch(session, "lambda", REGION, "DeleteLayerVersion")

    assert layers.cleanup_layer(session, REGION, "half-done", reporter, False) == "deleted"

    assert sorted(call["VersionNumber"] for call in deletions) == [2, 3]


def test_mappings_being_deleted_are_not_listed(session, stubbed, reporter):
    stubber = stubbed(session, "lambda", REGION)
    mapping = {"UUID": "11111111-2222-3333-4444-555555555555", "State": "Enabled",
               "EventSourceArn": "arn:aws:sqs:eu-west-1:123456789012:jobs",
               "FunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:worker", "BatchSize": 10}
    going = {**mapping, "UUID": "66666666-7777-8888-9999-000000000000", "State": "Deleting"}
    stubber.add_response("list_event_source_mappings", {"EventSourceMappings": [mapping, going]})

    [listed] = event_source_mappings.catalog_event_source_mappings(session, REGION, reporter)

    assert (listed.id, listed.properties["state"]) == (mapping["UUID"], "Enabled")


def test_mappings_are_waited_for_with_one_listing_per_poll(session, client, reporter, watch):
    function = create_function(client, seed_role(session))
    sqs = boto3.client("sqs", region_name=REGION)
    for _ in range(3):
        client.create_event_source_mapping(EventSourceArn=create_queue(sqs)[1], FunctionName=function)
    listings = watch(session, "lambda", REGION, "ListEventSourceMappings")

    outcomes = event_source_mappings.cleanup_event_source_mappings(session, REGION, reporter, dry_run=False)

    assert list(outcomes.values()) == ["deleted"] * 3
    assert len(listings) == 2  # the catalog, then one poll for all three
