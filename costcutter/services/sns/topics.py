"""SNS topics, deleted with all their subscriptions (DeleteTopic removes them).

There is no separate type for subscriptions: a subscription costs nothing by itself
(deliveries are billed to the topic), and every subscription to a topic of the account
goes with its topic. Subscriptions this account holds to other accounts' topics are
theirs to clean.
"""

import uuid

from costcutter import engine
from costcutter.registry import Resource, ResourceType, deleted_by, pages
from costcutter.services.sqs.queues import create_queue


def _list(target):
    for page in pages(target.client, "list_topics"):
        for topic in page["Topics"]:
            yield Resource(id=topic["TopicArn"], name=topic["TopicArn"].rsplit(":", 1)[1], raw=topic)


def _seed(session, region, count):
    client = session.client("sns", region_name=region)
    sqs = session.client("sqs", region_name=region)
    arns = []
    for _ in range(count):
        arn = client.create_topic(Name=f"costcutter-seed-{uuid.uuid4().hex[:12]}")["TopicArn"]
        client.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=create_queue(sqs)[1])
        arns.append(arn)
    return arns


TOPICS = ResourceType(
    service="sns", name="topics", client="sns", doc=__doc__, list=_list,
    steps=deleted_by("delete_topic", "TopicArn"),
    gone_codes=frozenset({"NotFound", "NotFoundException"}),
    seed=_seed, missing_id="arn:aws:sns:us-east-1:123456789012:costcutter-no-such-topic",
)
catalog_topics, cleanup_topic, cleanup_topics = engine.functions(TOPICS)
