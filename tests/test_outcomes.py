"""What became of each resource, read from the event log's views: the views themselves, the
list of failed and kept resources that runs and reports end with, and the tables they print.
In process: the events are written as the engine writes them, through a Reporter."""

import sqlite3

import pytest

from costcutter import events, outcomes, store as store_module
from costcutter.store import SCHEMA_VERSION, EventStore, new_event
from costcutter.tables import format_table

PROTECTED = "protected (disable_termination_protection would lift it); set remove_deletion_protection: true to allow that"


def cataloged(reporter, rtype, resource_id, name=None):
    reporter.record(events.CATALOGED, "ec2", rtype, resource_id, properties={"name": name} if name else {})


def a_run_with_every_outcome(reporter):
    """Two instances (one kept, one deleted), a volume that failed, a snapshot whose deletion
    was requested and not answered, an AMI only cataloged; names from the cataloged events."""
    cataloged(reporter, "instances", "i-kept", "build-agent")
    reporter.record(events.SKIPPED, "ec2", "instances", "i-kept", message=PROTECTED)
    cataloged(reporter, "instances", "i-gone", "web")
    reporter.record(events.DELETE_REQUESTED, "ec2", "instances", "i-gone")
    reporter.record(events.DELETED, "ec2", "instances", "i-gone")
    cataloged(reporter, "volumes", "vol-1", "data")
    reporter.record(events.DELETE_REQUESTED, "ec2", "volumes", "vol-1")
    reporter.record(events.FAILED, "ec2", "volumes", "vol-1", error_code="VolumeInUse",
                    message="Volume vol-1 is currently attached to i-kept")
    cataloged(reporter, "snapshots", "snap-1")
    reporter.record(events.DELETE_REQUESTED, "ec2", "snapshots", "snap-1")
    cataloged(reporter, "amis", "ami-1", "golden")
    reporter.events()  # flushed
    return reporter.run_id


def test_resource_states_has_each_resource_once_in_its_latest_state_with_name_and_reason(make_reporter, store):
    run_id = a_run_with_every_outcome(make_reporter())

    rows = store.db.query("SELECT resource_id, name, outcome, error_code, message FROM resource_states "
                          "WHERE run_id = ? ORDER BY resource_id", [run_id])

    assert list(rows) == [
        {"resource_id": "ami-1", "name": "golden", "outcome": "cataloged", "error_code": None, "message": None},
        {"resource_id": "i-gone", "name": "web", "outcome": "deleted", "error_code": None, "message": None},
        {"resource_id": "i-kept", "name": "build-agent", "outcome": "skipped", "error_code": None, "message": PROTECTED},
        {"resource_id": "snap-1", "name": None, "outcome": "pending", "error_code": None, "message": None},
        {"resource_id": "vol-1", "name": "data", "outcome": "failed", "error_code": "VolumeInUse",
         "message": "Volume vol-1 is currently attached to i-kept"}]


def test_run_summary_counts_each_outcome_and_says_how_and_when_the_run_ended(make_reporter, store):
    run_id = a_run_with_every_outcome(make_reporter())
    store.record(run_id, events.RUN_FINISHED)
    other = store.create_run({}, "123456789012", dry_run=True)  # nothing in it yet: no row lost to the join
    ended = list(store.events(run_id))[-1]["at"]

    rows = {row["run_id"]: row for row in store.db.query("SELECT * FROM run_summary")}

    assert rows[run_id] == {"run_id": run_id, "account_id": "123456789012", "dry_run": 0, "status": "finished",
                            "started_at": store.run(run_id)["created_at"], "ended_at": ended, "resources": 5,
                            "would_delete": 0, "deleted": 1, "already_gone": 0, "failed": 1, "skipped": 1,
                            "pending": 1}
    assert (rows[other]["status"], rows[other]["ended_at"], rows[other]["resources"]) == ("incomplete", None, 0)


def test_the_summary_and_the_resource_list_agree_with_the_view(make_reporter, store):
    run_id = a_run_with_every_outcome(make_reporter())

    assert store.outcome_counts(run_id) == {"would_delete": 0, "deleted": 1, "already_gone": 0, "failed": 1,
                                            "skipped": 1, "pending": 1, "cataloged": 1}
    listed = outcomes.by_outcome(store, run_id)
    assert {outcome: [r["resource_id"] for r in rows] for outcome, rows in listed.items() if rows} == {
        "deleted": ["i-gone"], "failed": ["vol-1"], "skipped": ["i-kept"], "pending": ["snap-1"],
        "cataloged": ["ami-1"]}
    assert listed["failed"][0] == {"region": "us-east-1", "service": "ec2", "resource_type": "volumes",
                                   "resource_id": "vol-1", "name": "data", "error_code": "VolumeInUse",
                                   "message": "Volume vol-1 is currently attached to i-kept"}


def test_a_short_list_shows_each_failed_and_kept_resource_with_its_reason(make_reporter, store):
    run_id = a_run_with_every_outcome(make_reporter())

    text = outcomes.needs_a_look(store, run_id)

    failed, kept = text.split("\n\n")
    assert failed.splitlines()[0] == "Failed: 1 resource:"
    assert failed.splitlines()[1].split() == ["region", "service", "type", "id", "name", "error", "message"]
    assert failed.splitlines()[3].split(maxsplit=6) == [
        "us-east-1", "ec2", "volumes", "vol-1", "data", "VolumeInUse", "Volume vol-1 is currently attached to i-kept"]
    assert kept.splitlines()[0] == "Kept: 1 resource:"
    assert kept.splitlines()[3].split(maxsplit=5) == ["us-east-1", "ec2", "instances", "i-kept", "build-agent",
                                                      PROTECTED]


def test_nothing_to_look_at_is_nothing_shown(make_reporter, store):
    reporter = make_reporter()
    reporter.record(events.DELETED, "ec2", "volumes", "vol-1")
    reporter.events()
    assert outcomes.needs_a_look(store, reporter.run_id) == ""


def many_failures(reporter, count):
    for n in range(count):
        region = ("us-east-1", "eu-west-1")[n % 2]
        reporter.writer.submit(new_event(reporter.run_id, events.FAILED, region=region, service="ec2",
                                         resource_type="volumes", resource_id=f"vol-{n:03}", error_code="VolumeInUse",
                                         message=f"Volume vol-{n:03} is currently attached to i-{n:03}"))
    reporter.record(events.FAILED, "ec2", "snapshots", "snap-1", error_code="InvalidSnapshot.InUse",
                    message="snap-1 is used by ami-1")
    reporter.events()
    return reporter.run_id


def test_a_long_list_is_grouped_by_error_with_the_first_ids_and_a_count(make_reporter, store):
    run_id = many_failures(make_reporter(), outcomes.LISTED_ONE_BY_ONE + 5)

    lines = outcomes.needs_a_look(store, run_id).splitlines()

    assert lines[0] == f"Failed: 26 resources, in 2 groups by reason (each one: costcutter report {run_id} --full):"
    assert lines[1].split() == ["service", "type", "error", "count", "regions", "ids", "message"]
    assert lines[3].split() == ["ec2", "volumes", "VolumeInUse", "25", "eu-west-1,", "us-east-1", "vol-001,", "vol-003,",
                                "vol-005", "and", "22", "more", "e.g.", "Volume", "vol-001", "is", "currently",
                                "attached", "to", "i-001"]  # in the order of region, then id
    assert lines[4].split(maxsplit=6) == ["ec2", "snapshots", "InvalidSnapshot.InUse", "1", "us-east-1", "snap-1",
                                          "snap-1 is used by ami-1"]
    assert len(lines) == 5


def test_the_full_list_is_one_flag_away(make_reporter, store):
    run_id = many_failures(make_reporter(), outcomes.LISTED_ONE_BY_ONE + 5)

    lines = outcomes.needs_a_look(store, run_id, full=True).splitlines()

    assert lines[0] == "Failed: 26 resources:"
    assert len(lines) == 3 + 26
    assert sorted(line.split()[3] for line in lines[3:]) == ["snap-1", *(f"vol-{n:03}" for n in range(25))]


def test_a_list_of_every_resource_names_each_with_its_outcome(make_reporter, store):
    run_id = a_run_with_every_outcome(make_reporter())

    lines = outcomes.resource_list(store, run_id).splitlines()

    assert [line.split() for line in lines[2:]] == [
        ["us-east-1", "ec2", "amis", "ami-1", "golden", "cataloged"],
        ["us-east-1", "ec2", "instances", "i-gone", "web", "deleted"],
        ["us-east-1", "ec2", "instances", "i-kept", "build-agent", "skipped"],
        ["us-east-1", "ec2", "snapshots", "snap-1", "pending"],
        ["us-east-1", "ec2", "volumes", "vol-1", "data", "failed"]]


# The views in logs older than them, read without a write

def before_the_views(monkeypatch):
    """The store as it was before the views' migration."""
    version = store_module.MIGRATIONS.index(store_module.VIEWS)
    monkeypatch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:version])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", version)


def test_a_log_older_than_the_views_is_read_through_them_without_a_write(db_path, monkeypatch):
    before_the_views(monkeypatch)
    with EventStore(db_path) as older:
        run_id = older.create_run({}, "123456789012", dry_run=True)
        older.append([new_event(run_id, kind, region="us-east-1", service="s3", resource_type="buckets",
                                resource_id="logs", properties={"name": "logs"} if kind == events.CATALOGED else None)
                      for kind in (events.CATALOGED, events.WOULD_DELETE)])
    monkeypatch.undo()
    before = db_path.read_bytes()

    with EventStore(db_path, read_only=True) as reader:
        rows = reader.resources(run_id)
        summary = list(reader.db.query("SELECT status, would_delete FROM run_summary"))

    assert [(row["resource_id"], row["name"], row["outcome"]) for row in rows] == [("logs", "logs", "would_delete")]
    assert summary == [{"status": "incomplete", "would_delete": 1}]
    assert db_path.read_bytes() == before
    version = sqlite3.connect(db_path).execute("PRAGMA user_version").fetchone()[0]
    assert version == store_module.MIGRATIONS.index(store_module.VIEWS) < SCHEMA_VERSION


def test_a_spine_log_without_properties_reads_names_as_none(spine_db):
    path, run_id = spine_db
    before = path.read_bytes()
    with EventStore(path, read_only=True) as reader:
        assert outcomes.by_outcome(reader, run_id)["would_delete"] == [
            {"region": "us-east-1", "service": "s3", "resource_type": "buckets", "resource_id": "old-bucket",
             "name": None, "error_code": None, "message": None}]
    assert path.read_bytes() == before


def test_upgrading_a_log_adds_the_views(db_path, monkeypatch):
    before_the_views(monkeypatch)
    EventStore(db_path).close()
    monkeypatch.undo()
    EventStore(db_path).close()
    views = sqlite3.connect(db_path).execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall()
    assert sorted(views) == [("resource_states",), ("run_summary",)]


# Tables

def test_a_cell_of_several_lines_keeps_the_columns_of_the_table_aligned():
    rows = [{"id": "vault-1", "message": "empty it first:\naws glacier initiate-job ...", "code": "InUse"},
            {"id": "vault-22", "message": "short", "code": "Other"}]

    lines = format_table(rows, ["id", "message", "code"]).splitlines()

    assert [line.find("InUse") for line in lines if "InUse" in line] == [line.find("Other") for line in lines
                                                                      if "Other" in line]
    assert lines[3].strip() == "aws glacier initiate-job ..."


@pytest.mark.parametrize("value, shown", [("012345678901", "012345678901"), (True, "yes"), (None, ""), (7, "7")])
def test_cells_are_shown_as_they_are(value, shown):
    assert format_table([{"a": value}], ["a"], {"a": "title"}).split("\n")[2].strip() == shown
