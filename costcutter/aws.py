"""Sessions and clients, configured once: retries, connection pools, errors worth naming."""

import contextlib
import threading
import weakref

import boto3
import botocore.config
import botocore.exceptions

# Throttling and transient errors are retried by botocore itself, with client-side rate
# limiting in adaptive mode, so no handler retries by hand.
RETRIES = {"mode": "adaptive", "max_attempts": 10}
HOME_REGION = "us-east-1"  # where account-wide calls (STS, DescribeRegions) go without a profile region

CREDENTIAL_ERROR_CODES = {
    "InvalidClientTokenId", "UnrecognizedClientException", "SignatureDoesNotMatch", "ExpiredToken",
    "ExpiredTokenException", "AuthFailure", "InvalidAccessKeyId", "AccessDenied",
}


# Codes that mean "not now": the request was refused before AWS acted on it.
THROTTLING_CODES = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "RequestThrottled",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
    "BandwidthLimitExceeded", "LimitExceededException", "SlowDown", "EC2ThrottledException",
    "PriorRequestNotComplete", "TransactionInProgressException",
}


class AwsSetupError(Exception):
    """Credentials or profile problems, worded for the person who has to fix them."""


_clients: "weakref.WeakKeyDictionary[boto3.Session, dict]" = weakref.WeakKeyDictionary()
_clients_lock = threading.Lock()


def make_session(profile: str | None) -> boto3.Session:
    try:
        return boto3.Session(profile_name=profile)
    except botocore.exceptions.ProfileNotFound:
        raise AwsSetupError(f"AWS profile {profile!r} is not configured; check aws_profile or run `aws configure --profile {profile}`") from None


def client(session: boto3.Session, service: str, region: str, pool_size: int = 16):
    """A shared client per (session, service, region): boto3 clients are thread-safe, but
    creating them is not, and creating one per call would be slow."""
    with _clients_lock:
        clients = _clients.setdefault(session, {})
        if (service, region) not in clients:
            config = botocore.config.Config(retries=RETRIES, max_pool_connections=pool_size)
            made = session.client(service, region_name=region, config=config)
            made.meta.events.register_first("needs-retry", _note_attempt)
            clients[service, region] = made
        return clients[service, region]


class _RetryWatch:
    may_have_acted = False


_watches = threading.local()


@contextlib.contextmanager
def watching_retries():
    """Tell whether a call that botocore retried may have been acted on by an earlier
    attempt whose answer was lost (a reset, a 500 after AWS acted): then an error saying
    the resource is gone is the sign of our own success, not of someone else's."""
    watch, previous = _RetryWatch(), getattr(_watches, "current", None)
    _watches.current = watch
    try:
        yield watch
    finally:
        _watches.current = previous


def _note_attempt(response=None, caught_exception=None, **_):
    watch = getattr(_watches, "current", None)
    if watch is None:
        return None  # never decides a retry: botocore's own handler does
    if caught_exception is not None:
        # A connection that never opened sent nothing; any other failure may have come after AWS acted.
        if not isinstance(caught_exception, (botocore.exceptions.EndpointConnectionError,
                                             botocore.exceptions.ConnectTimeoutError)):
            watch.may_have_acted = True
    elif response is not None:
        http, parsed = response
        if http.status_code >= 500 and parsed.get("Error", {}).get("Code") not in THROTTLING_CODES:
            watch.may_have_acted = True
    return None


def error_code(error: Exception) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return error.response.get("Error", {}).get("Code", "Unknown")
    return type(error).__name__


def error_message(error: Exception) -> str:
    if isinstance(error, botocore.exceptions.ClientError):
        return error.response.get("Error", {}).get("Message", str(error))
    return str(error)


def client_error(code: str, message: str, operation: str) -> botocore.exceptions.ClientError:
    """An error of CostCutter's own making, shaped as AWS's are, for what AWS answers in a
    response body (DeleteTaskDefinitions' failures) or for a refusal decided before asking."""
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


@contextlib.contextmanager
def ignoring(*codes: str):
    """Let a ClientError with one of these codes pass: a step whose work turned out to be
    done already."""
    try:
        yield
    except botocore.exceptions.ClientError as error:
        if error_code(error) not in codes:
            raise


def home_region(session: boto3.Session) -> str:
    return session.region_name or HOME_REGION


def account_id(session: boto3.Session) -> str:
    """The account the credentials belong to; raises AwsSetupError when there are none that work."""
    try:
        return client(session, "sts", home_region(session)).get_caller_identity()["Account"]
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError):
        raise AwsSetupError("no AWS credentials found; set AWS_PROFILE (or aws_profile), or "
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from None
    except botocore.exceptions.ClientError as error:
        if error_code(error) in CREDENTIAL_ERROR_CODES:
            raise AwsSetupError(f"AWS rejected the credentials ({error_code(error)}); refresh them or pick another profile") from None
        raise
    except botocore.exceptions.EndpointConnectionError as error:
        raise AwsSetupError(f"cannot reach AWS ({error}); check the network or AWS_ENDPOINT_URL") from None


def enabled_regions(session: boto3.Session) -> list[str]:
    ec2 = client(session, "ec2", home_region(session))
    return sorted(r["RegionName"] for r in ec2.describe_regions(AllRegions=False)["Regions"])
