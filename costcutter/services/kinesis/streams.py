"""Kinesis data streams, deleted with their enhanced fan-out consumers, then waited for (one listing per poll) until AWS has removed them."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, call, pages, record


def _summaries(target):
    for page in pages(target.client, "list_streams"):
        yield from page.get("StreamSummaries", [])


def _list(target):
    for stream in _summaries(target):
        if stream["StreamStatus"] != "DELETING":
            yield record(stream, "StreamName", name="StreamName", created="StreamCreationTimestamp", tags=None,
                         properties={"status": "StreamStatus", "mode": "StreamModeDetails.StreamMode"})


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
    service="kinesis", name="streams", client="kinesis", doc=__doc__, list=_list,
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
