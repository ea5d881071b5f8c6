"""S3 buckets located in the region, emptied completely, then deleted.

Emptying deletes object versions in batches of up to 1000 keys (the DeleteObjects limit),
several batches at once.
"""

import itertools
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from costcutter.registry import Subresource

BATCHES_IN_PARALLEL = 4
LIST_PAGE_SIZE = 1000  # ListObjectVersions' most on AWS (moto honours more)
_MAX_KEYS_PER_DELETE = 1000


def _list(s3):
    region = s3.meta.region_name
    for page in s3.get_paginator("list_buckets").paginate(BucketRegion=region):
        for bucket in page["Buckets"]:
            yield bucket["Name"]


def _delete(s3, bucket):
    removed = _empty(s3, bucket)
    uploads = _abort_uploads(s3, bucket)
    s3.delete_bucket(Bucket=bucket)
    return f"removed {removed} object versions and delete markers, aborted {uploads} uploads"


def _empty(s3, bucket) -> int:
    """Delete every version and delete marker, in rounds: list up to BATCHES_IN_PARALLEL
    batches from the start, delete them at once, and list again until nothing is left.
    Memory holds one round, whatever the size of the bucket.

    Listing from the start each round never depends on a marker whose version was deleted
    under it (moto ends such a listing early), and costs no more calls than following the
    markers: the pages deleted are gone. Listing and deleting take turns, because moto's
    ListObjectVersions fails when a key is deleted while it lists (a TypeError in process,
    error 500 from its server); overlapping them measured no faster against moto anyway."""
    removed = 0
    with ThreadPoolExecutor(max_workers=BATCHES_IN_PARALLEL, thread_name_prefix=f"empty-{bucket}") as pool:
        while batches := list(itertools.islice(_version_batches(s3, bucket), BATCHES_IN_PARALLEL)):
            removed += sum(pool.map(lambda keys: _delete_batch(s3, bucket, keys), batches))
    return removed


def _version_batches(s3, bucket):
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": LIST_PAGE_SIZE})
    for page in pages:
        keys = [{"Key": item["Key"], "VersionId": item["VersionId"]}
                for item in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(keys), _MAX_KEYS_PER_DELETE):
            yield keys[start:start + _MAX_KEYS_PER_DELETE]


def _delete_batch(s3, bucket, keys) -> int:
    response = s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
    errors = response.get("Errors", [])
    if errors:
        first = errors[0]
        raise ClientError({"Error": {"Code": first.get("Code", "DeleteObjectsFailed"),
                                     "Message": f"{len(errors)} objects not deleted, e.g. {first.get('Key')}: "
                                                f"{first.get('Message', '')}"}}, "DeleteObjects")
    return len(keys)


def _abort_uploads(s3, bucket) -> int:
    aborted = 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
        for upload in page.get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
            aborted += 1
    return aborted


BUCKETS = Subresource(
    service="s3", name="buckets", client="s3", list=_list, delete=_delete,
    gone_codes=frozenset({"NoSuchBucket"}),
)
catalog_buckets, cleanup_bucket, cleanup_buckets = BUCKETS.functions()
