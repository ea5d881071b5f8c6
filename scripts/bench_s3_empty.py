"""How fast, and in how much memory, the S3 handler empties and deletes a versioned bucket
of many object versions, against the local moto server (with no added latency by default).

    python scripts/bench_s3_empty.py [--versions 100000] [--parallel N] [--page-size N]
                                     [--indexed-listing] [--latency S] [--no-memory-pass]
                                     [--profile FILE]

The moto server runs in this process, in a thread, so the bucket is seeded through moto's
S3 backend directly (untimed; 100,000 versions in a few seconds, where as many PutObject
requests would take minutes). The seed: two entries per key, the second a delete marker
on every tenth key, and one unfinished multipart upload.

The client side (the type's steps: buckets._empty_bucket, which empties the bucket with
buckets._empty and aborts the upload, then buckets.delete_bucket) runs in a subprocess, so
that its figures are its own:
  - time: the server has its own process and core, instead of sharing one GIL with the
    client, as it would if both ran here (and as AWS does);
  - memory: the client process's peak RSS, before and after (boto3 alone is tens of MB;
    read as VmHWM, because on Linux a child's ru_maxrss starts from its parent's at the
    fork, and this parent holds the server), and tracemalloc's peak, which counts only
    what the client allocates while it deletes the bucket (started after the client is
    built and warmed up). The server's copy of the bucket is in neither.
tracemalloc halves the client's speed, so the bucket is seeded and deleted twice: once
timed without it, once with it for the memory peak (--no-memory-pass skips the second).

moto's ListObjectVersions deep-copies every version in the bucket on every call (about
70 us a version: 7 s a page at 100,000 versions), so against moto as it is, listing costs
(versions left) x (pages), whatever the client does. --indexed-listing replaces it, in the
server only, by the same listing (same pages, markers and quirks) that copies nothing, to
measure the client and the rest of the server without that cost. It stands in for AWS's
index, and costs little itself: about 0.015 s of the server's 0.26 s of CPU per 1000 objects
(sorting names already in order is linear), the rest being moto's (mostly serialising the
listing's XML). The memory pass always uses it: the client gets the same pages, in minutes
instead of a quarter of an hour.

moto also keeps every model instance it ever made, for its dashboard, copies included:
listing 100,000 versions a hundred times would keep some 30 GB. The server here forgets
the copies after each listing.
"""

import argparse
import bisect
import contextlib
import cProfile
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
import types

import boto3

from costcutter import sandbox
from costcutter.faults import FaultInjector, Faults

BUCKET = "bench-versions"
REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account, which the sandbox's dummy credentials map to
POOL_SIZE = 16  # what a sweep's handler gets with the default threads_per_subresource of 8


def seed(versions: int) -> None:
    from moto.backends import get_backend

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    s3.create_multipart_upload(Bucket=BUCKET, Key="unfinished.bin")
    backend = get_backend("s3")[ACCOUNT]["aws"]
    for n in range(versions):
        key = f"data/{n // 2:07}.bin"
        if n % 2 and (n // 2) % 10 == 0:
            backend.delete_object(BUCKET, key)  # versioned: leaves a delete marker
        else:
            backend.put_object(BUCKET, key, b"costs money")


def forget_listing_copies() -> None:
    """After each ListObjectVersions, untrack the instances moto made for it (deep copies)."""
    from moto.core.model_instances import model_data
    from moto.s3.models import S3Backend

    listing = S3Backend.list_object_versions

    def list_object_versions(self, *args, **kwargs):
        tracked = {model: len(model.instances_tracked) for model in model_data["s3"].values()}
        try:
            return listing(self, *args, **kwargs)
        finally:
            for model, count in tracked.items():
                del model.instances_tracked[count:]

    S3Backend.list_object_versions = list_object_versions


@contextlib.contextmanager
def indexed_listing():
    """moto's list_object_versions, with its results and markers, at the cost of one page."""
    from moto.s3.models import FakeKey, S3Backend, unix_time_millis

    class Listed:
        """A version as listed: moto sets is_latest on a deep copy; this is a cheap one."""
        def __init__(self, version, is_latest):
            self._version, self.is_latest = version, is_latest

        def __getattr__(self, name):
            return getattr(self._version, name)

    def split(listed):
        return ([v for v in listed if isinstance(v._version, FakeKey)], [],
                [v for v in listed if not isinstance(v._version, FakeKey)])

    def list_object_versions(self, bucket_name, delimiter=None, key_marker=None, max_keys=1000, prefix="",
                             version_id_marker=None):
        assert not delimiter and not prefix, "only what the handler asks for"
        keys = self.get_bucket(bucket_name).keys
        names = sorted(keys)
        start = bisect.bisect_left(names, key_marker) if key_marker else 0
        listed, skip = [], key_marker is not None
        for name in names[start:]:
            newest_first = sorted(keys.getlist(name, []), key=lambda v: -unix_time_millis(v.last_modified))
            for position, version in enumerate(newest_first):
                if skip:  # moto's rules: see S3Backend.list_object_versions
                    if not version_id_marker:
                        skip = version.name < key_marker
                    elif version.name == key_marker and version.version_id == version_id_marker:
                        skip = False
                    elif version.name > key_marker:
                        return [], [], [], None, None  # the marker is gone: moto finds nothing after it
                    continue
                if len(listed) >= max_keys:
                    return (*split(listed), listed[-1].name, listed[-1].version_id)
                listed.append(Listed(version, position == 0))
        return (*split(listed), None, None)

    moto_listing = S3Backend.list_object_versions
    S3Backend.list_object_versions = list_object_versions
    try:
        yield
    finally:
        S3Backend.list_object_versions = moto_listing


def peak_rss_kb() -> int:
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_client(args) -> dict:
    """Runs in the subprocess: delete the bucket as the handler does, and measure it."""
    from costcutter import aws
    from costcutter.registry import Resource
    from costcutter.services.s3 import buckets

    if args.parallel:
        buckets.BATCHES_IN_PARALLEL = args.parallel
    if args.page_size:
        buckets.LIST_PAGE_SIZE = args.page_size
    s3 = aws.client(boto3.Session(), "s3", REGION, pool_size=max(POOL_SIZE, (args.parallel or 0) + 2))
    s3.list_object_versions(Bucket=BUCKET, MaxKeys=1)  # loads the models and opens a connection
    rss_before = peak_rss_kb()

    timings = {}
    empty = buckets._empty

    def timed_empty(*arguments):
        started = time.perf_counter()
        try:
            return empty(*arguments)
        finally:
            timings["empty"] = time.perf_counter() - started

    buckets._empty = timed_empty
    profile = cProfile.Profile() if args.profile and args.client == "time" else None
    if args.client == "memory":
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    if profile:
        profile.enable()
    # The type's steps, as the engine runs them: empty (versions, markers, uploads), then delete.
    target, bucket = types.SimpleNamespace(client=s3), Resource(id=BUCKET)
    detail = [step.call(target, bucket) for step in buckets.BUCKETS.steps]
    if profile:
        profile.disable()
        profile.dump_stats(args.profile)
    timings["delete"] = time.perf_counter() - started
    timings["cpu"] = time.process_time() - cpu_started
    return {"detail": detail, "empty_seconds": timings["empty"], "delete_seconds": timings["delete"],
            "client_cpu_seconds": timings["cpu"],
            "tracemalloc_peak": tracemalloc.get_traced_memory()[1] if tracemalloc.is_tracing() else None,
            "rss_before_kb": rss_before, "rss_after_kb": peak_rss_kb(),
            "parallel": buckets.BATCHES_IN_PARALLEL, "page_size": getattr(buckets, "LIST_PAGE_SIZE", 1000)}


def measure(endpoint, versions, measurement) -> dict:
    started = time.perf_counter()
    seed(versions)
    print(f"{measurement} pass: seeded {versions} versions in {time.perf_counter() - started:.1f}s", flush=True)
    command = [sys.executable, __file__, "--client", measurement, *sys.argv[1:]]
    cpu_started = time.process_time()  # this process is the server, idle but for its threads
    result = json.loads(subprocess.run(command, env={**os.environ, "AWS_ENDPOINT_URL": endpoint},
                                       check=True, stdout=subprocess.PIPE, text=True).stdout)
    result["server_cpu_seconds"] = time.process_time() - cpu_started
    left = [b["Name"] for b in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]]
    assert left == [], f"buckets left: {left}"
    return result


def report(versions, result) -> None:
    print(f"  {result['detail']}  (parallel {result['parallel']}, page size {result['page_size']})")
    for step in ("empty", "delete"):
        seconds = result[f"{step}_seconds"]
        print(f"  _{step + ':':7} {seconds:7.1f}s  {versions / seconds:7.0f} objects/s")
    print(f"  CPU per 1000 objects: client {1000 * result['client_cpu_seconds'] / versions:.2f}s, "
          f"server {1000 * result['server_cpu_seconds'] / versions:.2f}s (steadier than time on a busy machine)")
    print(f"  client peak RSS {result['rss_before_kb'] / 1024:.0f} MiB before, "
          f"{result['rss_after_kb'] / 1024:.0f} MiB after")
    if result["tracemalloc_peak"] is not None:
        print(f"  client tracemalloc peak {result['tracemalloc_peak'] / 2**20:.1f} MiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100_000, help="object versions and delete markers")
    parser.add_argument("--parallel", type=int, help="DeleteObjects batches at once (default: the handler's)")
    parser.add_argument("--page-size", type=int, help="ListObjectVersions MaxKeys (default: the handler's)")
    parser.add_argument("--indexed-listing", action="store_true",
                        help="replace moto's list_object_versions by one that costs a page, not the bucket")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds added to every request, for a round trip to AWS")
    parser.add_argument("--no-memory-pass", action="store_true", help="only the timed pass")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the timed pass's listing thread (not the deletions) into FILE")
    parser.add_argument("--client", choices=["time", "memory"], help=argparse.SUPPRESS)  # the subprocess's part
    args = parser.parse_args()
    if args.client:
        print(json.dumps(run_client(args)))
        return

    slowed = FaultInjector(Faults(latency={"*": args.latency})).around if args.latency else None
    with sandbox.running_server(wrap_app=slowed) as endpoint:
        forget_listing_copies()
        print(f"{args.versions} versions, {'indexed' if args.indexed_listing else 'moto'} listing", flush=True)
        with indexed_listing() if args.indexed_listing else contextlib.nullcontext():
            report(args.versions, measure(endpoint, args.versions, "time"))
        if not args.no_memory_pass:
            with indexed_listing():
                report(args.versions, measure(endpoint, args.versions, "memory"))


if __name__ == "__main__":
    main()
