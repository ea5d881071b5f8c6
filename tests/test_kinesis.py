"""Kinesis streams: streams being deleted are not listed, consumers do not block the
deletion, and the wait is one listing per poll for all of them."""

from datetime import datetime, timezone

import boto3
import pytest

from costcutter.services.kinesis import streams

REGION = "eu-west-1"


@pytest.fixture
def reporter(make_reporter):
    return make_reporter(REGION)


def summary(name, status):
    return {"StreamName": name, "StreamARN": f"arn:aws:kinesis:eu-west-1:123456789012:stream/{name}",
            "StreamStatus": status, "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
            "StreamCreationTimestamp": datetime(2025, 1, 2, tzinfo=timezone.utc)}


def test_streams_being_deleted_are_not_listed(session, stubbed, reporter):
    # moto deletes a stream at once, so it never shows one DELETING: the listing is stubbed.
    stubbed(session, "kinesis", REGION).add_response("list_streams", {
        "StreamNames": ["clicks", "old"], "HasMoreStreams": False,
        "StreamSummaries": [summary("clicks", "ACTIVE"), summary("old", "DELETING")]})

    [listed] = streams.catalog_streams(session, REGION, reporter)

    assert (listed.id, listed.properties) == ("clicks", {"status": "ACTIVE", "mode": "ON_DEMAND"})


def test_streams_with_consumers_are_deleted_and_waited_for_with_one_listing_per_poll(session, reporter, watch):
    kinesis = boto3.client("kinesis", region_name=REGION)
    for number in range(3):
        kinesis.create_stream(StreamName=f"clicks-{number}", ShardCount=1)
    arn = kinesis.describe_stream_summary(StreamName="clicks-0")["StreamDescriptionSummary"]["StreamARN"]
    kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="fan-out")
    listings = watch(session, "kinesis", REGION, "ListStreams")

    outcomes = streams.cleanup_streams(session, REGION, reporter, dry_run=False)

    assert outcomes == {f"clicks-{number}": "deleted" for number in range(3)}
    assert kinesis.list_streams()["StreamNames"] == []
    assert len(listings) == 2  # the catalog, then one poll for all three
