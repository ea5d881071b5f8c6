"""Shared fixtures. Nothing here reaches real AWS: credentials are dummies, and every
client talks either to moto in process (mock_aws) or to a moto server on 127.0.0.1."""

import contextlib
import json
import os
import sqlite3
import subprocess

from costcutter import sandbox

# Before anything imports moto or boto3 reads its configuration.
sandbox.use_sandbox_environment()
os.environ.pop("AWS_ENDPOINT_URL", None)
for _variable in [v for v in os.environ if v.startswith("COSTCUTTER_")]:
    del os.environ[_variable]

import boto3  # noqa: E402
import pytest  # noqa: E402
from botocore.stub import Stubber  # noqa: E402
from moto import mock_aws  # noqa: E402

import aws_doubles  # noqa: E402
from costcutter import aws, paths  # noqa: E402
from costcutter.faults import FaultInjector, Faults  # noqa: E402
from costcutter.reporter import Reporter  # noqa: E402
from costcutter.store import EventStore, EventWriter, new_event  # noqa: E402

RUN_CONFIG = {"test": True}


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Each test gets its own config, data and log folders, and a working directory
    without a costcutter.yaml."""
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(variable, str(tmp_path / variable.lower()))
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "events.db"


@pytest.fixture
def store(db_path):
    store = EventStore(db_path)
    yield store
    store.close()


def write_spine_db(path, run_id, config, events, dry_run=True):
    """An event log as the first CostCutter wrote it: version 1's tables, no user_version,
    one run with `config` and `events` as (kind, region, service, type, resource id)."""
    path.parent.mkdir(exist_ok=True)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.executescript(paths.shipped_file("schema/events.sql").read_text())
    connection.execute("INSERT INTO runs VALUES (?, '2025-01-02T03:04:05+00:00', '123456789012', ?, ?, '0.1.0')",
                       [run_id, int(dry_run), json.dumps(config)])
    connection.executemany(
        "INSERT INTO events (run_id, at, kind, region, service, resource_type, resource_id, pid, host) "
        "VALUES (?, '2025-01-02T03:04:06+00:00', ?, ?, ?, ?, ?, 1, 'spine')",
        [(run_id, *event) for event in events])
    connection.commit()
    connection.close()
    return path, run_id


@pytest.fixture
def spine_db(tmp_path):
    """A spine event log with one finished dry run that would delete one bucket. Returns (path, run id)."""
    bucket = ("us-east-1", "s3", "buckets")
    events = [("run_started", None, None, None, None), ("cataloged", *bucket, "old-bucket"),
              ("would_delete", *bucket, "old-bucket"), ("unit_completed", *bucket, None),
              ("run_finished", None, None, None, None)]
    return write_spine_db(tmp_path / "spine" / "events.db", "spine123", RUN_CONFIG, events)


@pytest.fixture
def damage():
    """damage(db_path, run_id): give the run events enough for many pages, then overwrite the
    cells of the events table's root page. The file still opens and its header and table
    list read fine, but PRAGMA quick_check fails."""
    def damage(db_path, run_id):
        with EventStore(db_path) as store:
            store.append([new_event(run_id, "cataloged", resource_id=f"bucket-{n}") for n in range(2000)])
        connection = sqlite3.connect(db_path)
        (root,), = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 'events'")
        (page_size,), = connection.execute("PRAGMA page_size")
        connection.close()
        with open(db_path, "r+b") as file:
            file.seek((root - 1) * page_size + page_size // 2)
            file.write(b"\xff" * (page_size // 2))
    return damage


@pytest.fixture
def read_only():
    """read_only(path): the file or folder cannot be written, even by root (chattr +i then),
    until the test ends."""
    made, immutable = [], []

    def make(path):
        made.append((path, path.stat().st_mode))
        os.chmod(path, 0o500 if path.is_dir() else 0o400)
        if os.geteuid() == 0:
            if subprocess.run(["chattr", "+i", path], capture_output=True).returncode != 0:
                pytest.skip("as root, only chattr +i makes a file read-only, and it is not available here")
            immutable.append(path)

    yield make
    for path in immutable:
        subprocess.run(["chattr", "-i", path], check=True)
    for path, mode in made:
        os.chmod(path, mode)


@pytest.fixture(autouse=True)
def fresh_pacer(monkeypatch):
    """Each test starts with full token buckets, whatever the tests before it called."""
    monkeypatch.setattr(aws, "PACER", aws.Pacer())


@pytest.fixture
def aws_mock(monkeypatch):
    """moto in process, for handler tests; clients cached by earlier tests are dropped."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    aws._clients.clear()
    sandbox.fill_moto_gaps()
    with mock_aws():
        yield
    aws._clients.clear()


@pytest.fixture
def session(aws_mock):
    """A session whose clients reach moto in process."""
    return boto3.Session()


@pytest.fixture
def stubbed(aws_mock):
    """stubbed(session, service, region) -> a botocore Stubber on the client the handlers
    share, for what moto lacks or gets wrong: each test gives it AWS's real answers, and
    every answer given must have been asked for."""
    stubbers = []

    def stub(session, service, region):
        stubber = Stubber(aws.client(session, service, region))
        stubber.activate()
        stubbers.append(stubber)
        return stubber

    yield stub
    for stubber in stubbers:
        stubber.deactivate()
        stubber.assert_no_pending_responses()


@pytest.fixture
def make_reporter(store, db_path):
    """make_reporter(region) -> a Reporter writing to a fresh run; reporter.events() reads them back."""
    writers = []

    def make(region="us-east-1", threads=4, wait_timeout=5, **context):
        run_id = store.create_run(RUN_CONFIG, "123456789012", dry_run=False)
        writer = EventWriter(db_path)
        writers.append(writer)
        reporter = Reporter(writer, run_id, region, threads=threads, wait_timeout=wait_timeout, **context)

        def recorded(kind=None):
            writer.flush()
            return [e for e in store.events(run_id) if kind is None or e["kind"] == kind]

        reporter.events = recorded
        return reporter

    yield make
    for writer in writers:
        writer.close()


@pytest.fixture(scope="session")
def moto_server():
    """A moto server on 127.0.0.1 for everything that crosses processes."""
    server, endpoint = sandbox.start_server()
    os.environ.pop("AWS_ENDPOINT_URL", None)  # only the tests that ask for sandbox_endpoint use it
    yield endpoint
    server.stop()


@pytest.fixture
def sandbox_endpoint(moto_server, monkeypatch):
    """The moto server, emptied, with this process's clients pointed at it."""
    with _emptied_and_in_use(moto_server, monkeypatch):
        yield moto_server


@pytest.fixture(scope="module")
def fault_server_module():
    """A moto server on 127.0.0.1 behind a FaultInjector, one per test module."""
    injector = FaultInjector()
    server, endpoint = sandbox.start_server(wrap_app=injector.around)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    yield endpoint, injector
    server.stop()


@pytest.fixture
def fault_server(fault_server_module, monkeypatch):
    """(endpoint, injector): the fault-injecting server, emptied, with no faults and
    nothing recorded, and this process's clients pointed at it. A test makes it misbehave
    with injector.configure(Faults(...))."""
    endpoint, injector = fault_server_module
    injector.configure(Faults())
    with _emptied_and_in_use(endpoint, monkeypatch):
        injector.clear()
        yield endpoint, injector


@contextlib.contextmanager
def _emptied_and_in_use(endpoint, monkeypatch):
    sandbox.reset_server(endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    aws._clients.clear()
    try:
        yield
    finally:
        aws._clients.clear()


@pytest.fixture
def watch(aws_mock):
    """watch(session, service, region, operation) -> the parameters of each such call made
    through the engine's shared client, as they are sent (aws_doubles.watch, as a fixture)."""
    return aws_doubles.watch
