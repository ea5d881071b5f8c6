"""A local AWS sandbox: a moto server on 127.0.0.1, seeded with resources that cost money.

Used by `costcutter demo` and by the tests that cross process boundaries. It never talks
to real AWS: the server is local, and the credentials it sets are dummies.
"""

import contextlib
import os

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


def use_sandbox_environment(endpoint: str | None = None) -> None:
    os.environ.pop("AWS_PROFILE", None)
    os.environ.update(SANDBOX_ENVIRONMENT)
    if endpoint:
        os.environ["AWS_ENDPOINT_URL"] = endpoint


def fill_moto_gaps() -> None:
    """Teach moto the calls CostCutter makes that it lacks, each answering what AWS would
    for what moto can hold.

    IAM service-specific credentials (CodeCommit, Keyspaces, Bedrock) cannot be created
    in moto, so every user it has has none; the step that deletes them is tested against
    AWS's response shapes with botocore's Stubber (tests/test_global.py).
    """
    from moto.core.responses import ActionResult
    from moto.iam.responses import IamResponse

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
    return [t for t in resource_types() if t.is_global == (region == GLOBAL_REGION)]
