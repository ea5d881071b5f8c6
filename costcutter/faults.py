"""A moto server that misbehaves like AWS on a bad day, for tests and for trying things by hand.

FaultInjector is WSGI middleware around moto's application. It tells each signed request's
region, service and action apart (and counts requests per action), and, as a Faults declaration says, slows it down,
throttles it with the error its protocol really uses, answers 500 or 503 before or after
moto acted on it, or drops the connection without an answer. It records every mutating
request that reaches it, so a test can prove from the server's side that nothing was
deleted twice, and counts what it did and every action it was asked (what a run listed, where).

    injector = FaultInjector(Faults(latency={"*": 0.05}, throttle={"ec2:Describe*": 1/3},
                                    errors_after={"ec2:Delete*": 0.05}, seed=7))
    server, endpoint = sandbox.start_server(wrap_app=injector.around)

Requests without a SigV4 signature (moto's own /moto-api) pass through untouched. A request
may name what sent it in a TAG_HEADER (the benchmark tags each of CostCutter's requests with
the resource type whose work sent it): the injector counts actions per tag too.
"""

import collections
import dataclasses
import fnmatch
import functools
import io
import json
import random
import re
import socket
import threading
import time
import urllib.parse

import boto3
import botocore.exceptions
import botocore.session

from costcutter.aws import Rate, TokenBucket, is_mutating

THROTTLED, ERROR, ERROR_AFTER, RESET, RESET_AFTER = "throttled", "error", "error_after", "reset", "reset_after"
_RANDOM_FAULTS = {ERROR: "errors", ERROR_AFTER: "errors_after", RESET: "resets", RESET_AFTER: "resets_after"}

# protocol -> (HTTP status, code) AWS answers a throttled request with
_THROTTLING = {"ec2": (503, "RequestLimitExceeded"), "query": (400, "Throttling"), "rest-xml": (400, "Throttling"),
               "json": (400, "ThrottlingException"), "rest-json": (429, "TooManyRequestsException"),
               "s3": (503, "SlowDown")}
_SERVER_ERRORS = {500: "InternalError", 503: "ServiceUnavailable"}
_RESOURCE_NAMING = re.compile(r"(Id|Ids|Name|Names|Arn)$")
TAG_HEADER = "X-Bench-Type"   # unsigned: added after signing; moto ignores it


@dataclasses.dataclass(frozen=True)
class Faults:
    """What to do to requests. Each field maps patterns to a value; a pattern is a glob of
    "service:Action" ("ec2:Delete*", "s3:*") or of the action alone, in every service
    ("*", "Describe*"), and the first pattern that matches a request wins.

    errors, errors_after, resets and resets_after are probabilities: of a 500 or 503
    before moto sees the request, of moto acting and its answer being replaced by a 500
    or 503, and of the connection being closed without an answer, before or after moto
    acts. throttle values are a probability, or a Rate: a token bucket per region and
    pattern (with buckets_per_action, per region and action, as AWS's EC2 keeps them: the
    pattern then only chooses the size), throttling whatever finds it empty.
    """

    latency: dict[str, float] = dataclasses.field(default_factory=dict)   # seconds added
    throttle: dict[str, float | Rate] = dataclasses.field(default_factory=dict)
    errors: dict[str, float] = dataclasses.field(default_factory=dict)
    errors_after: dict[str, float] = dataclasses.field(default_factory=dict)
    resets: dict[str, float] = dataclasses.field(default_factory=dict)
    resets_after: dict[str, float] = dataclasses.field(default_factory=dict)
    seed: int = 0
    # From this attempt on (botocore's amz-sdk-request header counts them) a request goes
    # through untouched, so a test proves faults are handled, not that retries run out.
    spare_from_attempt: int | None = None
    buckets_per_action: bool = False

    def pick(self, field: str, service: str, action: str):
        """(pattern, value) of the first pattern of `field` matching the call, or (None, None)."""
        for pattern, value in getattr(self, field).items():
            if matches(pattern, service, action):
                return pattern, value
        return None, None


def matches(pattern: str, service: str, action: str) -> bool:
    """Whether a "service:Action" glob, or an action glob for every service, covers a call."""
    return fnmatch.fnmatchcase(f"{service}:{action}", pattern if ":" in pattern else f"*:{pattern}")


@dataclasses.dataclass(frozen=True)
class Call:
    """A mutating request as the server saw it, and what the injector did to it."""
    region: str
    service: str
    action: str
    resource_ids: tuple[str, ...]
    fault: str | None   # None (untouched), or THROTTLED, ERROR, ERROR_AFTER, RESET, RESET_AFTER

    @property
    def reached_moto(self) -> bool:
        return self.fault in (None, ERROR_AFTER, RESET_AFTER)


@dataclasses.dataclass(frozen=True)
class Request:
    region: str
    service: str
    protocol: str
    action: str
    resource_ids: tuple[str, ...]
    attempt: int
    tag: str | None = None   # what sent it, as its TAG_HEADER says

    @property
    def answerable(self) -> bool:
        """Whether the injector can answer in the request's protocol (not CloudWatch's CBOR):
        other requests are slowed down and counted, never failed."""
        return self.protocol in _THROTTLING


class FaultInjector:
    """WSGI middleware around moto: applies Faults, records mutating calls, counts faults."""

    def __init__(self, faults: Faults | None = None, app=None):
        self.app = app
        self._lock = threading.Lock()
        self._in_flight = 0
        self._last_seen = time.monotonic()
        self.configure(faults or Faults())
        self.clear()

    def around(self, app):
        """For sandbox.start_server(wrap_app=...)."""
        self.app = app
        return self

    def configure(self, faults: Faults) -> None:
        """Apply other faults from now on, with fresh buckets and random streams."""
        with self._lock:
            self.faults = faults
            self._buckets: dict[tuple[str, str], TokenBucket] = {}
            self._randoms: dict[tuple[str, str, str], random.Random] = {}

    def clear(self) -> None:
        """Forget the calls recorded and the counts."""
        with self._lock:
            self.calls: list[Call] = []
            self.counts: collections.Counter = collections.Counter()
            # (region, service, action) -> requests, reading ones too: what a run listed, and where
            self.actions: collections.Counter = collections.Counter()
            # (region, service, action, fault) -> requests it befell
            self.faulted: collections.Counter = collections.Counter()
            # (region, service, action, tag) -> requests, of those with a TAG_HEADER
            self.tagged: collections.Counter = collections.Counter()

    def per_resource(self, patterns, answered: bool = False) -> collections.Counter:
        """(region, resource id) -> how many requests naming it reached moto, of the actions
        the patterns cover ("ec2:Delete*", "s3:DeleteBucket"); with answered, only those
        whose answer got back to the client."""
        return collections.Counter(
            (call.region, resource_id) for call in list(self.calls)
            if (call.fault is None if answered else call.reached_moto)
            and any(matches(p, call.service, call.action) for p in patterns)
            for resource_id in call.resource_ids)

    def wait_until_idle(self, quiet: float = 0.3, timeout: float = 30) -> bool:
        """Wait until no signed request has been in the server for `quiet` seconds; False
        if that takes longer than `timeout`. After a client is killed, the requests it had
        sent are then over: moto has acted on them, or never will, as when AWS outlives a
        client that dies."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                idle = self._in_flight == 0 and time.monotonic() - self._last_seen >= quiet
            if idle:
                return True
            time.sleep(0.02)
        return False

    def summary(self) -> str:
        counts = self.counts
        return (f"{counts['requests']} requests ({counts['retries']} retries): {counts[THROTTLED]} throttled, "
                f"{counts[ERROR]} errors and {counts[RESET]} resets before moto acted, "
                f"{counts[ERROR_AFTER]} errors and {counts[RESET_AFTER]} resets after")

    def __call__(self, environ, start_response):
        request = identify(environ)
        if request is None:
            return self.app(environ, start_response)
        self._count_in_flight(+1)
        try:
            return self._answer(environ, start_response, request)
        finally:
            self._count_in_flight(-1)

    def _count_in_flight(self, change: int) -> None:
        with self._lock:
            self._in_flight += change
            self._last_seen = time.monotonic()

    def _answer(self, environ, start_response, request: Request):
        faults = self.faults
        _, latency = faults.pick("latency", request.service, request.action)
        if latency:
            time.sleep(latency)
        fault = self._decide(faults, request)
        self._note(request, fault)
        if fault == THROTTLED:
            return _error_response(start_response, request, *_THROTTLING[_error_style(request)],
                                   "Rate exceeded (injected)")
        if fault in (ERROR, RESET):
            return self._fail(environ, start_response, request, fault)
        response = self.app(environ, start_response if fault is None else _discard)
        if fault is None:
            return response
        _consume(response)  # moto has acted; what it answered is lost
        return self._fail(environ, start_response, request, fault)

    def _decide(self, faults: Faults, request: Request) -> str | None:
        if faults.spare_from_attempt and request.attempt >= faults.spare_from_attempt:
            return None
        pattern, throttle = faults.pick("throttle", request.service, request.action)
        if not request.answerable:
            return None
        if isinstance(throttle, Rate):
            bucket = f"{request.service}:{request.action}" if faults.buckets_per_action else pattern
            if not self._bucket(request.region, bucket, throttle).try_take():
                return THROTTLED
            throttle = None
        chances = [(THROTTLED, throttle)] + [(fault, faults.pick(field, request.service, request.action)[1])
                                             for fault, field in _RANDOM_FAULTS.items()]
        draw = self._random(faults, request).random()
        for fault, chance in chances:
            if draw < (chance or 0):
                return fault
            draw -= chance or 0
        return None

    def _random(self, faults: Faults, request: Request) -> random.Random:
        """One random stream per (region, service, action): the nth call of an action meets
        the same fate in every run with the same seed, however threads interleave."""
        key = (request.region, request.service, request.action)
        with self._lock:
            if key not in self._randoms:
                self._randoms[key] = random.Random(f"{faults.seed}:{':'.join(key)}")
            return self._randoms[key]

    def _bucket(self, region: str, pattern: str, rate: Rate) -> TokenBucket:
        with self._lock:
            if (region, pattern) not in self._buckets:
                self._buckets[region, pattern] = TokenBucket(rate)
            return self._buckets[region, pattern]

    def _note(self, request: Request, fault: str | None) -> None:
        with self._lock:
            self.counts["requests"] += 1
            self.actions[request.region, request.service, request.action] += 1
            self.counts["retries"] += request.attempt > 1
            if request.tag:
                self.tagged[request.region, request.service, request.action, request.tag] += 1
            if fault:
                self.counts[fault] += 1
                self.faulted[request.region, request.service, request.action, fault] += 1
            if is_mutating(request.action):
                self.calls.append(Call(request.region, request.service, request.action, request.resource_ids, fault))

    def _fail(self, environ, start_response, request: Request, fault: str):
        if fault in (RESET, RESET_AFTER):
            _drop_connection(environ)
        status = self._random(self.faults, request).choice(sorted(_SERVER_ERRORS))
        return _error_response(start_response, request, status, _SERVER_ERRORS[status], f"injected {fault}")


def _discard(status, headers, exc_info=None):
    return lambda data: None


def _consume(response) -> None:
    try:
        for _ in response:
            pass
    finally:
        getattr(response, "close", lambda: None)()


def _drop_connection(environ):
    """Close the connection without an answer: werkzeug's server treats a ConnectionError
    from the application as a dropped connection and sends nothing; shutting the socket
    down makes the client see it at once instead of waiting for its read timeout."""
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        connection.shutdown(socket.SHUT_RDWR)
    raise ConnectionResetError("connection reset (injected)")


# Telling requests apart

def identify(environ) -> Request | None:
    """The region, service, protocol and action of a SigV4-signed request, or None when it
    is unsigned. Services that share a signing name (elb and elbv2, es and opensearch,
    apigateway and apigatewayv2) are told apart by what the request asks for."""
    credential = re.search(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    if not credential:
        return None
    region, signing_name = credential.groups()
    model, (action, named) = _recognised(signing_name, environ)
    if model is None:
        return None
    attempt = re.search(r"attempt=(\d+)", environ.get("HTTP_AMZ_SDK_REQUEST", ""))
    return Request(region, model.service_name, _protocol(model, environ), action, tuple(named),
                   int(attempt.group(1)) if attempt else 1,
                   environ.get("HTTP_" + TAG_HEADER.upper().replace("-", "_")))


def _protocol(model, environ) -> str:
    """The protocol a request is in: its service's, or for a service that speaks several
    (CloudWatch: CBOR, JSON, query), the one its headers show."""
    spoken = model.metadata.get("protocols") or [model.protocol]
    if model.protocol == "json" and "HTTP_X_AMZ_TARGET" not in environ \
            and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return "query"  # an older SDK's call to a service that spoke query before JSON (SQS: aws-nuke's)
    if len(spoken) == 1:
        return model.protocol
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return "smithy-rpc-v2-cbor"
    return "json" if "HTTP_X_AMZ_TARGET" in environ else "query"


def _recognised(signing_name: str, environ):
    """(model, (action, resource ids)) of the first service signing with this name that
    has the request's operation; failing that, the first service's reading of it."""
    first = None
    for model in _models_signed_as(signing_name):
        found = _operation(model, environ)
        if found:
            return model, found
        first = first or model
    return (first, _operation(first, environ, strict=False)) if first else (None, (None, None))


def _operation(model, environ, strict: bool = True) -> tuple[str, list[str]] | None:
    """(action, the resource ids it names) of a request in a service's protocol; None,
    when strict, if the request is not one of this service's operations."""
    protocol = _protocol(model, environ)
    if protocol in ("ec2", "query"):
        params = urllib.parse.parse_qsl(_body(environ).decode() or environ.get("QUERY_STRING", ""))
        values = dict(params)
        action = values.get("Action", "")
        ours = action in model.operation_names and values.get("Version", model.api_version) == model.api_version
        named = [value for key, value in params if _RESOURCE_NAMING.search(key.split(".")[0])]
    elif protocol == "json":
        prefix, _, action = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")
        ours = prefix == model.metadata.get("targetPrefix")
        named = [value for key, value in _json_body(environ).items()
                 if _RESOURCE_NAMING.search(key) and isinstance(value, str)]
    elif protocol == "smithy-rpc-v2-cbor":  # CloudWatch's: /service/<service id>/operation/<action>
        action = environ.get("PATH_INFO", "").rpartition("/operation/")[2]
        ours, named = action in model.operation_names, []
    else:
        action, labels = _rest_operation(model.service_name, environ)
        ours, named = action in model.operation_names, list(labels.values())
    return (action, named) if ours or not strict else None


def _json_body(environ) -> dict:
    """A JSON request's body; {} for one that is not a JSON object (a peer's SDK may send
    an empty or encoded body), which moto answers as it will."""
    try:
        body = json.loads(_body(environ) or b"{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _body(environ) -> bytes:
    """The request body, read once and put back for moto to read again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


_botocore = botocore.session.get_session()


def _models_signed_as(signing_name: str):
    """botocore's models of the services whose requests are signed with this name: the
    service of that name first (most are alone and need no search), then the others
    (elbv2 signs as elasticloadbalancing, opensearch as es, cloudwatch as monitoring)."""
    own = _own_model(signing_name)
    if own is not None:
        yield own
    yield from (model for model in signing_index().get(signing_name, ()) if model is not own)


@functools.cache
def _own_model(name: str):
    try:
        return _botocore.get_service_model(name)
    except botocore.exceptions.UnknownServiceError:
        return None


@functools.cache
def signing_index() -> dict[str, tuple]:
    """Signing name -> the models of the services that sign with it. Reading every model
    takes seconds: a benchmark calls this before it times anything."""
    index = collections.defaultdict(list)
    for name in _botocore.get_available_services():
        model = _own_model(name)
        index[model.signing_name].append(model)
    return {signing_name: tuple(models) for signing_name, models in index.items()}


@dataclasses.dataclass(frozen=True)
class _Route:
    operation: str
    method: str
    path: re.Pattern
    query: tuple[tuple[str, str | None], ...]   # (name, value or None for any) the request must have
    headers: tuple[str, ...]                     # headers the request must have (WSGI spelling)


@functools.cache
def _rest_routes(service_name: str) -> tuple[_Route, ...]:
    """A route per operation of a REST service, from its requestUri: the most specific
    routes (most required query keys and headers, longest path) first."""
    model = _botocore.get_service_model(service_name)
    routes = []
    for name in model.operation_names:
        operation = model.operation_model(name)
        path, _, query = operation.http["requestUri"].partition("?")
        needed = [(key, value or None) for key, _, value in
                  (pair.partition("=") for pair in query.split("&") if pair)]
        headers = []
        shape = operation.input_shape
        for member in (shape.required_members if shape else []):
            where = shape.members[member].serialization
            if where.get("location") == "querystring":
                needed.append((where["name"], None))
            elif where.get("location") == "header":
                headers.append("HTTP_" + where["name"].upper().replace("-", "_"))
        routes.append(_Route(name, operation.http["method"], _path_pattern(path), tuple(needed), tuple(headers)))
    return tuple(sorted(routes, key=lambda r: (-len(r.query) - len(r.headers), -len(r.path.pattern))))


def _path_pattern(template: str) -> re.Pattern:
    """"/{Bucket}/{Key+}" -> a regex with a named group per label; a label with + spans slashes."""
    pattern, end = "", 0
    for label in re.finditer(r"\{(\w+)(\+?)\}", template):
        pattern += re.escape(template[end:label.start()])
        pattern += f"(?P<{label.group(1)}>{'.+' if label.group(2) else '[^/]+'})"
        end = label.end()
    return re.compile(pattern + re.escape(template[end:]).rstrip("/") + "/?")


def _rest_operation(service_name: str, environ) -> tuple[str, dict[str, str]]:
    """(operation, path labels) of a REST request; the HTTP method when nothing matches."""
    method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/")
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    for route in _rest_routes(service_name):
        match = route.method == method and route.path.fullmatch(path)
        if (match and all(header in environ for header in route.headers)
                and all(key in query and value in (None, query[key][0]) for key, value in route.query)):
            return route.operation, match.groupdict()
    return method, {}


# Answering in each protocol's own error format

def _error_style(request: Request) -> str:
    """S3 answers in an error format of its own; every other service in its protocol's."""
    return "s3" if request.service == "s3" else request.protocol


def _error_response(start_response, request: Request, status: int, code: str, message: str):
    protocol = _error_style(request)
    request_id = "injected-fault"
    headers = [("x-amzn-RequestId", request_id)]
    if protocol in ("json", "rest-json"):
        headers += [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
        body = json.dumps({"__type": code, "message": message})
    else:
        headers.append(("Content-Type", "text/xml"))
        error = f"<Code>{code}</Code><Message>{message}</Message>"
        body = {"ec2": f"<Response><Errors><Error>{error}</Error></Errors><RequestID>{request_id}</RequestID></Response>",
                "s3": f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"}.get(
            protocol, f"<ErrorResponse><Error><Type>Sender</Type>{error}</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    encoded = body.encode()
    start_response(f"{status} {_REASONS[status]}", headers + [("Content-Length", str(len(encoded)))])
    return [encoded]


_REASONS = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


def deletions_of(types) -> tuple[str, ...]:
    """The "service:Action" patterns of the deletions (last steps) of these resource types,
    from their declarations: what a test counts to prove nothing was deleted twice. A
    deletion made by a function of the type's own (not `call`) is matched by its verb."""
    patterns = set()
    for rtype in types:
        service, actions = declared_actions(rtype)
        patterns.add(f"{service}:{actions[-1] or 'Delete*'}")
    return tuple(sorted(patterns))


def declared_actions(rtype) -> tuple[str, list[str | None]]:
    """The service of a type's calls, and the API action of each step of its teardown (then
    of its batch deletion, if it has one): None for a function of the type's own."""
    client = _client(rtype.client)
    calls = [step.call for step in rtype.steps] + ([rtype.batch.call] if rtype.batch else [])
    return (client.meta.service_model.service_name,
            [client.meta.method_to_api_mapping.get(call.__name__) for call in calls])


@functools.cache
def _client(name: str):
    return boto3.client(name, region_name="us-east-1")
