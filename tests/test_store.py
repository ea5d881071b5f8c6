"""The event store (SQLite in WAL mode) and the EventWriter that appends to it."""

import json
import multiprocessing
import os
import re
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from costcutter import paths, store as store_module
from costcutter.store import (HOST, LEASE_TIMEOUT_SECONDS, SCHEMA_VERSION, EventStore, EventWriter, StoreError,
                              new_event)

PROCESSES = 4
THREADS_PER_PROCESS = 3
EVENTS_PER_THREAD = 500  # 1500 per process


def bucket_event(run_id, kind, resource_id=None, region="us-east-1", **fields):
    return new_event(run_id, kind, region=region, service="s3", resource_type="buckets",
                     resource_id=resource_id, **fields)


def record(store, run_id, kind, resource_id=None, region="us-east-1"):
    store.append([bucket_event(run_id, kind, resource_id, region)])


def new_run(store):
    return store.create_run({"test": True}, "123456789012", dry_run=False)


def read_with_new_connection(db_path, sql, params=()):
    connection = sqlite3.connect(db_path)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def messages_in(db_path, run_id):
    rows = read_with_new_connection(db_path, "SELECT message FROM events WHERE run_id = ? ORDER BY seq", [run_id])
    return [message for (message,) in rows]


def schema_of(db_path):
    """(user_version, the columns of events)"""
    (version,), = read_with_new_connection(db_path, "PRAGMA user_version")
    columns = [name for (_, name, *_) in read_with_new_connection(db_path, "PRAGMA table_info(events)")]
    return version, columns


def lease_of(db_path, run_id):
    rows = read_with_new_connection(db_path, "SELECT host, pid, heartbeat_at FROM run_leases WHERE run_id = ?",
                                    [run_id])
    return rows[0] if rows else None


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def write_from_threads(db_path, run_id):
    """One process's share of the concurrent writers: its own EventWriter, several threads."""
    writer = EventWriter(db_path)

    def send(thread):
        for n in range(EVENTS_PER_THREAD):
            writer.submit(bucket_event(run_id, "cataloged", f"{thread}-{n}", message=f"{thread}-{n}"),
                          durable=n % 5 == 0)

    with ThreadPoolExecutor(THREADS_PER_PROCESS) as pool:
        list(pool.map(send, range(THREADS_PER_PROCESS)))
    writer.close()


def test_database_is_in_wal_mode_with_the_shipped_schema_at_its_latest_version(store, db_path):
    schema = paths.shipped_file("schema/events.sql").read_text()
    declared = set(re.findall(r"CREATE (?:TABLE|INDEX) IF NOT EXISTS (\w+)", schema))

    present = {name for (name,) in read_with_new_connection(db_path, "SELECT name FROM sqlite_master")}

    assert read_with_new_connection(db_path, "PRAGMA journal_mode") == [("wal",)]
    assert declared == {"runs", "events", "events_by_run_kind", "events_by_resource"}
    assert declared <= present
    assert schema_of(db_path) == (SCHEMA_VERSION, [
        "seq", "run_id", "at", "kind", "region", "service", "resource_type", "resource_id", "error_code", "message",
        "pid", "host", "properties"])


def test_concurrent_writers_lose_and_duplicate_nothing(store, db_path):
    run_id = new_run(store)
    spawn = multiprocessing.get_context("spawn")
    processes = [spawn.Process(target=write_from_threads, args=(db_path, run_id)) for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)

    assert [process.exitcode for process in processes] == [0] * PROCESSES
    sent = {(process.pid, f"{thread}-{n}") for process in processes
            for thread in range(THREADS_PER_PROCESS) for n in range(EVENTS_PER_THREAD)}
    written = read_with_new_connection(db_path, "SELECT pid, message FROM events WHERE run_id = ?", [run_id])
    assert len(written) == len(sent) == PROCESSES * THREADS_PER_PROCESS * EVENTS_PER_THREAD
    assert set(written) == sent


def test_durable_submit_returns_once_another_connection_can_read_the_event(store, db_path, monkeypatch):
    run_id = new_run(store)
    writer = EventWriter(db_path)
    append = writer._store.append
    monkeypatch.setattr(writer._store, "append", lambda rows: (time.sleep(0.5), append(rows)))

    writer.submit(bucket_event(run_id, "cataloged", message="queued"))
    assert messages_in(db_path, run_id) == []  # not durable: submit did not wait for the slow commit
    writer.submit(bucket_event(run_id, "delete_requested", message="durable"), durable=True)
    assert messages_in(db_path, run_id) == ["queued", "durable"]
    writer.close()


@pytest.mark.parametrize("autocommit", [False, True], ids=["in a transaction", "autocommit, as the writer"])
@pytest.mark.parametrize("variables", [None, 40], ids=["one statement", "several statements"])
def test_append_writes_all_of_a_batch_or_none(store, db_path, autocommit, variables):
    run_id = new_run(store)
    if autocommit:
        store.db.conn.isolation_level = None
    if variables:  # a runtime that allows fewer variables a statement: the batch takes several
        store.db.conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, variables)
    rows = [bucket_event(run_id, "cataloged", message=f"bucket-{n}") for n in range(999)]
    rows.append(bucket_event(run_id, None, message="no kind"))  # kind is NOT NULL: the last row fails

    with pytest.raises(StoreError):
        store.append(rows)

    assert messages_in(db_path, run_id) == []
    store.append(rows[:-1])
    assert len(messages_in(db_path, run_id)) == 999


@pytest.mark.parametrize("autocommit, statements", [(False, ["BEGIN", "INSERT", "COMMIT"]), (True, ["INSERT"])],
                         ids=["in a transaction", "autocommit, as the writer"])
def test_a_batch_of_events_is_one_statement(store, autocommit, statements):
    """The writer's transaction is what the deletions of a busy region process wait for: each
    statement in it gives up the GIL and has to win it back."""
    run_id = new_run(store)
    if autocommit:
        store.db.conn.isolation_level = None
    traced = []
    store.db.conn.set_trace_callback(traced.append)

    store.append([bucket_event(run_id, "cataloged", f"bucket-{n}", properties={"n": n}) for n in range(3)]
                 + [bucket_event(run_id, "would_delete", "bucket-0")])

    store.db.conn.set_trace_callback(None)
    assert [statement.split()[0] for statement in traced] == statements
    assert len(list(store.events(run_id))) == 4


def test_the_writer_commits_a_batch_as_one_statement(store, db_path):
    run_id = new_run(store)
    writer = EventWriter(db_path)
    traced = []
    writer._store.db.conn.set_trace_callback(traced.append)

    writer.submit(bucket_event(run_id, "delete_requested", message="durable"), durable=True)

    writer.close()
    assert [statement.split()[0] for statement in traced] == ["INSERT"]
    assert messages_in(db_path, run_id) == ["durable"]


def test_status_follows_the_latest_run_lifecycle_event(store):
    run_id = new_run(store)
    lifecycle = [("run_started", "incomplete"), ("run_interrupted", "interrupted"),
                 ("run_started", "incomplete"), ("run_finished", "finished")]
    statuses = []
    for kind, _ in lifecycle:
        store.record(run_id, kind)
        statuses.append(store.status(run_id))

    assert statuses == [status for _, status in lifecycle]


def test_summary_counts_each_resource_once_by_its_latest_state(store):
    run_id = new_run(store)
    for kind, resource_id in [("cataloged", "deleted-one"), ("cataloged", "pending-one"), ("cataloged", "left-one"),
                              ("delete_requested", "deleted-one"), ("deleted", "deleted-one"),
                              ("delete_requested", "pending-one")]:
        record(store, run_id, kind, resource_id)
    record(store, run_id, "failed", "elsewhere", region="eu-west-1")

    def row(region, outcome):
        return {"region": region, "service": "s3", "resource_type": "buckets", "outcome": outcome, "count": 1}

    assert store.summary(run_id) == [row("eu-west-1", "failed"), row("us-east-1", "cataloged"),
                                     row("us-east-1", "deleted"), row("us-east-1", "pending")]


def test_resource_states_are_the_latest_state_of_each_resource_in_the_region(store):
    run_id = new_run(store)
    for kind in ["cataloged", "delete_requested", "failed"]:
        record(store, run_id, kind, "flaky")
    record(store, run_id, "cataloged", "listed")
    record(store, run_id, "deleted", "elsewhere", region="eu-west-1")
    store.record(run_id, "unit_completed", region="us-east-1", service="s3", resource_type="buckets")

    assert store.resource_states(run_id, "us-east-1") == {("s3", "buckets", "flaky"): "failed",
                                                          ("s3", "buckets", "listed"): "cataloged"}


def test_completed_units_are_those_with_unit_completed_in_the_region(store):
    run_id = new_run(store)
    for kind, resource_type, region in [("unit_started", "volumes", "us-east-1"),
                                        ("unit_completed", "instances", "us-east-1"),
                                        ("unit_completed", "instances", "us-east-1"),
                                        ("unit_completed", "volumes", "eu-west-1")]:
        store.record(run_id, kind, region=region, service="ec2", resource_type=resource_type)

    assert store.completed_units(run_id, "us-east-1") == {("ec2", "instances")}
    assert store.completed_units(run_id, "eu-west-1") == {("ec2", "volumes")}


def test_unknown_run_id_names_the_id_and_the_runs_command(store):
    with pytest.raises(StoreError, match=r"'nosuchrun'.*`costcutter runs`"):
        store.run("nosuchrun")


def test_file_that_is_not_a_database_is_refused_and_left_as_it_was(tmp_path):
    path = tmp_path / "not-a-database.db"
    path.write_bytes(os.urandom(4096))
    before = path.read_bytes()

    with pytest.raises(StoreError) as error:
        EventStore(path)

    assert str(path) in str(error.value)
    assert "\n" not in str(error.value)
    assert path.read_bytes() == before


def test_a_new_event_log_and_the_folders_made_for_it_are_for_the_owner_only(tmp_path):
    db = tmp_path / "made" / "for" / "events.db"
    with EventStore(db) as store:
        new_run(store)  # a write, so the -wal and -shm files exist
        files = {path.name: mode(path) for path in db.parent.iterdir()}

    assert files == {"events.db": 0o600, "events.db-wal": 0o600, "events.db-shm": 0o600}
    assert [mode(folder) for folder in (tmp_path / "made", db.parent)] == [0o700, 0o700]


def test_an_existing_event_log_and_folder_keep_the_modes_the_user_gave_them(tmp_path):
    folder = tmp_path / "shared"
    db = folder / "events.db"
    EventStore(db).close()
    os.chmod(folder, 0o750)
    os.chmod(db, 0o640)

    with EventStore(db) as store:
        new_run(store)

    assert (mode(folder), mode(db)) == (0o750, 0o640)


def test_a_spine_event_log_is_read_as_it_is_without_writing(spine_db):
    path, run_id = spine_db
    before = path.read_bytes()

    with EventStore(path, read_only=True) as reader:
        runs = reader.runs()
        states = reader.resource_states(run_id, "us-east-1")
        exported = list(reader.events(run_id))

    assert [(run["id"], run["status"], run["would_delete"]) for run in runs] == [(run_id, "finished", 1)]
    assert states == {("s3", "buckets", "old-bucket"): "would_delete"}
    assert len(exported) == 5
    assert path.read_bytes() == before
    assert schema_of(path)[0] == 0 and "properties" not in schema_of(path)[1]


def test_a_spine_event_log_is_upgraded_when_opened_for_writing_and_keeps_its_events(spine_db):
    path, run_id = spine_db
    with EventStore(path, read_only=True) as reader:
        before = list(reader.events(run_id))

    with EventStore(path) as writer:
        after = list(writer.events(run_id))
        writer.append([bucket_event(run_id, "cataloged", "new-bucket",
                                    properties={"name": "new-bucket", "tags": {"team": "data"}})])

    version, columns = schema_of(path)
    assert (version, columns[-1]) == (SCHEMA_VERSION, "properties")
    assert [{**event, "properties": None} for event in before] == after


def test_properties_are_stored_as_json_and_read_back(store):
    run_id = new_run(store)
    properties = {"name": "logs", "tags": {"team": "data", "env": "ci"}, "created": "2024-05-06T07:08:09+00:00",
                  "versioning": True}
    store.append([bucket_event(run_id, "cataloged", "logs", properties=properties),
                  bucket_event(run_id, "would_delete", "logs")])

    stored = {event["kind"]: event["properties"] for event in store.events(run_id)}

    assert json.loads(stored["cataloged"]) == properties
    assert stored["would_delete"] is None


def test_an_upgrade_is_one_transaction_a_failing_step_leaves_the_spine_schema(spine_db, monkeypatch, tmp_path):
    path, _ = spine_db
    failing = tmp_path / "events-3-failing.sql"
    failing.write_text("CREATE TABLE made_by_step_3 (x);\nSELECT no_such_function();\n")
    shipped_file = paths.shipped_file
    monkeypatch.setattr(store_module, "MIGRATIONS", (*store_module.MIGRATIONS, "failing"))
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", len(store_module.MIGRATIONS))
    monkeypatch.setattr(paths, "shipped_file", lambda name: failing if name == "failing" else shipped_file(name))

    with pytest.raises(StoreError, match="no such function"):
        EventStore(path)

    version, columns = schema_of(path)
    assert version == 0 and "properties" not in columns
    assert read_with_new_connection(path, "SELECT name FROM sqlite_master WHERE name = 'made_by_step_3'") == []


@pytest.mark.parametrize("read_only", [True, False])
def test_a_newer_schema_is_refused_and_left_as_it_is(store, db_path, read_only):
    store.close()
    connection = sqlite3.connect(db_path)
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    before = db_path.read_bytes()

    with pytest.raises(StoreError) as error:
        EventStore(db_path, read_only=read_only)

    assert str(error.value) == (f"the event log {db_path} has schema version 99, newer than this CostCutter "
                                f"{store_module.__version__} knows (up to {SCHEMA_VERSION}); upgrade CostCutter, "
                                "or pass --db to use another file")
    assert db_path.read_bytes() == before


@pytest.mark.parametrize("read_only", [True, False])
def test_a_foreign_sqlite_database_is_refused_and_left_byte_identical(tmp_path, read_only):
    path = tmp_path / "someone-elses.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE notes (text TEXT)")
    connection.execute("INSERT INTO notes VALUES ('mine')")
    connection.commit()
    connection.close()
    before = path.read_bytes()

    with pytest.raises(StoreError, match="is not a CostCutter event log"):
        EventStore(path, read_only=read_only)

    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["someone-elses.db"]


def test_a_damaged_event_log_is_refused_when_checked_and_nothing_is_written(store, db_path, damage):
    run_id = new_run(store)
    store.close()
    damage(db_path, run_id)
    before = db_path.read_bytes()

    with pytest.raises(StoreError) as error:
        EventStore(db_path, check_integrity=True)

    assert str(error.value).startswith(f"the event log {db_path} is damaged (")
    assert "\n" not in str(error.value)
    assert db_path.read_bytes() == before


def test_a_claimed_run_is_refused_to_another_claimer_until_it_is_released(store, db_path):
    run_id = new_run(store)
    with store.claim(run_id):
        with EventStore(db_path) as other, pytest.raises(StoreError) as error:
            with other.claim(run_id):
                pytest.fail("claimed a run that is held")
        assert lease_of(db_path, run_id)[:2] == (HOST, os.getpid())

    assert re.fullmatch(rf"run {run_id} is being run by pid {os.getpid()} on host {re.escape(HOST)} since "
                        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; wait for it to finish or stop it, then resume .*",
                        str(error.value))
    assert lease_of(db_path, run_id) is None
    with EventStore(db_path) as other, other.claim(run_id):
        pass


def test_a_lease_whose_holder_died_is_taken_over(store, db_path):
    run_id = new_run(store)
    holder = subprocess.run(
        [sys.executable, "-c", "import os, sys\nfrom costcutter.store import EventStore\n"
                               "with EventStore(sys.argv[1]).claim(sys.argv[2]):\n    os._exit(0)  # no release",
         db_path, run_id], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert holder.returncode == 0
    (host, dead_pid, _) = lease_of(db_path, run_id)
    assert host == HOST and dead_pid != os.getpid()

    with store.claim(run_id):
        assert lease_of(db_path, run_id)[:2] == (HOST, os.getpid())


@pytest.mark.parametrize("silent_for, taken_over", [(LEASE_TIMEOUT_SECONDS + 5, True),
                                                    (LEASE_TIMEOUT_SECONDS - 5, False)])
def test_a_lease_from_another_host_is_taken_over_once_it_expires(store, db_path, silent_for, taken_over):
    run_id = new_run(store)
    heartbeat = (datetime.now(timezone.utc) - timedelta(seconds=silent_for)).isoformat()
    store.db["run_leases"].insert({"run_id": run_id, "host": "elsewhere", "pid": os.getpid(), "token": "theirs",
                                   "claimed_at": heartbeat, "heartbeat_at": heartbeat})

    try:
        with store.claim(run_id):
            claimed = lease_of(db_path, run_id)[:2] == (HOST, os.getpid())
    except StoreError as error:
        assert "on host elsewhere" in str(error)
        claimed = False

    assert claimed is taken_over


def test_the_heartbeat_keeps_a_lease_fresh_and_a_lease_taken_over_stops_the_holder(store, db_path, monkeypatch):
    monkeypatch.setattr(store_module, "HEARTBEAT_SECONDS", 0.05)
    run_id = new_run(store)
    lost = threading.Event()
    with store.claim(run_id, on_lost=lost.set):
        first = lease_of(db_path, run_id)[2]
        time.sleep(0.3)
        assert lease_of(db_path, run_id)[2] > first
        assert not lost.is_set()
        with store._transaction():
            store.db.execute("UPDATE run_leases SET token = 'taken over' WHERE run_id = ?", [run_id])
        assert lost.wait(5)
