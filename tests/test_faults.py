"""The fault-injecting server, and CostCutter under its faults.

Clients of every AWS protocol family see the throttling error their service really sends,
and botocore retries it; server errors and dropped connections before or after moto acts
look as they do from AWS; and a real run over three regions, with a third of its calls
throttled and one in twenty failed or cut off, deletes everything, each resource once.
"""

import os
import subprocess
import sys
import urllib.parse
import urllib.request

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.exceptions
import pytest
from botocore.retries import standard

from costcutter import aws as costcutter_aws
from costcutter import registry, sandbox
from costcutter.aws import Rate
from costcutter.faults import ERROR, ERROR_AFTER, RESET, RESET_AFTER, TAG_HEADER, THROTTLED, Faults, deletions_of
from costcutter.registry import GLOBAL_REGION
from costcutter.services.ec2 import amis, security_groups, snapshots
from costcutter.services.s3 import buckets
from costcutter.store import EventStore

REGION = "eu-west-1"

# service, a read-only call, and what AWS answers it with when it throttles
PROTOCOL_FAMILIES = [
    pytest.param("ec2", "describe_instances", 503, "RequestLimitExceeded", id="ec2"),
    pytest.param("iam", "list_users", 400, "Throttling", id="query"),
    pytest.param("route53", "list_hosted_zones", 400, "Throttling", id="rest-xml"),
    pytest.param("s3", "list_buckets", 503, "SlowDown", id="s3"),
    pytest.param("dynamodb", "list_tables", 400, "ThrottlingException", id="json"),
    pytest.param("lambda", "list_functions", 429, "TooManyRequestsException", id="rest-json"),
]


def client(service, attempts=3, region=REGION):
    config = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": attempts}, read_timeout=30)
    return boto3.client(service, region_name=region, config=config)


def throttling_seen_by_botocore(aws_client) -> list[bool]:
    """For each answer the client's retry handler considers, whether botocore's own
    detector takes it for throttling."""
    detector = standard.ThrottlingErrorDetector(standard.RetryEventAdapter())
    seen = []
    aws_client.meta.events.register("needs-retry", lambda **kwargs: seen.append(detector.is_throttling_error(**kwargs)))
    return seen


def call_error(aws_client, operation, **params) -> botocore.exceptions.ClientError:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        getattr(aws_client, operation)(**params)
    return caught.value


# Error shapes


@pytest.mark.parametrize("service, operation, status, code", PROTOCOL_FAMILIES)
def test_throttling_answers_as_the_protocol_does_and_botocore_retries_it(fault_server, service, operation, status,
                                                                         code):
    _, injector = fault_server
    injector.configure(Faults(throttle={"*": 1.0}))
    throttled_client = client(service)
    verdicts = throttling_seen_by_botocore(throttled_client)

    error = call_error(throttled_client, operation)

    assert (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert error.response["ResponseMetadata"]["RetryAttempts"] == 2
    assert verdicts == [True, True, True]
    assert injector.counts[THROTTLED] == 3


@pytest.mark.parametrize("service, operation", [p.values[:2] for p in PROTOCOL_FAMILIES],
                         ids=[p.id for p in PROTOCOL_FAMILIES])
def test_server_errors_before_moto_acts_are_retried(fault_server, service, operation):
    _, injector = fault_server
    injector.configure(Faults(errors={f"{service}:*": 1.0}))

    error = call_error(client(service), operation)

    assert error.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
    assert error.response["Error"]["Code"] in ("InternalError", "ServiceUnavailable")
    assert error.response["ResponseMetadata"]["RetryAttempts"] == 2


def test_a_reset_closes_the_connection_without_an_answer_and_is_retried(fault_server):
    _, injector = fault_server
    injector.configure(Faults(resets={"ec2:DescribeKeyPairs": 1.0}))
    # A connection left open would end in a ReadTimeoutError instead, after 30 seconds.
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        client("ec2").describe_key_pairs()
    assert injector.counts[RESET] == 3
    assert injector.counts["retries"] == 2


def test_an_error_after_moto_acts_loses_the_answer_but_not_the_change(fault_server):
    _, injector = fault_server
    injector.configure(Faults(errors_after={"ec2:CreateKeyPair": 1.0}))
    ec2 = client("ec2", attempts=1)

    error = call_error(ec2, "create_key_pair", KeyName="made-anyway")

    assert error.response["ResponseMetadata"]["HTTPStatusCode"] in (500, 503)
    assert [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]] == ["made-anyway"]
    (call,) = injector.calls
    assert (call.region, call.action, call.resource_ids, call.fault, call.reached_moto) == (
        REGION, "CreateKeyPair", ("made-anyway",), ERROR_AFTER, True)


def test_a_reset_after_moto_acts_loses_the_answer_but_not_the_change(fault_server):
    _, injector = fault_server
    ec2 = client("ec2", attempts=1)
    ec2.create_key_pair(KeyName="deleted-anyway")
    injector.configure(Faults(resets_after={"DeleteKeyPair": 1.0}))

    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        ec2.delete_key_pair(KeyName="deleted-anyway")

    assert ec2.describe_key_pairs()["KeyPairs"] == []
    assert injector.per_resource(["ec2:DeleteKeyPair"]) == {(REGION, "deleted-anyway"): 1}


def test_throttle_by_token_bucket_per_region_and_pattern(fault_server):
    _, injector = fault_server
    injector.configure(Faults(throttle={"ec2:DescribeKeyPairs": Rate(burst=2, per_second=0.001)}))
    here, there = client("ec2", attempts=1), client("ec2", attempts=1, region="us-west-2")

    here.describe_key_pairs()
    here.describe_key_pairs()
    assert call_error(here, "describe_key_pairs").response["Error"]["Code"] == "RequestLimitExceeded"
    here.describe_volumes()          # another action: another family
    there.describe_key_pairs()       # another region: another bucket
    assert injector.counts[THROTTLED] == 1


def test_buckets_per_action_take_their_size_from_the_pattern(fault_server):
    _, injector = fault_server
    injector.configure(Faults(throttle={"ec2:Describe*": Rate(burst=1, per_second=0.001)}, buckets_per_action=True))
    ec2 = client("ec2", attempts=1)

    ec2.describe_key_pairs()
    ec2.describe_volumes()           # another action: its own bucket, as AWS's EC2 keeps them
    assert call_error(ec2, "describe_key_pairs").response["Error"]["Code"] == "RequestLimitExceeded"
    assert injector.faulted == {(REGION, "ec2", "DescribeKeyPairs", THROTTLED): 1}


# The services that share a signing name, each with a call of its own
SIGNED_ALIKE = [("elb", "describe_load_balancers", "DescribeLoadBalancers"),
                ("elbv2", "describe_load_balancers", "DescribeLoadBalancers"),
                ("es", "list_domain_names", "ListDomainNames"),
                ("opensearch", "list_domain_names", "ListDomainNames"),
                ("apigateway", "get_rest_apis", "GetRestApis"),
                ("apigatewayv2", "get_apis", "GetApis"),
                ("cloudwatch", "describe_alarms", "DescribeAlarms")]


def test_each_call_is_counted_under_its_own_service_when_services_share_a_signing_name(fault_server):
    _, injector = fault_server
    for service, operation, _ in SIGNED_ALIKE:
        getattr(client(service), operation)()

    assert set(injector.actions) == {(REGION, service, action) for service, _, action in SIGNED_ALIKE}


def test_a_query_call_to_a_service_that_now_speaks_json_is_counted_under_its_action(fault_server):
    """Older SDKs (aws-nuke's) still send SQS the query protocol, with no X-Amz-Target."""
    endpoint, injector = fault_server
    queue_url = client("sqs").create_queue(QueueName="asked-in-query")["QueueUrl"]
    injector.clear()
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=f"{endpoint}/", data=urllib.parse.urlencode(
            {"Action": "DeleteQueue", "QueueUrl": queue_url, "Version": "2012-11-05"}),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    botocore.auth.SigV4Auth(boto3.Session().get_credentials(), "sqs", REGION).add_auth(request)
    urllib.request.urlopen(urllib.request.Request(request.url, data=request.body,
                                                  headers=dict(request.headers), method="POST")).read()

    assert injector.actions == {(REGION, "sqs", "DeleteQueue"): 1}


def test_a_request_tagged_after_signing_is_answered_and_counted_under_its_tag_too(fault_server):
    _, injector = fault_server
    ec2 = client("ec2")
    ec2.meta.events.register("before-send", lambda request, **_: request.headers.__setitem__(TAG_HEADER, "ec2.key_pairs"))
    ec2.create_key_pair(KeyName="tagged")
    client("ec2").describe_key_pairs()   # untagged: counted, but under no tag

    assert injector.actions == {(REGION, "ec2", "CreateKeyPair"): 1, (REGION, "ec2", "DescribeKeyPairs"): 1}
    assert injector.tagged == {(REGION, "ec2", "CreateKeyPair", "ec2.key_pairs"): 1}


def test_the_same_seed_gives_the_same_faults(fault_server):
    _, injector = fault_server
    ec2 = client("ec2", attempts=1)

    def fates(seed):
        injector.configure(Faults(throttle={"*": 0.5}, seed=seed))
        outcomes = []
        for _ in range(30):
            try:
                ec2.describe_key_pairs()
                outcomes.append("ok")
            except botocore.exceptions.ClientError as error:
                outcomes.append(error.response["Error"]["Code"])
        return outcomes

    first = fates(seed=1)
    assert fates(seed=1) == first
    assert fates(seed=2) != first
    assert 5 < first.count("ok") < 25


def test_late_attempts_are_spared(fault_server):
    _, injector = fault_server
    injector.configure(Faults(throttle={"*": 1.0}, spare_from_attempt=3))
    response = client("ec2", attempts=5).describe_key_pairs()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2


def test_mutating_rest_calls_are_told_apart_and_named(fault_server):
    _, injector = fault_server
    s3 = client("s3", region="us-east-1")
    s3.create_bucket(Bucket="named-bucket")
    s3.put_object(Bucket="named-bucket", Key="folder/object.txt", Body=b"x")
    s3.list_objects_v2(Bucket="named-bucket")
    upload = s3.create_multipart_upload(Bucket="named-bucket", Key="big.bin")
    s3.abort_multipart_upload(Bucket="named-bucket", Key="big.bin", UploadId=upload["UploadId"])
    s3.delete_objects(Bucket="named-bucket", Delete={"Objects": [{"Key": "folder/object.txt"}]})
    s3.delete_bucket(Bucket="named-bucket")

    assert [(c.action, c.resource_ids) for c in injector.calls] == [
        ("CreateBucket", ("named-bucket",)),
        ("PutObject", ("named-bucket", "folder/object.txt")),
        ("CreateMultipartUpload", ("named-bucket", "big.bin")),
        ("AbortMultipartUpload", ("named-bucket", "big.bin")),
        ("DeleteObjects", ("named-bucket",)),
        ("DeleteBucket", ("named-bucket",)),
    ]


def test_unsigned_requests_pass_untouched(fault_server):
    endpoint, injector = fault_server
    injector.configure(Faults(throttle={"*": 1.0}, errors={"*": 1.0}))
    sandbox.reset_server(endpoint)  # moto's own API: no signature, no service
    assert injector.counts["requests"] == 0


# Handlers when an answer is lost: the retry finds the work done


def test_an_upload_aborted_by_an_attempt_whose_answer_was_lost_is_not_a_failure(fault_server, make_reporter):
    _, injector = fault_server
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="lost-answer")
    s3.create_multipart_upload(Bucket="lost-answer", Key="unfinished.bin")
    injector.configure(Faults(errors_after={"s3:AbortMultipartUpload": 1.0}, spare_from_attempt=2))

    outcome = buckets.cleanup_bucket(boto3.Session(), "us-east-1", "lost-answer", make_reporter("us-east-1"),
                                     dry_run=False)

    assert outcome == "deleted"
    assert injector.counts[ERROR_AFTER] == 1


def test_a_rule_revoked_by_an_attempt_whose_answer_was_lost_is_not_a_failure(fault_server, make_reporter):
    _, injector = fault_server
    ec2 = boto3.client("ec2", region_name=REGION)
    a, b = (ec2.create_security_group(GroupName=n, Description=n)["GroupId"] for n in ("a", "b"))
    for group, other in ((a, b), (b, a)):
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "UserIdGroupPairs": [{"GroupId": other}]}])
    injector.configure(Faults(errors_after={"ec2:RevokeSecurityGroupIngress": 1.0}, spare_from_attempt=2))

    outcomes = security_groups.cleanup_security_groups(boto3.Session(), REGION, make_reporter(REGION), dry_run=False)

    assert outcomes == {a: "deleted", b: "deleted"}
    assert injector.counts[ERROR_AFTER] == 2


# Moto's own server errors: an exception inside moto (as "dictionary changed size during
# iteration" under concurrent requests) is answered by werkzeug with a 500 and an HTML page
# that starts with "<!doctype html>", which botocore's XML parsers cannot read and so never
# retried: one such answer to a listing failed a whole type in a region.


@pytest.fixture
def moto_fails_once(monkeypatch):
    """moto_fails_once(method, backend=EC2's): the first call of this backend method in the
    (in-process) moto server raises, as a moto bug does; returns a list of the calls made."""
    from moto.ec2.models import EC2Backend

    def fail_once(method, backend=EC2Backend):
        real, calls = getattr(backend, method), []

        def failing(self, *args, **kwargs):
            calls.append(method)
            if len(calls) == 1:
                raise RuntimeError("dictionary changed size during iteration")
            return real(self, *args, **kwargs)

        monkeypatch.setattr(backend, method, failing)
        return calls

    return fail_once


def test_the_identity_check_retries_an_html_server_error_too(fault_server, moto_fails_once):
    from moto.sts.models import STSBackend
    calls = moto_fails_once("get_caller_identity", STSBackend)

    assert (costcutter_aws.account_id(boto3.Session()), len(calls)) == ("123456789012", 2)


def test_an_html_server_error_from_moto_is_retried(fault_server, moto_fails_once):
    calls = moto_fails_once("describe_key_pairs")

    response = costcutter_aws.client(boto3.Session(), "ec2", REGION).describe_key_pairs()

    assert (response["KeyPairs"], response["ResponseMetadata"]["RetryAttempts"], len(calls)) == ([], 1, 2)


def test_amis_and_their_snapshots_survive_moto_failing_once_in_each_call(fault_server, moto_fails_once,
                                                                           make_reporter):
    ec2 = boto3.client("ec2", region_name=REGION)
    images = [amis.register_image(ec2, f"image-{n}") for n in range(3)]
    snapshots_made = [s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]]
    calls = [moto_fails_once(method) for method in ("describe_images", "deregister_image", "describe_snapshots",
                                                    "delete_snapshot")]
    reporter = make_reporter(REGION)

    outcomes = amis.cleanup_amis(boto3.Session(), REGION, reporter, dry_run=False)
    outcomes |= snapshots.cleanup_snapshots(boto3.Session(), REGION, reporter, dry_run=False)

    assert reporter.events("failed") == []
    assert outcomes == {resource: "deleted" for resource in images + snapshots_made}
    assert all(len(made) > 1 for made in calls)  # each failed once, and was asked again
    assert ec2.describe_images(Owners=["self"])["Images"] == ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"] == []


# A real run under faults

RUN_REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
# A third of the calls throttled, one in twenty failed or cut off, before or after moto
# acts. From the fourth attempt on a call goes through, so a run proves the faults are
# handled rather than that ten attempts in a row can all fail.
BAD_DAY = Faults(throttle={"*": 1 / 3}, errors={"*": 0.0125}, errors_after={"*": 0.0125}, resets={"*": 0.0125},
                 resets_after={"*": 0.0125}, seed=4, spare_from_attempt=4)


def test_a_real_run_on_a_bad_day_deletes_every_type_each_resource_once(fault_server, db_path):
    _, injector = fault_server
    made = {region: sandbox.seed(region) for region in (*RUN_REGIONS, GLOBAL_REGION)}
    injector.configure(BAD_DAY)
    injector.clear()

    run = subprocess.run(
        [sys.executable, "-m", "costcutter", "run", *[a for r in RUN_REGIONS for a in ("--region", r)],
         "--no-dry-run", "--yes", "--db", str(db_path)],
        env={**os.environ, "COSTCUTTER_WAIT_TIMEOUT": "120"}, capture_output=True, text=True, timeout=600)
    injector.configure(Faults())
    print(injector.summary(), *[call for call in injector.calls if call.fault in (ERROR_AFTER, RESET_AFTER)], sep="\n")

    store = EventStore(db_path)
    (run_id,) = [r["id"] for r in store.runs()]
    assert [(e["region"], e["service"], e["resource_type"], e["resource_id"], e["error_code"], e["message"])
            for e in store.events(run_id) if e["kind"] in ("failed", "region_crashed")] == []
    assert run.returncode == 0, run.stdout + run.stderr
    # The seed decides each call's fate: this one meets every kind of fault. (Change to
    # the calls a run makes may need another seed.)
    assert all(injector.counts[fault] > 0 for fault in (THROTTLED, ERROR, ERROR_AFTER, RESET, RESET_AFTER)), \
        injector.summary()
    for region in made:
        assert {kind: ids for kind, ids in sandbox.inventory(region).items() if ids} == {}, region
    # A deletion reached moto more than once only when the answer to an earlier one was
    # lost. Counted by id for EC2 and S3, whose ids are unique and which the injector reads
    # from every request (other services' seeded names repeat across types).
    readable = ("ec2", "s3")
    answered = injector.per_resource(deletions_of(t for t in registry.resource_types() if t.service in readable),
                                     answered=True)
    assert {resource: n for resource, n in answered.items() if n != 1} == {}
    seeded = {(region, rid) for region in RUN_REGIONS for key, ids in made[region].items()
              if key.split(".")[0] in readable for rid in ids}
    assert {resource for resource in seeded if answered[resource] != 1} == set()


def test_waiting_until_idle_outlasts_a_request_whose_client_gave_up(fault_server):
    """What the kill loop (costcutter/killloop.py) waits for after a kill: the requests the
    dead client had sent are over, and moto has acted on them."""
    _, injector = fault_server
    client("ec2").create_key_pair(KeyName="deleted-after-the-client-left")
    injector.configure(Faults(latency={"DeleteKeyPair": 0.5}))
    impatient = boto3.client("ec2", region_name=REGION, config=botocore.config.Config(
        retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=0.1))

    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        impatient.delete_key_pair(KeyName="deleted-after-the-client-left")

    assert injector.wait_until_idle(quiet=0.1)
    assert client("ec2").describe_key_pairs()["KeyPairs"] == []
    assert injector.per_resource(["ec2:DeleteKeyPair"], answered=True) == {(REGION, "deleted-after-the-client-left"): 1}
