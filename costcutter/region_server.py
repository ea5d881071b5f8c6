"""The server region processes fork from (multiprocessing's forkserver). It imports
costcutter.warm once, so a region process starts with boto3, every resource type and their
service models loaded, instead of importing and reading them all again as a spawned process
would; and it is never this process forked, whose threads make fork unsafe.

Kept free of heavy imports, so the CLI can start the server first, before it even reads the
configuration, and let it warm up while the run is being prepared (configuration, identity
check, confirmation); the CLI tells it the run's types, whose models to load, once it knows
them (choose). Types are named as the configuration names them: a service (ec2) stands for
its types."""

import atexit
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from pathlib import Path

PRELOAD = ["costcutter.warm"]
# The types whose models costcutter.warm loads (comma-separated; all when unset): the
# server's one input, set in the environment it starts with, and in no other (COSTCUTTER_*
# names are the configuration's, which warns of those it does not know).
TYPES_VARIABLE = "WARM_TYPES_OF_COSTCUTTER"
# Or, for a server started before the types were known: the file they will be written to.
CHOICE_VARIABLE = "WARM_TYPES_FILE_OF_COSTCUTTER"
CHOICE_POLL_SECONDS = 0.005
# A main process that takes longer to choose has stopped (its configuration refused, in a
# process that lives on, as a test's): the server then goes on without the models.
CHOICE_WAIT_SECONDS = 10

_choice: Path | None = None  # in the main process: where choose() writes, for a server started early


def context():
    """The multiprocessing context of region processes."""
    forking = multiprocessing.get_context("forkserver")
    forking.set_forkserver_preload(PRELOAD)
    return forking


def start(types=None) -> None:
    """Start the server now (it is started on first use otherwise), to load the models of
    these types (None: of every type); idempotent."""
    if types is not None:
        os.environ[TYPES_VARIABLE] = ",".join(sorted(set(types)))
    try:
        _ensure_running()
    finally:
        os.environ.pop(TYPES_VARIABLE, None)


def start_early() -> None:
    """Start the server before the run's types are known: it imports boto3 and every type
    meanwhile, then waits for choose() to name those whose models to load."""
    global _choice
    if _running():  # by an earlier command of this process (tests): choose() tells it, if it still waits
        return
    folder = Path(tempfile.mkdtemp(prefix="costcutter-warm-"))  # private: mode 0700
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the server stops waiting once it is gone
    os.environ[CHOICE_VARIABLE] = str(folder / "types.json")
    try:
        _ensure_running()
    finally:
        os.environ.pop(CHOICE_VARIABLE, None)
    _choice = folder / "types.json"


def choose(types=None) -> None:
    """Tell a server started early the types whose models to load (None: every type)."""
    global _choice
    if _choice is None:
        return
    written = _choice.with_suffix(".tmp")
    written.write_text(json.dumps(None if types is None else sorted(set(types))))
    os.replace(written, _choice)  # whole or not at all: the server reads it as soon as it is there
    _choice = None


def _running() -> bool:
    import multiprocessing.forkserver

    return getattr(multiprocessing.forkserver._forkserver, "_forkserver_address", None) is not None


def _ensure_running() -> None:
    import multiprocessing.forkserver

    context()
    multiprocessing.forkserver.ensure_running()


# In the server (costcutter.warm)

def started_in_vain() -> bool:
    """The main process gave up before it chose (a configuration error): nothing to warm up."""
    path = os.environ.get(CHOICE_VARIABLE)
    return bool(path) and not Path(path).parent.exists()


def types_to_warm() -> list[str] | None:
    """The types whose models to load (None: every type), waiting for the main process to
    choose them if it started the server early; [] when it went away without choosing."""
    path = os.environ.get(CHOICE_VARIABLE)
    if path:
        return _wait_for_choice(Path(path))
    listed = os.environ.get(TYPES_VARIABLE)
    return listed.split(",") if listed else None


def _wait_for_choice(path: Path) -> list[str] | None:
    main_process, deadline = os.getppid(), time.monotonic() + CHOICE_WAIT_SECONDS
    while not path.exists():
        if os.getppid() != main_process or not path.parent.exists() or time.monotonic() > deadline:
            return []
        time.sleep(CHOICE_POLL_SECONDS)
    chosen = json.loads(path.read_text())
    shutil.rmtree(path.parent, ignore_errors=True)
    return chosen
