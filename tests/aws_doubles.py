"""For the service tests: watch the calls the handlers make through their shared clients,
or answer them with botocore's Stubber where moto lacks an API. The Stubber checks every
answer against the service model, so a stubbed answer has AWS's real shape."""

import contextlib

from botocore.stub import Stubber

from costcutter import aws


def watch(session, service: str, region: str, operation: str) -> list[dict]:
    """The parameters of each `operation` call (e.g. "DeleteDBInstance") made through the shared client."""
    seen = []
    client = aws.client(session, service, region)
    event = f"provide-client-params.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, lambda params, **_: seen.append(dict(params)))
    return seen


@contextlib.contextmanager
def stubbed(session, service: str, region: str):
    """A Stubber on the shared client: every call must be one added to it, in order, and all must be made."""
    with Stubber(aws.client(session, service, region)) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()
