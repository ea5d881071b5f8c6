"""The S3 buckets handler against moto in process: emptying, deleting, regions, failures."""

import itertools
import time

import boto3
import pytest

from costcutter import aws
from costcutter.services.s3 import buckets


def make_bucket(region, name, versioned=False):
    s3 = boto3.client("s3", region_name=region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **location)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def put_objects(s3, bucket, keys, versions=1):
    for _ in range(versions):
        for key in keys:
            s3.put_object(Bucket=bucket, Key=key, Body=b"costs money")


def bucket_names():
    return sorted(b["Name"] for b in boto3.client("s3", region_name="us-east-1").list_buckets()["Buckets"])


def version_count(s3, bucket):
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket)
    return sum(len(p.get("Versions", [])) + len(p.get("DeleteMarkers", [])) for p in pages)


def recorded(reporter, kind):
    """(resource_id, message) of each event of this kind."""
    return [(e["resource_id"], e["message"]) for e in reporter.events(kind)]


def handler_client(session, region):
    """The client the handler will use: aws.client shares one per (session, service, region)."""
    return aws.client(session, "s3", region)


def count_calls(s3, operation):
    calls = []
    s3.meta.events.register(f"before-call.s3.{operation}", lambda **_: calls.append(1))
    return calls


def count_answers(s3, operation):
    """Calls that got an answer (in process, a call moto failed raised before it got one)."""
    answers = []
    s3.meta.events.register(f"after-call.s3.{operation}", lambda **_: answers.append(1))
    return answers


def cleanup_expecting_deleted(session, reporter, bucket):
    """Clean us-east-1, whose one bucket must end deleted; returns what its emptying step said."""
    outcomes = buckets.cleanup_buckets(session, "us-east-1", reporter, dry_run=False)
    assert outcomes == {bucket: "deleted"}
    assert bucket_names() == []
    assert recorded(reporter, "deleted") == [(bucket, None)]
    [(_, message)] = recorded(reporter, "step_done")
    return message.removeprefix("empty: ")


def test_dry_run_records_would_delete_and_changes_nothing(aws_mock, make_reporter):
    s3 = make_bucket("us-east-1", "keep-me")
    put_objects(s3, "keep-me", ["a.txt", "b.txt"])
    reporter = make_reporter("us-east-1")

    outcomes = buckets.cleanup_buckets(boto3.Session(), "us-east-1", reporter, dry_run=True)

    assert outcomes == {"keep-me": "would_delete"}
    assert recorded(reporter, "would_delete") == [("keep-me", None)]
    assert recorded(reporter, "delete_requested") == []
    assert bucket_names() == ["keep-me"]
    assert version_count(s3, "keep-me") == 2


def test_versioned_bucket_with_markers_and_upload_is_emptied_and_deleted(aws_mock, make_reporter):
    s3 = make_bucket("us-east-1", "versioned", versioned=True)
    put_objects(s3, "versioned", ["a.txt", "b.txt"], versions=3)  # 6 versions
    s3.delete_object(Bucket="versioned", Key="a.txt")  # 1 delete marker
    s3.create_multipart_upload(Bucket="versioned", Key="unfinished.bin")

    message = cleanup_expecting_deleted(boto3.Session(), make_reporter("us-east-1"), "versioned")

    assert message == "removed 7 object versions and delete markers, aborted 1 uploads"


def test_bucket_with_more_versions_than_one_delete_call_is_emptied(aws_mock, make_reporter):
    s3 = make_bucket("us-east-1", "big", versioned=True)
    put_objects(s3, "big", [f"data/{n:04}.txt" for n in range(500)], versions=5)
    assert version_count(s3, "big") == 2500
    session = boto3.Session()
    delete_calls = count_calls(handler_client(session, "us-east-1"), "DeleteObjects")

    message = cleanup_expecting_deleted(session, make_reporter("us-east-1"), "big")

    assert message == "removed 2500 object versions and delete markers, aborted 0 uploads"
    assert len(delete_calls) == 3  # 1000 + 1000 + 500


def test_bucket_of_many_pages_with_delete_markers_is_emptied_listing_each_page_once(
        aws_mock, make_reporter, monkeypatch):
    monkeypatch.setattr(buckets, "LIST_PAGE_SIZE", 100)  # as many pages as 1000s would be, sooner
    s3 = make_bucket("us-east-1", "pages", versioned=True)
    keys = [f"data/{n:04}.txt" for n in range(300)]
    put_objects(s3, "pages", keys, versions=2)
    for key in keys[::6]:
        s3.delete_object(Bucket="pages", Key=key)  # 50 delete markers
    assert version_count(s3, "pages") == 650  # 7 pages: more than one window of parallel batches
    session = boto3.Session()
    s3_client = handler_client(session, "us-east-1")
    asked, answered = count_calls(s3_client, "ListObjectVersions"), count_answers(s3_client, "ListObjectVersions")

    message = cleanup_expecting_deleted(session, make_reporter("us-east-1"), "pages")

    assert message == "removed 650 object versions and delete markers, aborted 0 uploads"
    # Each page once, following the markers. moto in process fails a listing when a key is
    # deleted while it lists: that listing is asked again once the deletions are done.
    assert len(answered) == 7
    assert len(asked) - len(answered) <= 1


def test_listing_goes_on_while_batches_are_deleted_and_the_bucket_ends_empty(aws_mock, make_reporter, monkeypatch):
    monkeypatch.setattr(buckets, "LIST_PAGE_SIZE", 100)
    s3 = make_bucket("us-east-1", "overlap", versioned=True)
    keys = [f"data/{n:04}.txt" for n in range(1000)]
    put_objects(s3, "overlap", keys, versions=3)
    for key in keys[::10]:
        s3.delete_object(Bucket="overlap", Key=key)  # 100 delete markers: 3100 entries, 31 pages
    session = boto3.Session()
    s3_client = handler_client(session, "us-east-1")
    deleting, listings_while_deleting = [], []

    def slow_deletion(**_):
        deleting.append(1)
        time.sleep(0.05)  # a round trip's worth, so that the next page is asked for meanwhile
        deleting.pop()

    s3_client.meta.events.register("before-call.s3.DeleteObjects", slow_deletion)
    s3_client.meta.events.register("before-call.s3.ListObjectVersions",
                                   lambda **_: listings_while_deleting.append(bool(deleting)))

    message = cleanup_expecting_deleted(session, make_reporter("us-east-1"), "overlap")

    # Every entry removed by the emptying itself (DeleteBucket did not find any left), though
    # each page's marker names a version deleted soon after, and moto's listing fails (in
    # process) when a key is deleted while it lists.
    assert message == "removed 3100 object versions and delete markers, aborted 0 uploads"
    assert any(listings_while_deleting)


def test_a_bucket_of_many_pages_written_to_while_it_is_emptied_ends_deleted(aws_mock, make_reporter, monkeypatch):
    monkeypatch.setattr(buckets, "LIST_PAGE_SIZE", 100)
    s3 = make_bucket("us-east-1", "written", versioned=True)
    put_objects(s3, "written", [f"m/{n:04}.txt" for n in range(300)], versions=2)
    session = boto3.Session()
    deletions = itertools.count()

    def write_on_both_sides_of_the_listing(**_):
        n = next(deletions)
        if n < 3:  # behind the listing, and ahead of it
            for key in (f"a/late-{n}.txt", f"z/late-{n}.txt"):
                s3.put_object(Bucket="written", Key=key, Body=b"costs money")

    handler_client(session, "us-east-1").meta.events.register(
        "before-call.s3.DeleteObjects", write_on_both_sides_of_the_listing)
    reporter = make_reporter("us-east-1")

    outcomes = buckets.cleanup_buckets(session, "us-east-1", reporter, dry_run=False)

    assert outcomes == {"written": "deleted"} and bucket_names() == []
    # Written behind the listing: left for DeleteBucket to find, and removed by emptying again.
    [(_, emptied)] = recorded(reporter, "step_done")
    [(_, emptied_again)] = recorded(reporter, "deleted")
    assert removed_count(emptied) + removed_count(emptied_again or "removed 0") == 606


def removed_count(message):
    return int(message.split("removed ")[1].split()[0])


def test_versions_written_while_the_bucket_is_emptied_are_deleted_too(aws_mock, make_reporter):
    s3 = make_bucket("us-east-1", "busy", versioned=True)
    put_objects(s3, "busy", [f"data/{n:04}.txt" for n in range(200)])
    session = boto3.Session()
    deletions = itertools.count()

    def write_behind_the_listing(**_):
        if next(deletions) == 0:  # the first deletion: the listing has passed "a..." already
            s3.put_object(Bucket="busy", Key="a-late-arrival.txt", Body=b"costs money")

    handler_client(session, "us-east-1").meta.events.register("before-call.s3.DeleteObjects", write_behind_the_listing)
    reporter = make_reporter("us-east-1")

    outcomes = buckets.cleanup_buckets(session, "us-east-1", reporter, dry_run=False)

    # The emptying's listing had reached the end, so DeleteBucket found the late arrival, and
    # the bucket was emptied again before it was deleted.
    assert outcomes == {"busy": "deleted"} and bucket_names() == []
    assert recorded(reporter, "step_done") == [
        ("busy", "empty: removed 200 object versions and delete markers, aborted 0 uploads")]
    assert recorded(reporter, "deleted") == [
        ("busy", "emptied again: removed 1 object versions and delete markers, aborted 0 uploads")]


def test_a_bucket_emptied_in_one_round_costs_one_call_of_each_action(fault_server, make_reporter):
    _, injector = fault_server
    s3 = make_bucket("us-east-1", "one-round", versioned=True)
    put_objects(s3, "one-round", ["a.txt", "b.txt"], versions=2)
    s3.delete_object(Bucket="one-round", Key="a.txt")
    s3.create_multipart_upload(Bucket="one-round", Key="unfinished.bin")
    injector.clear()

    outcomes = buckets.cleanup_buckets(boto3.Session(), "us-east-1", make_reporter("us-east-1"), dry_run=False)

    # Uploads are not among the versions: listing them is the one call the versions' listing cannot save.
    assert {action: n for (_, service, action), n in injector.actions.items() if service == "s3"} == {
        "ListBuckets": 1, "ListObjectVersions": 1, "DeleteObjects": 1, "ListMultipartUploads": 1,
        "AbortMultipartUpload": 1, "DeleteBucket": 1}
    assert outcomes == {"one-round": "deleted"} and bucket_names() == []


@pytest.mark.parametrize("region, other", [("us-east-1", "eu-west-1"), ("eu-west-1", "us-east-1")])
def test_only_buckets_located_in_the_region_are_cleaned(aws_mock, make_reporter, region, other):
    make_bucket(region, f"in-{region}")
    make_bucket(other, f"in-{other}")
    reporter = make_reporter(region)

    outcomes = buckets.cleanup_buckets(boto3.Session(), region, reporter, dry_run=False)

    assert outcomes == {f"in-{region}": "deleted"}
    assert recorded(reporter, "cataloged") == [(f"in-{region}", None)]
    assert bucket_names() == [f"in-{other}"]


def test_bucket_that_no_longer_exists_is_already_gone(aws_mock, make_reporter):
    reporter = make_reporter("us-east-1")

    outcome = buckets.cleanup_bucket(boto3.Session(), "us-east-1", "no-such-bucket-xyz", reporter, False)

    assert outcome == "already_gone"
    assert [(e["resource_id"], e["error_code"]) for e in reporter.events("already_gone")] == [
        ("no-such-bucket-xyz", "NoSuchBucket")]


def test_delete_objects_partial_failure_is_recorded_as_failed(aws_mock, make_reporter, monkeypatch):
    s3 = make_bucket("us-east-1", "stubborn")
    put_objects(s3, "stubborn", ["locked.txt", "free.txt"])
    session = boto3.Session()
    refusal = {"Deleted": [{"Key": "free.txt"}],
               "Errors": [{"Key": "locked.txt", "Code": "AccessDenied", "Message": "Access Denied"}]}
    monkeypatch.setattr(handler_client(session, "us-east-1"), "delete_objects", lambda **_: refusal)
    reporter = make_reporter("us-east-1")

    outcome = buckets.cleanup_bucket(session, "us-east-1", "stubborn", reporter, False)

    assert outcome == "failed"
    [failure] = reporter.events("failed")
    assert (failure["resource_id"], failure["error_code"]) == ("stubborn", "AccessDenied")
    assert failure["message"] == "empty: 1 objects not deleted, e.g. locked.txt: Access Denied"
    assert bucket_names() == ["stubborn"]
