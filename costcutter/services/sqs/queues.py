"""SQS queues, deleted with the messages in them, after the Lambda event source mappings that poll them."""

import uuid

from costcutter import engine
from costcutter.registry import Resource, ResourceType, deleted_by, pages


def create_queue(sqs) -> tuple[str, str]:
    """A new queue's (URL, ARN), for the seeds of what sends to one."""
    url = sqs.create_queue(QueueName=f"costcutter-seed-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _list(target):
    # MaxResults makes ListQueues page (and so list more than 1000 queues).
    for page in pages(target.client, "list_queues", MaxResults=1000):
        for url in page.get("QueueUrls", []):
            yield Resource(id=url, name=url.rsplit("/", 1)[1], raw={"QueueUrl": url})


def _seed(session, region, count):
    sqs = session.client("sqs", region_name=region)
    return [create_queue(sqs)[0] for _ in range(count)]


QUEUES = ResourceType(
    service="sqs", name="queues", client="sqs", depends_on=("lambda.event_source_mappings",), doc=__doc__, list=_list,
    steps=deleted_by("delete_queue", "QueueUrl"),
    # The JSON protocol answers QueueDoesNotExist; the query-compatible code is the older name.
    gone_codes=frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"}),
    seed=_seed, missing_id="https://sqs.us-east-1.amazonaws.com/123456789012/costcutter-no-such-queue",
)
catalog_queues, cleanup_queue, cleanup_queues = engine.functions(QUEUES)
