"""SNS topics: their subscriptions go with them, so they need no type of their own."""

import boto3

from costcutter.services.sns import topics
from costcutter.services.sqs.queues import create_queue

REGION = "eu-west-1"


def test_a_topics_subscriptions_go_with_it(aws_mock, make_reporter):
    sns, session = boto3.client("sns", region_name=REGION), boto3.Session()
    arn = sns.create_topic(Name="alerts")["TopicArn"]
    for _ in range(2):
        sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=create_queue(boto3.client("sqs", region_name=REGION))[1])
    assert len(sns.list_subscriptions()["Subscriptions"]) == 2
    reporter = make_reporter(REGION)

    assert [r.name for r in topics.catalog_topics(session, REGION, reporter)] == ["alerts"]
    assert topics.cleanup_topics(session, REGION, reporter, dry_run=False) == {arn: "deleted"}

    assert sns.list_subscriptions()["Subscriptions"] == []
