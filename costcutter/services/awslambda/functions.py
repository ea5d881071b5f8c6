"""Lambda functions, deleted with every version and alias they have (DeleteFunction takes them all).

The listing shows each function once ($LATEST), not its versions. Provisioned
concurrency, function URLs and aliases go with the function. Lambda@Edge replicas
cannot be deleted until CloudFront has dropped them (hours after their distribution
is gone); until then the deletion fails with AWS's message.
"""

import io
import json
import uuid
import zipfile

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, holding, listed, name_in_arn

_ASSUME_ROLE = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sts:AssumeRole",
    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com", "firehose.amazonaws.com"]}}]})


def seed_role(session) -> str:
    """An IAM role the seeded functions, state machines and delivery streams run as."""
    iam = session.client("iam")
    name = f"costcutter-seed-{uuid.uuid4().hex[:12]}"
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=_ASSUME_ROLE)["Role"]["Arn"]


def handler_zip() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as files:
        files.writestr("index.py", "def handler(event, context):\n    return event\n")
    return archive.getvalue()


def create_function(client, role: str) -> str:
    """A published function (version 1) with an alias, as deployments leave them."""
    name = f"costcutter-seed-{uuid.uuid4().hex[:12]}"
    client.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
                           Code={"ZipFile": handler_zip()}, Publish=True)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    return name


def _seed(session, region, count):
    client = session.client("lambda", region_name=region)
    role = seed_role(session)
    return [create_function(client, role) for _ in range(count)]


FUNCTIONS = ResourceType(
    service="lambda", name="functions", client="lambda", depends_on=("event_source_mappings",), doc=__doc__,
    # The listing has no tags (ListTags is one call per function) and no creation time.
    list=listed("list_functions", "Functions", "FunctionName", name="FunctionName", tags=None,
                properties={"runtime": "Runtime", "memory_mb": "MemorySize", "code_size": "CodeSize",
                            "package_type": "PackageType", "state": "State", "vpc_id": "VpcConfig.VpcId",
                            "last_modified": "LastModified", "role_arn": "Role",
                            "subnet_ids": "VpcConfig.SubnetIds", "security_group_ids": "VpcConfig.SecurityGroupIds"}),
    steps=deleted_by("delete_function", "FunctionName"),
    gone_codes=frozenset({"ResourceNotFoundException"}),
    # A function still being created or updated refuses until that is done.
    retry_codes=frozenset({"ResourceConflictException"}),
    seed=_seed, missing_id="costcutter-no-such-function",
    holds=holding({"iam.roles": ("role_arn", name_in_arn), "ec2.security_groups": "security_group_ids",
                    "ec2.subnets": "subnet_ids", "ec2.vpcs": "vpc_id"}),
)
catalog_functions, cleanup_function, cleanup_functions = engine.functions(FUNCTIONS)
