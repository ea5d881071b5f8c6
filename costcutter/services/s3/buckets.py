"""S3 buckets located in the region, emptied completely, then deleted.

Emptying lists the bucket's object versions and delete markers a page at a time and deletes
them in batches of up to 1000 keys (the DeleteObjects limit), several batches at once while
the next page is listed, so memory stays the same however big the bucket is; unfinished
multipart uploads are aborted.
"""

import re
import threading
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
    """Delete every version and delete marker: list the bucket a page at a time, following
    the markers, while the batches of the pages already listed are deleted on other threads
    (at most BATCHES_IN_PARALLEL at once; the listing waits for one to finish before it adds
    another), so the listing's work and the deletions' overlap, and memory holds a few
    batches whatever the size of the bucket. A bucket that fits in one page costs one
    listing and one DeleteObjects, as before.

    moto's listing has two faults the emptying steps around. It finds nothing after a
    marker whose version was deleted: the version a page's marker names is held back and
    deleted with the next page's batch, once that page is listed. It fails when a key is
    deleted while it lists (a TypeError in process, error 500 from its server): a listing
    that fails while batches were being deleted is asked again once they are done, and the
    rest of this bucket's listing and deleting take turns. What is written behind the
    listing makes DeleteBucket fail; delete_bucket then empties the bucket again, so no
    listing is spent to find it empty in the usual case."""
    with _Deletions(s3, bucket) as deletions:
        for keys in _listed_batches(s3, bucket, deletions):
            deletions.submit(keys)
        deletions.wait()
        return deletions.removed


def _listed_batches(s3, bucket, deletions):
    """Every version and delete marker, in batches of up to _MAX_KEYS_PER_DELETE, a page at a
    time; the version the next page's marker names comes in the batch after that page's."""
    marker, held, overlapping = {}, [], True
    while True:
        if not overlapping:
            deletions.wait()
        deleting = deletions.busy()
        try:
            page = _list_keys_only(s3, Bucket=bucket, MaxKeys=LIST_PAGE_SIZE, **marker)
        except Exception:  # whatever moto raises in process; a real error comes back when asked again
            if not deleting:
                raise
            overlapping = False
            continue
        keys = held + [{"Key": item["Key"], "VersionId": item["VersionId"]}
                       for item in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        held = []
        if page.get("IsTruncated"):
            marker = {"KeyMarker": page["NextKeyMarker"], "VersionIdMarker": page.get("NextVersionIdMarker", "")}
            named = {"Key": marker["KeyMarker"], "VersionId": marker["VersionIdMarker"]}
            held = [key for key in keys if key == named]
            keys = [key for key in keys if key != named]
        for start in range(0, len(keys), _MAX_KEYS_PER_DELETE):
            yield keys[start:start + _MAX_KEYS_PER_DELETE]
        if not page.get("IsTruncated"):
            return


_listing_keys_only = threading.local()


def _list_keys_only(s3, **params) -> dict:
    """ListObjectVersions, its versions and delete markers parsed for Key and VersionId only:
    botocore parsed a page of 1000 whole in 0.1 s of CPU, seven times as long as its keys
    alone (the timestamps above all), and emptying reads none of the other fields."""
    s3.meta.events.register("before-parse.s3.ListObjectVersions", _drop_unread_fields,
                            unique_id="costcutter.s3.buckets.keys-only")
    _listing_keys_only.active = True
    try:
        return s3.list_object_versions(**params)
    finally:
        _listing_keys_only.active = False


def _drop_unread_fields(operation_model, response_dict, **_):
    """Only for this thread's _list_keys_only: the client is shared, and other callers may
    want every field. An error is left whole, and so is a field written in a way not
    matched here (attributes, self-closed): parsed as usual, only slower."""
    if getattr(_listing_keys_only, "active", False) and response_dict["status_code"] == 200:
        response_dict["body"] = _unread_fields(operation_model).sub(b"", response_dict["body"])


def _unread_fields(operation_model) -> re.Pattern:
    listed = operation_model.output_shape.members
    fields = {field for entries in ("Versions", "DeleteMarkers") for field in listed[entries].member.members}
    unread = "|".join(sorted(fields - {"Key", "VersionId"}))
    return re.compile(f"<({unread})>.*?</\\1>".encode(), re.DOTALL)  # re caches the compiled pattern


class _Deletions:
    """DeleteObjects batches on up to BATCHES_IN_PARALLEL threads; submit waits while that
    many are running. A batch's failure is raised by the next submit or wait."""

    def __init__(self, s3, bucket):
        self._s3, self._bucket = s3, bucket
        self._pool = ThreadPoolExecutor(max_workers=BATCHES_IN_PARALLEL, thread_name_prefix=f"empty-{bucket}")
        self._slots = threading.BoundedSemaphore(BATCHES_IN_PARALLEL)
        self._submitted = []
        self.removed = 0

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self._pool.shutdown(wait=True)

    def submit(self, keys):
        self._slots.acquire()
        future = self._pool.submit(_delete_batch, self._s3, self._bucket, keys)
        future.add_done_callback(lambda _: self._slots.release())
        self._submitted.append(future)
        self._collect(self._finished())

    def busy(self) -> bool:
        return len(self._finished()) < len(self._submitted)

    def wait(self):
        self._collect(list(self._submitted))

    def _finished(self):
        return [future for future in self._submitted if future.done()]

    def _collect(self, futures):
        for future in futures:
            self._submitted.remove(future)
            self.removed += future.result()


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
