"""A local AWS sandbox: a moto server on 127.0.0.1, seeded with resources that cost money.

Used by `costcutter demo` and by the tests that cross process boundaries. It never talks
to real AWS: the server is local, and the credentials it sets are dummies.
"""

import contextlib
import io
import json
import os
import zipfile

import boto3

from costcutter import aws
from costcutter.engine import Target
from costcutter.registry import GLOBAL_REGION, resource_types

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


# What moto cannot do for some types, by key: the parts of a sweep it lacks, and why. The
# sandbox neither seeds nor counts those types (a sweep of it would fail or wait for
# ever); the conformance test skips the parts, and each type's own test file covers them
# with botocore's Stubber on real response shapes.
MOTO_LACKS: dict[str, tuple[frozenset[str], str]] = {
    "elasticache.cache_clusters": (frozenset({"finish"}), "moto never finishes deleting a cache cluster"),
    "elasticache.cache_subnet_groups": (frozenset({"delete"}), "moto has no DeleteCacheSubnetGroup"),
    "elasticache.replication_groups": (frozenset({"finish"}), "moto never finishes deleting a replication group"),
    "elasticbeanstalk.environments": (frozenset({"delete"}), "moto has no TerminateEnvironment"),
    "emr.clusters": (frozenset({"delete_missing"}), "moto's TerminateJobFlows fails (KeyError) on an unknown id"),
    "apigateway.rest_apis": (frozenset({"delete_missing"}),
                             "moto's DeleteRestApi answers an unknown id with a KeyError (a 500), not NotFoundException"),
}
# Where moto's server answers otherwise than AWS in a way a sweep of the sandbox shows.
MOTO_QUIRKS = {"emr.clusters": "the sandbox lists every region's EMR clusters in each region; the first region "
                                "deletes them"}
# What the sandbox can do without: a delete of an id that never existed.
_SANDBOX_NEEDS = frozenset({"list", "delete", "finish"})


def in_sandbox(rtype) -> bool:
    """Whether moto can take this type through a whole sweep: list, delete, finish deleting."""
    return not MOTO_LACKS.get(rtype.key, (frozenset(), ""))[0] & _SANDBOX_NEEDS


def use_sandbox_environment(endpoint: str | None = None) -> None:
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(SANDBOX_ENVIRONMENT)
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint


def fill_moto_gaps() -> None:
    """Teach moto the calls CostCutter makes that it lacks, each answering what AWS would
    for what moto can hold, and make it answer as AWS does where it breaks (moto_gaps).

    IAM service-specific credentials (CodeCommit, Keyspaces, Bedrock) cannot be created
    in moto, so every user it has has none; the step that deletes them is tested against
    AWS's response shapes with botocore's Stubber (tests/test_global.py).
    """
    from moto.core.responses import ActionResult
    from moto.iam.responses import IamResponse

    from costcutter import moto_gaps

    moto_gaps.patch()

    def list_service_specific_credentials(self):
        self.backend.get_user(self._get_param("UserName"))  # NoSuchEntity for an unknown user, as in AWS
        return ActionResult({"ServiceSpecificCredentials": []})

    if not hasattr(IamResponse, "list_service_specific_credentials"):
        IamResponse.list_service_specific_credentials = list_service_specific_credentials


def start_server(wrap_app=None):
    """Start a moto server on a free port of 127.0.0.1; returns (server, endpoint URL).

    wrap_app, if given, wraps the WSGI application (the tests use it to watch requests).
    """
    use_sandbox_environment()
    fill_moto_gaps()
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


def seed(region: str, counts: dict[str, int] | None = None, default_count: int = 1,
         services: tuple[str, ...] | None = None) -> dict[str, list[str]]:
    """Create resources of every registered type (of `services`, when given) in a region
    (global types when region is `global`), each by its own seeder; returns their ids by type key."""
    session = boto3.Session()
    counts = counts or {}
    return {t.key: t.seed(session, aws.home_region(session) if t.is_global else region, count)
            for t in _types_of(region) if (services is None or t.service in services)
            and (count := counts.get(t.key, default_count))}


def inventory(region: str, services: tuple[str, ...] | None = None, session=None) -> dict[str, list[str]]:
    """What of the registered types (of `services`, when given) is left in a region, as the
    engine would list it. Pass one session to list many regions without loading the
    services' models for each."""
    session = session or boto3.Session()
    return {t.key: sorted(r.id for r in t.list(Target(t, session, region))) for t in _types_of(region)
            if services is None or t.service in services}


def _types_of(region: str):
    return [t for t in resource_types() if t.is_global == (region == GLOBAL_REGION) and in_sandbox(t)]


def seed_stack(region: str, name: str = "shop") -> dict[str, str]:
    """A small but real web stack in one region, with the dependencies real accounts have:
    a VPC with two subnets, an internet gateway and a NAT gateway, a load balancer in front
    of an Auto Scaling group, an RDS instance in a subnet group, a Lambda function with its
    IAM role, a KMS key with an alias, a queue, a topic and a log group. Returns what it
    made, by name. (Each type's own seeder makes one of it alone; this is how they hold
    each other.)"""
    session = boto3.Session()

    def client(service):
        return session.client(service, region_name=region)

    ec2, made = client("ec2"), {}
    vpc = made["vpc"] = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24", AvailabilityZone=f"{region}{zone}")
               ["Subnet"]["SubnetId"] for n, zone in enumerate("ab")]
    made["subnets"] = ",".join(subnets)
    gateway = made["internet_gateway"] = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    routes = made["route_table"] = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=routes, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    ec2.associate_route_table(RouteTableId=routes, SubnetId=subnets[0])
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    made["nat_gateway"] = ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=address)["NatGateway"]["NatGatewayId"]
    group = made["security_group"] = ec2.create_security_group(
        GroupName=f"{name}-web", Description="web", VpcId=vpc)["GroupId"]

    elbv2 = client("elbv2")
    balancer = elbv2.create_load_balancer(Name=f"{name}-lb", Subnets=subnets, SecurityGroups=[group])
    made["load_balancer"] = balancer["LoadBalancers"][0]["LoadBalancerArn"]
    target_group = made["target_group"] = elbv2.create_target_group(
        Name=f"{name}-tg", Protocol="HTTP", Port=80, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    elbv2.create_listener(LoadBalancerArn=made["load_balancer"], Protocol="HTTP", Port=80,
                          DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}])
    image = ec2.register_image(Name=f"{name}-image", RootDeviceName="/dev/sda1",
                               BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}])["ImageId"]
    template = ec2.create_launch_template(LaunchTemplateName=f"{name}-web", LaunchTemplateData={
        "ImageId": image, "InstanceType": "t3.micro", "SecurityGroupIds": [group]})
    made["launch_template"] = template["LaunchTemplate"]["LaunchTemplateId"]
    made["auto_scaling_group"] = f"{name}-web"
    client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=made["auto_scaling_group"], MinSize=1, MaxSize=2, DesiredCapacity=1,
        LaunchTemplate={"LaunchTemplateId": made["launch_template"]}, VPCZoneIdentifier=",".join(subnets),
        TargetGroupARNs=[target_group])

    rds = client("rds")
    rds.create_db_subnet_group(DBSubnetGroupName=f"{name}-db", DBSubnetGroupDescription="db", SubnetIds=subnets)
    made["db_instance"] = rds.create_db_instance(
        DBInstanceIdentifier=f"{name}-db", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
        MasterUsername="shop", MasterUserPassword="not-a-secret-1", DBSubnetGroupName=f"{name}-db",
        VpcSecurityGroupIds=[group])["DBInstance"]["DBInstanceIdentifier"]

    role = session.client("iam").create_role(
        RoleName=f"{name}-{region}-fn", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    made["role"] = role["Role"]["RoleName"]
    made["function"] = client("lambda").create_function(
        FunctionName=f"{name}-orders", Runtime="python3.12", Role=role["Role"]["Arn"], Handler="main.handler",
        Code={"ZipFile": _zipped("main.py", "def handler(event, context):\n    return event\n")})["FunctionName"]

    kms = client("kms")
    made["kms_key"] = kms.create_key(Description=f"{name} data")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{name}-data", TargetKeyId=made["kms_key"])
    made["queue"] = client("sqs").create_queue(QueueName=f"{name}-orders")["QueueUrl"]
    made["topic"] = client("sns").create_topic(Name=f"{name}-alerts")["TopicArn"]
    client("logs").create_log_group(logGroupName=f"/{name}/web")
    made["log_group"] = f"/{name}/web"
    return made


def _zipped(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, text)
    return buffer.getvalue()
