"""A local AWS sandbox: a moto server on 127.0.0.1, seeded with resources that cost money.

Used by `costcutter demo` and by the tests that cross process boundaries. It never talks
to real AWS: the server is local, and the credentials it sets are dummies.
"""

import contextlib
import os

import boto3

from costcutter import aws
from costcutter.registry import ordered_subresources

SANDBOX_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    # Moto's built-in public AMIs come with snapshots that would look like the account's own.
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
    # Keep a developer's own profiles and credentials out of the sandbox.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def use_sandbox_environment(endpoint: str | None = None) -> None:
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(SANDBOX_ENVIRONMENT)
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint


def start_server(wrap_app=None):
    """Start a moto server on a free port of 127.0.0.1; returns (server, endpoint URL).

    wrap_app, if given, wraps the WSGI application (the tests use it to watch requests).
    """
    use_sandbox_environment()
    from moto.moto_server.threaded_moto_server import ThreadedMotoServer
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import WSGIRequestHandler, make_server

    class _QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    class _Server(ThreadedMotoServer):
        def _server_entry(self):
            app = DomainDispatcherApplication(create_backend_app)
            self._server = make_server(self._ip_address, self._port, wrap_app(app) if wrap_app else app, True,
                                       request_handler=_QuietHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    server = _Server(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    use_sandbox_environment(endpoint)
    return server, endpoint


def reset_server(endpoint: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()


@contextlib.contextmanager
def running_server(wrap_app=None):
    server, endpoint = start_server(wrap_app)
    try:
        yield endpoint
    finally:
        server.stop()


def seed(region: str, *, instances: int = 2, extra_volumes: int = 2, snapshots: int = 1, amis: int = 1,
         elastic_ips: int = 2, key_pairs: int = 1, security_groups: int = 2, buckets: int = 1,
         objects_per_bucket: int = 5, versioned_bucket: bool = True, prefix: str = "sandbox") -> dict[str, list[str]]:
    """Create resources of every covered type in one region; returns their ids by type."""
    ec2 = boto3.client("ec2", region_name=region)
    s3 = boto3.client("s3", region_name=region)
    made: dict[str, list[str]] = {}

    image = ec2.register_image(Name=f"{prefix}-base", RootDeviceName="/dev/sda1",
                               BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}])
    reservation = ec2.run_instances(ImageId=image["ImageId"], MinCount=instances, MaxCount=instances,
                                    InstanceType="t3.micro") if instances else {"Instances": []}
    made["instances"] = [i["InstanceId"] for i in reservation["Instances"]]
    made["volumes"] = [ec2.create_volume(AvailabilityZone=f"{region}a", Size=10)["VolumeId"]
                       for _ in range(extra_volumes)]
    made["snapshots"] = [ec2.create_snapshot(VolumeId=made["volumes"][0])["SnapshotId"]
                         for _ in range(snapshots if made["volumes"] else 0)]
    made["amis"] = [image["ImageId"]] + [
        ec2.create_image(InstanceId=made["instances"][0], Name=f"{prefix}-image-{n}")["ImageId"]
        for n in range(max(0, amis - 1) if made["instances"] else 0)]
    made["elastic_ips"] = [ec2.allocate_address(Domain="vpc")["AllocationId"] for _ in range(elastic_ips)]
    if made["elastic_ips"] and made["instances"]:
        ec2.associate_address(AllocationId=made["elastic_ips"][0], InstanceId=made["instances"][0])
    made["key_pairs"] = [ec2.create_key_pair(KeyName=f"{prefix}-key-{n}")["KeyName"] for n in range(key_pairs)]
    made["security_groups"] = [
        ec2.create_security_group(GroupName=f"{prefix}-sg-{n}", Description="sandbox")["GroupId"]
        for n in range(security_groups)]

    made["buckets"] = []
    for n in range(buckets):
        name = f"{prefix}-{region}-{n}"
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **location)
        if versioned_bucket and n == 0:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        for key in range(objects_per_bucket):
            s3.put_object(Bucket=name, Key=f"data/{key}.txt", Body=b"costs money")
            if versioned_bucket and n == 0:
                s3.put_object(Bucket=name, Key=f"data/{key}.txt", Body=b"costs money, twice")
        if versioned_bucket and n == 0 and objects_per_bucket:
            s3.delete_object(Bucket=name, Key="data/0.txt")  # leaves a delete marker
        s3.create_multipart_upload(Bucket=name, Key="unfinished.bin")
        made["buckets"].append(name)
    return made


def inventory(region: str) -> dict[str, list[str]]:
    """What of the covered types is left in a region, as the handlers would list it."""
    session = boto3.Session()
    return {s.name: sorted(s.list(aws.client(session, s.client, region))) for s in ordered_subresources()}
