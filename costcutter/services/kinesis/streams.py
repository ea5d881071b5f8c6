"""Kinesis data streams, deleted with their enhanced fan-out consumers, then waited for (one listing per poll) until AWS has removed them."""

import dataclasses
import uuid

from costcutter import aws, engine
from costcutter.registry import Charge, ResourceType, call, pages, record


def _summaries(target):
    for page in pages(target.client, "list_streams"):
        yield from page.get("StreamSummaries", [])


def _list(target):
    for stream in _summaries(target):
        if stream["StreamStatus"] != "DELETING":
            listed = record(stream, "StreamName", name="StreamName", created="StreamCreationTimestamp", tags=None,
                            properties={"status": "StreamStatus", "mode": "StreamModeDetails.StreamMode"})
            yield dataclasses.replace(listed, properties={**listed.properties, **_shards(target, stream)})


def _shards(target, stream) -> dict:
    """A provisioned stream is billed per shard: how many it has open (asked per stream: the listing does not say)."""
    if stream.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND":
        return {}
    with aws.ignoring("ResourceNotFoundException"):
        summary = target.client.describe_stream_summary(StreamName=stream["StreamName"])["StreamDescriptionSummary"]
        return {"shards": summary["OpenShardCount"]}
    return {}


def _billed_shards(stream):
    return 0 if stream.get("mode") == "ON_DEMAND" else stream.get("shards")


def _still_deleting(target, ids):
    wanted = set(ids)
    return [stream["StreamName"] for stream in _summaries(target) if stream["StreamName"] in wanted]


def _seed(session, region, count):
    client = session.client("kinesis", region_name=region)
    names = []
    for _ in range(count):
        name = f"costcutter-seed-{uuid.uuid4().hex[:12]}"
        client.create_stream(StreamName=name, ShardCount=1)
        names.append(name)
    return names


STREAMS = ResourceType(
    service="kinesis", name="streams", client="kinesis",
    cost=(Charge("kinesis.shard", _billed_shards),
          Charge("kinesis.on_demand_stream", lambda stream: 1 if stream.get("mode") == "ON_DEMAND" else 0)),
    doc=__doc__, list=_list,
    depends_on=("lambda.event_source_mappings", "firehose.delivery_streams"),
    # Without EnforceConsumerDeletion a stream with registered consumers refuses.
    steps=(call("delete_stream", "StreamName", EnforceConsumerDeletion=True),),
    wait=_still_deleting,
    gone_codes=frozenset({"ResourceNotFoundException"}),
    # A stream still being created or resharded refuses until that is done.
    retry_codes=frozenset({"ResourceInUseException"}),
    seed=_seed, missing_id="costcutter-no-such-stream",
)
catalog_streams, cleanup_stream, cleanup_streams = engine.functions(STREAMS)
