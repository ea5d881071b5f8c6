"""Data Firehose delivery streams, deleted even where Firehose cannot retire its grant on a KMS key (AllowForceDelete).

ListDeliveryStreams gives names only, so each stream is described (one call each) for
its status, source and creation time: one already being deleted is not listed again.
"""

import uuid

from costcutter import aws, engine
from costcutter.registry import ResourceType, call, record
from costcutter.services.awslambda.functions import seed_role

_GONE = "ResourceNotFoundException"
_PROPERTIES = {"status": "DeliveryStreamStatus", "source": "DeliveryStreamType",
               "source_stream": "Source.KinesisStreamSourceDescription.KinesisStreamARN"}


def _names(client):
    """Every delivery stream's name; the listing pages by the last name, without a paginator."""
    params = {"Limit": 100}
    while True:
        page = client.list_delivery_streams(**params)
        yield from page["DeliveryStreamNames"]
        if not page.get("HasMoreDeliveryStreams") or not page["DeliveryStreamNames"]:
            return
        params["ExclusiveStartDeliveryStreamName"] = page["DeliveryStreamNames"][-1]


def _list(target):
    for name in _names(target.client):
        stream = None
        with aws.ignoring(_GONE):  # deleted between the listing and the description
            stream = target.client.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        if stream and stream["DeliveryStreamStatus"] != "DELETING":
            yield record(stream, "DeliveryStreamName", name="DeliveryStreamName", created="CreateTimestamp",
                         tags=None, properties=_PROPERTIES)


def _seed(session, region, count):
    client = session.client("firehose", region_name=region)
    role = seed_role(session)
    names = []
    for _ in range(count):
        name = f"costcutter-seed-{uuid.uuid4().hex[:12]}"
        client.create_delivery_stream(DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                                      ExtendedS3DestinationConfiguration={
                                          "RoleARN": role, "BucketARN": f"arn:aws:s3:::{name}"})
        names.append(name)
    return names


DELIVERY_STREAMS = ResourceType(
    service="firehose", name="delivery_streams", client="firehose", doc=__doc__, list=_list,
    steps=(call("delete_delivery_stream", "DeliveryStreamName", AllowForceDelete=True),),
    gone_codes=frozenset({_GONE}),
    # A stream still being created refuses until it is active.
    retry_codes=frozenset({"ResourceInUseException"}),
    seed=_seed, missing_id="costcutter-no-such-delivery-stream",
)
catalog_delivery_streams, cleanup_delivery_stream, cleanup_delivery_streams = engine.functions(DELIVERY_STREAMS)
