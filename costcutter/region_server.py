"""The server region processes fork from (multiprocessing's forkserver). It imports
costcutter.warm once, so a region process starts with boto3, every resource type and their
service models loaded, instead of importing and reading them all again as a spawned process
would; and it is never this process forked, whose threads make fork unsafe.

Kept free of heavy imports, so the CLI can start the server first and let it warm up while
the run is being prepared (configuration, identity check, confirmation)."""

import multiprocessing
import os

PRELOAD = ["costcutter.warm"]
# The services whose models costcutter.warm loads (comma-separated; all when unset): the
# server's one input, set in the environment it starts with, and in no other (COSTCUTTER_*
# names are the configuration's, which warns of those it does not know).
SERVICES_VARIABLE = "WARM_SERVICES_OF_COSTCUTTER"


def context():
    """The multiprocessing context of region processes."""
    forking = multiprocessing.get_context("forkserver")
    forking.set_forkserver_preload(PRELOAD)
    return forking


def start(services=None) -> None:
    """Start the server now (it is started on first use otherwise), to load the models of
    these services (None: of every type's); idempotent."""
    import multiprocessing.forkserver

    context()
    if services is not None:
        os.environ[SERVICES_VARIABLE] = ",".join(sorted(set(services)))
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        os.environ.pop(SERVICES_VARIABLE, None)
