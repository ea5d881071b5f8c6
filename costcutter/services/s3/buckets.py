"""S3 buckets located in the region, emptied completely, then deleted.

Emptying lists the bucket's object versions and delete markers a page at a time and deletes
them in batches of up to 1000 keys (the DeleteObjects limit), several batches at once, so
memory stays the same however big the bucket is; unfinished multipart uploads are aborted.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from costcutter import aws, engine
from costcutter.registry import ResourceType, Step, pages, record

BATCHES_IN_PARALLEL = 4
LIST_PAGE_SIZE = 1000  # ListObjectVersions' most on AWS (moto honours more)
_MAX_KEYS_PER_DELETE = 1000
EMPTYING_ATTEMPTS = 3  # DeleteBucket after emptying, then after emptying again what was written meanwhile


def _list(target):
    for page in pages(target.client, "list_buckets", BucketRegion=target.region):
        for bucket in page["Buckets"]:
            yield record(bucket, "Name", name="Name", created="CreationDate", tags=None)


def _empty_bucket(target, bucket):
    removed = _empty(target.client, bucket.id)
    uploads = _abort_uploads(target.client, bucket.id)
    return f"removed {removed} object versions and delete markers, aborted {uploads} uploads"


def _empty(s3, bucket) -> int:
    """Delete every version and delete marker, in rounds: list up to BATCHES_IN_PARALLEL
    batches from the start, delete them at once, and list again only if that listing did not
    reach the end. Memory holds one round, whatever the size of the bucket.

    Listing from the start each round never depends on a marker whose version was deleted
    under it (moto ends such a listing early), and costs no more calls than following the
    markers: the pages deleted are gone. Listing and deleting take turns, because moto's
    ListObjectVersions fails when a key is deleted while it lists (a TypeError in process,
    error 500 from its server); overlapping them measured no faster against moto anyway.
    What is written after the last listing makes DeleteBucket fail; delete_bucket then
    empties the bucket again, so no listing is spent to find it empty in the usual case."""
    removed, complete = 0, False
    with ThreadPoolExecutor(max_workers=BATCHES_IN_PARALLEL, thread_name_prefix=f"empty-{bucket}") as pool:
        while not complete:
            batches, complete = _round(s3, bucket)
            removed += sum(pool.map(lambda keys: _delete_batch(s3, bucket, keys), batches))
    return removed


def _round(s3, bucket) -> tuple[list[list[dict]], bool]:
    """Up to BATCHES_IN_PARALLEL batches of keys, listed from the start, and whether the
    listing reached the end: then, once they are deleted, the bucket was empty."""
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": LIST_PAGE_SIZE})
    batches = []
    for page in pages:
        keys = [{"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        batches += [keys[start:start + _MAX_KEYS_PER_DELETE] for start in range(0, len(keys), _MAX_KEYS_PER_DELETE)]
        if len(batches) >= BATCHES_IN_PARALLEL:
            return batches, not page.get("IsTruncated")
    return batches, True


def _delete_batch(s3, bucket, keys) -> int:
    response = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    errors = response.get("Errors", [])
    if errors:
        first = errors[0]
        raise ClientError({"Error": {"Code": first.get("Code", "DeleteObjectsFailed"),
                                     "Message": f"{len(errors)} objects not deleted, e.g. {first.get('Key')}: "
                                                f"{first.get('Message', '')}"}}, "DeleteObjects")
    return len(keys)


def delete_bucket(target, bucket):
    """DeleteBucket (named after it, so faults.deletions_of counts just that action); a
    bucket written to since it was emptied (BucketNotEmpty) is emptied again, then deleted,
    a few times at most."""
    emptied = None
    for attempt in range(1, EMPTYING_ATTEMPTS + 1):
        try:
            target.client.delete_bucket(Bucket=bucket.id)
            return emptied and f"emptied again: {emptied}"
        except ClientError as error:
            if aws.error_code(error) != "BucketNotEmpty" or attempt == EMPTYING_ATTEMPTS:
                raise
        emptied = _empty_bucket(target, bucket)


def _abort_uploads(s3, bucket) -> int:
    aborted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            # Gone already: aborted by an earlier attempt of this call whose answer was lost.
            with aws.ignoring("NoSuchUpload"):
                s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            aborted += 1
    return aborted


def _seed(session, region, count, objects=5):
    """Versioned buckets with objects of two versions each, a delete marker and an unfinished upload."""
    s3 = session.client("s3", region_name=region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    names = []
    for _ in range(count):
        name = f"costcutter-seed-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=name, **location)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        for key in range(objects):
            for body in (b"costs money", b"costs money, twice"):
                s3.put_object(Bucket=name, Key=f"data/{key}.txt", Body=body)
        s3.delete_object(Bucket=name, Key="data/0.txt")
        s3.create_multipart_upload(Bucket=name, Key="unfinished.bin")
        names.append(name)
    return names


BUCKETS = ResourceType(
    depends_on=("firehose.delivery_streams", "elasticbeanstalk.applications"),
    service="s3", name="buckets", client="s3", doc=__doc__, list=_list,
    steps=(Step("empty", _empty_bucket), Step("delete", delete_bucket)),
    gone_codes=frozenset({"NoSuchBucket"}),
    seed=_seed, missing_id="costcutter-no-such-bucket-0123456789",
)
catalog_buckets, cleanup_bucket, cleanup_buckets = engine.functions(BUCKETS)
