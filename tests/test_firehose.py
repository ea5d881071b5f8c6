"""Firehose delivery streams: each is described for its status, and one being deleted is not listed."""

from datetime import datetime, timezone

from costcutter.services.firehose import delivery_streams

REGION = "eu-west-1"


def description(name, status):
    return {"DeliveryStreamDescription": {
        "DeliveryStreamName": name, "DeliveryStreamARN": f"arn:aws:firehose:eu-west-1:123456789012:deliverystream/{name}",
        "DeliveryStreamStatus": status, "DeliveryStreamType": "DirectPut", "VersionId": "1", "Destinations": [],
        "HasMoreDestinations": False, "CreateTimestamp": datetime(2025, 1, 2, tzinfo=timezone.utc)}}


def test_streams_being_deleted_or_gone_meanwhile_are_not_listed(session, stubbed, make_reporter):
    # moto deletes a delivery stream at once, so it never shows one DELETING: the answers are stubbed.
    stubber = stubbed(session, "firehose", REGION)
    stubber.add_response("list_delivery_streams", {"DeliveryStreamNames": ["events", "old", "gone"],
                                                   "HasMoreDeliveryStreams": False})
    stubber.add_response("describe_delivery_stream", description("events", "ACTIVE"), {"DeliveryStreamName": "events"})
    stubber.add_response("describe_delivery_stream", description("old", "DELETING"), {"DeliveryStreamName": "old"})
    stubber.add_client_error("describe_delivery_stream", "ResourceNotFoundException", "not found", 400,
                             expected_params={"DeliveryStreamName": "gone"})

    [listed] = delivery_streams.catalog_delivery_streams(session, REGION, make_reporter(REGION))

    assert (listed.id, listed.created, listed.properties) == (
        "events", "2025-01-02T00:00:00+00:00", {"status": "ACTIVE", "source": "DirectPut"})


def test_every_page_of_names_is_listed(session, stubbed, make_reporter):
    stubber = stubbed(session, "firehose", REGION)
    stubber.add_response("list_delivery_streams", {"DeliveryStreamNames": ["a"], "HasMoreDeliveryStreams": True},
                         {"Limit": 100})
    stubber.add_response("describe_delivery_stream", description("a", "ACTIVE"), {"DeliveryStreamName": "a"})
    stubber.add_response("list_delivery_streams", {"DeliveryStreamNames": ["b"], "HasMoreDeliveryStreams": False},
                         {"Limit": 100, "ExclusiveStartDeliveryStreamName": "a"})
    stubber.add_response("describe_delivery_stream", description("b", "ACTIVE"), {"DeliveryStreamName": "b"})

    listed = delivery_streams.catalog_delivery_streams(session, REGION, make_reporter(REGION))

    assert [r.id for r in listed] == ["a", "b"]
