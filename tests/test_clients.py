"""Clients of CostCutter's sessions share what does not depend on the session or the region:
the service models (aws._LOADER) and, made from them, one client class per service."""

import boto3
import botocore.loaders

from costcutter import aws


def test_clients_of_a_service_share_one_class_across_sessions_and_regions(aws_mock):
    first = aws.client(aws.make_session(None), "sqs", "us-east-1")
    second = aws.client(aws.make_session(None), "sqs", "eu-west-1")
    assert type(first) is type(second)
    assert type(first) is not type(aws.client(aws.make_session(None), "sns", "us-east-1"))
    second.create_queue(QueueName="shared")
    assert [url.rsplit("/", 1)[-1] for url in second.list_queues()["QueueUrls"]] == ["shared"]
    assert first.meta.region_name == "us-east-1" and second.meta.region_name == "eu-west-1"
    assert "sqs.eu-west-1" in second.meta.endpoint_url


def test_a_shared_class_keeps_what_boto3_adds_to_it(aws_mock):
    s3 = aws.client(aws.make_session(None), "s3", "us-east-1")
    assert type(s3) is type(aws.client(aws.make_session(None), "s3", "eu-west-1"))
    s3.create_bucket(Bucket="shared")
    s3.put_object(Bucket="shared", Key="k", Body=b"v")
    assert callable(s3.upload_file) and callable(s3.generate_presigned_url)
    listed = s3.get_paginator("list_objects_v2").paginate(Bucket="shared").build_full_result()
    assert [item["Key"] for item in listed["Contents"]] == ["k"]


def test_a_session_with_a_loader_of_its_own_makes_its_own_classes(aws_mock):
    ours = aws.client(aws.make_session(None), "sqs", "us-east-1")
    theirs = boto3.Session().client("sqs", region_name="us-east-1")
    assert type(theirs) is not type(ours)
    assert type(theirs) is not type(boto3.Session().client("sqs", region_name="us-east-1"))



def test_after_load_models_a_listing_reads_no_model_file(aws_mock, monkeypatch):
    """What the region server loads before the region processes fork is all their clients
    read: the service's model, its endpoints, and its paginators (read by the first listing)."""
    monkeypatch.setattr(aws, "_LOADER", botocore.loaders.create_loader())
    aws.load_models(["sqs"])

    def refuse(loader, path):
        raise AssertionError(f"read after load_models: {path}")

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", refuse)
    sqs = aws.client(aws.make_session(None), "sqs", "eu-west-1")
    assert sqs.can_paginate("list_queues")
    sqs.create_queue(QueueName="listed")
    [page] = sqs.get_paginator("list_queues").paginate()
    assert [url.rsplit("/", 1)[-1] for url in page["QueueUrls"]] == ["listed"]
