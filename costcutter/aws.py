"""Sessions and clients, configured once: retries, connection pools, errors worth naming."""

import contextlib
import dataclasses
import functools
import threading
import time
import weakref

import boto3
import botocore.client
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.loaders
import botocore.regions
import botocore.session

# Throttling and transient errors are retried by botocore itself, with client-side rate
# limiting in adaptive mode, so no handler retries by hand. On top of that every call is
# paced (PACER, below) to the rates AWS documents, so a big sweep is rarely throttled at all.
RETRIES = {"mode": "adaptive", "max_attempts": 10}
# Both retry modes also retry a refused connection, with backoff: ten attempts take the
# better part of a minute. The identity check at the start is the one call that decides
# whether AWS can be reached at all, so it gets one retry and a short connect timeout.
IDENTITY_CHECK = botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=5)
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


DEFAULT_ROLE_SESSION_NAME = "costcutter"


@dataclasses.dataclass(frozen=True)
class Identity:
    """Who CostCutter acts as: a profile (None: AWS_PROFILE, else the default chain), and a
    role assumed with its credentials. Names only, never a secret: a run records it, and each
    region process makes its own session from it."""
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = None
    role_session_name: str | None = None


# One loader for every session of a process: it caches the service models it reads, which
# makes a client 10 times cheaper to create than with a loader of its own (a new session's),
# and lets the region processes inherit the models costcutter.warm loaded before they forked.
_LOADER = botocore.loaders.create_loader()


def _sharing_client_classes(create_client_class):
    """botocore builds a client's class anew for every client: a method for each operation
    of the service, each with its operation's model for the docstring (EC2 has 765), which
    is two thirds of a client's creation once the models are loaded. The class depends only
    on the service's model and on the handlers of `creating-client-class`, the same for
    every session made here (boto3's and botocore's own): so the clients of the sessions
    sharing _LOADER share one class per service model, made by load_models in the region
    server, before the region processes fork. Any other session's clients are made as usual."""
    classes = {}

    @functools.wraps(create_client_class)
    def shared(creator, service_name, service_model):
        if creator._loader is not _LOADER:
            return create_client_class(creator, service_name, service_model)
        key = (service_name, service_model.api_version)
        if key not in classes:
            classes[key] = create_client_class(creator, service_name, service_model)
        return classes[key]

    shared.unshared = create_client_class
    return shared


if not hasattr(botocore.client.ClientCreator._create_client_class, "unshared"):  # once, if this module is reloaded
    botocore.client.ClientCreator._create_client_class = _sharing_client_classes(
        botocore.client.ClientCreator._create_client_class)


def make_session(who: "Identity | str | None") -> boto3.Session:
    """A session for the profile (from aws_profile or AWS_PROFILE), else the default chain,
    with the role assumed when one is named; botocore reads the profile as soon as the
    session is made."""
    who = who if isinstance(who, Identity) else Identity(profile=who)
    try:
        session = _session_sharing_models(who.profile)
    except botocore.exceptions.ProfileNotFound as error:
        name = error.kwargs["profile"]
        raise AwsSetupError(f"AWS profile {name!r} is not configured; check AWS_PROFILE and aws_profile, "
                            f"or run `aws configure --profile {name}`") from None
    return _assuming_role(session, who) if who.role_arn else session


def _assuming_role(source: boto3.Session, who: Identity) -> boto3.Session:
    """A session whose credentials come from STS AssumeRole, made with the source session's
    credentials by botocore's own fetcher, asked for at the first call and refreshed before
    they expire (as for a profile with role_arn). Nothing of them is kept but in memory."""
    extra = {"RoleSessionName": who.role_session_name or DEFAULT_ROLE_SESSION_NAME}
    if who.external_id:
        extra["ExternalId"] = who.external_id

    def fetch():
        credentials = source.get_credentials()
        if credentials is None:
            raise botocore.exceptions.NoCredentialsError()
        sts = functools.partial(source.client, region_name=home_region(source))
        return botocore.credentials.AssumeRoleCredentialFetcher(
            client_creator=sts, source_credentials=credentials, role_arn=who.role_arn,
            extra_args=extra).fetch_credentials()

    core = botocore.session.Session(profile=who.profile)
    core._credentials = botocore.credentials.DeferredRefreshableCredentials(refresh_using=fetch, method="assume-role")
    return boto3.Session(botocore_session=core, region_name=source.region_name)


def load_models(services) -> None:
    """Read these services' models into the shared loader (all a client needs before its
    first call), so that the clients made afterwards, in this process or in one forked from
    it, need not read them. Dummy credentials: nothing is called, nor looked up."""
    session = _session_sharing_models(None)
    for service in services:
        made = session.client(service, region_name=HOME_REGION, aws_access_key_id="unused",
                              aws_secret_access_key="unused")
        # And its paginators' model, which the first listing reads (BaseClient.can_paginate, with these arguments).
        with contextlib.suppress(botocore.exceptions.DataNotFoundError):
            _LOADER.load_service_model(service, "paginators-1", made.meta.service_model.api_version)


def _session_sharing_models(profile: str | None) -> boto3.Session:
    botocore_session = botocore.session.Session()
    botocore_session.register_component("data_loader", _LOADER)
    session = boto3.Session(botocore_session=botocore_session, profile_name=profile)
    # Read the profile now, as a session with a loader of its own does when the loader is made:
    # a profile that does not exist is refused here (ProfileNotFound), not at the first call.
    botocore_session.get_scoped_config()
    # boto3 adds its own data folder to the loader of every session it makes: once is enough.
    _LOADER.search_paths[:] = list(dict.fromkeys(_LOADER.search_paths))
    return session


@functools.cache
def known_regions() -> frozenset[str]:
    """Every region botocore knows of, in every partition (aws, aws-cn, aws-us-gov, ...).

    Read from botocore's endpoint data, not through a session: checking a region name must
    not depend on the profile or credentials."""
    resolver = botocore.regions.EndpointResolver(_LOADER.load_data("endpoints"))  # read once: sessions read it too
    return frozenset(region for partition in resolver.get_available_partitions()
                     for region in resolver.get_available_endpoints("ec2", partition))


def client(session: boto3.Session, service: str, region: str, pool_size: int = 16):
    """A shared client per (session, service, region): boto3 clients are thread-safe, but
    creating them is not, and creating one per call would be slow. Every request it sends,
    retries included, is paced by PACER."""
    with _clients_lock:
        clients = _clients.setdefault(session, {})
        if (service, region) not in clients:
            config = botocore.config.Config(retries=RETRIES, max_pool_connections=pool_size)
            made = session.client(service, region_name=region, config=config)
            made.meta.events.register_first("needs-retry", _note_attempt)
            made.meta.events.register("before-parse", _read_html_server_errors_as_generic)
            made.meta.events.register("before-send", functools.partial(_pace, region, service))
            clients[service, region] = made
        return clients[service, region]


def _read_html_server_errors_as_generic(response_dict, **_):
    """A 5xx whose body is an HTML page (a proxy's, or a web server's for an exception it did
    not handle: werkzeug's starts with "<!doctype html>") is a server error like any other.
    botocore reads only a body starting with "<html>" (or none) so; the XML parsers of EC2 and
    query APIs choke on any other page with a ResponseParserError that is never retried.
    Without the page, botocore reads a generic 500 and retries it, as many times as any."""
    body = response_dict.get("body")
    if (response_dict.get("status_code", 0) >= 500 and isinstance(body, bytes)
            and body.lstrip()[:14].lower().startswith((b"<!doctype html", b"<html"))):
        response_dict["body"] = b""


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


# Pacing

@dataclasses.dataclass(frozen=True)
class Rate:
    burst: float        # tokens a full bucket holds: calls that may go at once
    per_second: float   # tokens added back each second


# AWS keeps a token bucket per account, region and EC2 API action, sized by the action's
# kind (https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html). Other
# services publish no such numbers, so they get one generous bucket each.
EC2_ACTION_RATES = {"TerminateInstances": Rate(100, 5), "DeleteNatGateway": Rate(10, 1)}
EC2_MUTATING_RATE = Rate(50, 5)
EC2_NON_MUTATING_RATE = Rate(100, 20)
DEFAULT_RATE = Rate(100, 50)
READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Head", "Search", "Lookup", "Query", "Scan", "BatchGet")


def is_mutating(action: str) -> bool:
    """Whether an API action changes something (AWS's "mutating"): anything but a read."""
    return not action.startswith(READ_ONLY_PREFIXES)


def api_family(service: str, action: str) -> tuple[str, Rate]:
    """The bucket a call draws from, and its size."""
    if service != "ec2":
        return service, DEFAULT_RATE
    if action in EC2_ACTION_RATES:
        return f"ec2:{action}", EC2_ACTION_RATES[action]
    return f"ec2:{action}", EC2_MUTATING_RATE if is_mutating(action) else EC2_NON_MUTATING_RATE


class TokenBucket:
    """A token bucket, thread-safe; the clock is injectable so tests need not wait."""

    def __init__(self, rate: Rate, clock=time.monotonic):
        self.rate, self._clock = rate, clock
        self._tokens, self._updated = float(rate.burst), clock()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token, borrowing against the refill when there is none; returns the
        seconds to wait until the token borrowed exists. Borrowing keeps callers in order
        without holding the lock while they wait."""
        with self._lock:
            self._refill()
            self._tokens -= 1
            return max(0.0, -self._tokens / self.rate.per_second)

    def try_take(self) -> bool:
        """Take a token if there is one now."""
        with self._lock:
            self._refill()
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def _refill(self):
        now = self._clock()
        self._tokens = min(self.rate.burst, self._tokens + (now - self._updated) * self.rate.per_second)
        self._updated = now


class Pacer:
    """A token bucket per (region, API family), shared by every client and thread of a
    process; a call waits for its token before it is sent."""

    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self._clock, self._sleep = clock, sleep
        self._buckets: dict[tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.waits = 0          # calls that had to wait, and for how long in all
        self.waited = 0.0

    def wait(self, region: str, service: str, action: str) -> float:
        family, rate = api_family(service, action)
        with self._lock:
            bucket = self._buckets.get((region, family))
            if bucket is None:
                bucket = self._buckets[region, family] = TokenBucket(rate, self._clock)
        delay = bucket.reserve()
        if delay:
            with self._lock:
                self.waits += 1
                self.waited += delay
            self._sleep(delay)
        return delay


PACER = Pacer()


def _pace(region, service, event_name, **kwargs):
    # A before-send handler that returned something would stand in for the response.
    PACER.wait(region, service, event_name.rsplit(".", 1)[-1])


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


def account_id(session: boto3.Session, alongside=None) -> str:
    """The account the credentials belong to; raises AwsSetupError when there are none that work.
    `alongside` (no arguments) is called once the credentials are resolved, just before the
    call: to start, in a thread, a call that need not wait for this one's answer."""
    try:
        sts = _identity_client(session)
        if alongside is not None:
            alongside()
        return sts.get_caller_identity()["Account"]
    except (botocore.exceptions.NoCredentialsError, botocore.exceptions.PartialCredentialsError):
        raise AwsSetupError("no AWS credentials found; set AWS_PROFILE (or aws_profile), or "
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY") from None
    except (botocore.exceptions.CredentialRetrievalError, botocore.exceptions.InvalidConfigError) as error:
        # A profile's credential_process that fails, a role whose source_profile loops back to it, ...
        raise AwsSetupError(f"cannot load the AWS credentials ({error}); fix the profile in your AWS config, "
                            "or pick another profile") from None
    except botocore.exceptions.ClientError as error:
        if error_code(error) in CREDENTIAL_ERROR_CODES:
            raise AwsSetupError(f"AWS rejected the credentials ({error_code(error)}); refresh them or pick another profile") from None
        raise
    except botocore.exceptions.ConnectionError as error:  # refused, timed out, or a proxy in the way
        raise AwsSetupError(f"cannot reach AWS ({error}); check the network or AWS_ENDPOINT_URL") from None


@functools.lru_cache(maxsize=64)
def caller_identity(sts) -> dict:
    """GetCallerIdentity through this shared client, asked once: who the credentials are does
    not change during a run, and each IAM type (to spare the running identity) and each region
    with transit gateways (to know its own) asks."""
    return sts.get_caller_identity()


def _identity_client(session: boto3.Session):
    try:
        sts = session.client("sts", region_name=home_region(session), config=IDENTITY_CHECK)
    except ValueError as error:  # how botocore refuses an endpoint URL that is not one
        raise AwsSetupError(f"AWS_ENDPOINT_URL (or the profile's endpoint_url) is not a URL: {error}; set it to one "
                            "like https://sts.amazonaws.com, or unset it") from None
    sts.meta.events.register("before-parse", _read_html_server_errors_as_generic)
    return sts


def enabled_regions(session: boto3.Session) -> list[str]:
    ec2 = client(session, "ec2", home_region(session))
    return sorted({r["RegionName"] for r in ec2.describe_regions(AllRegions=False)["Regions"]})
