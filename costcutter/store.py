"""The event store: a SQLite database in WAL mode, the one source of truth about runs."""

import _thread
import contextlib
import functools
import json
import logging
import os
import queue
import secrets
import socket
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from costcutter import __version__, events, paths
from costcutter.lazy import without

# sqlite-utils imports pandas and numpy when they are installed, to store their values, which
# CostCutter never has: that took 0.1 s of every start-up, in the CLI and in the region server.
with without("pandas", "numpy"):
    import sqlite_utils
    from sqlite_utils.db import jsonify_if_needed  # how sqlite-utils stores a list or a datetime

log = logging.getLogger(__name__)

BUSY_TIMEOUT_SECONDS = 60
# A run's lease lapses when its holder has not refreshed it for this long: the holder is
# on another host (so its pid cannot be checked), or stopped (SIGSTOP, a suspended laptop).
LEASE_TIMEOUT_SECONDS = 60
HEARTBEAT_SECONDS = 5
_RUN_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: easy to read aloud and type
HOST = socket.gethostname()


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def new_event(run_id: str, kind: str, *, properties: dict | None = None, **fields) -> dict:
    """An event row; properties (what a cataloged resource is like) are stored as JSON."""
    event = {"run_id": run_id, "at": utcnow(), "kind": kind, "pid": os.getpid(), "host": HOST, **fields}
    if properties is not None:
        event["properties"] = json.dumps(properties, sort_keys=True, default=str)  # default: datetimes
    return event


# The schema's history, oldest first: running steps N+1... upgrades a database at version N
# (PRAGMA user_version; the spine's databases say 0 and have version 1's tables). To change
# the schema, add a step; never edit one that has shipped.
MIGRATIONS = (
    "schema/events.sql",               # 1: runs and events
    "schema/events-2-properties.sql",  # 2: events.properties, JSON
    "schema/events-3-leases.sql",      # 3: run_leases, which process is running a run
    "schema/events-4-prices.sql",      # 4: prices, fetched from the AWS Price List Query API
    "schema/events-5-views.sql",       # 5: views: resource_states, run_summary
    "schema/events-6-plan.sql",        # 6: runs.plan_run_id, the plan an apply carries out
    "schema/events-7-first-seen.sql",  # 7: an index to find when a resource was first seen
)
VIEWS = "schema/events-5-views.sql"
SCHEMA_VERSION = len(MIGRATIONS)
# What `resources()` answers for each resource, in this order (and `report --csv --resources`).
RESOURCE_COLUMNS = ("run_id", "region", "service", "resource_type", "resource_id", "name", "outcome", "error_code",
                    "message", "at")
_TABLES = {"runs", "events"}  # what makes a database an event log, at every version


class EventStore:
    """One connection to the event log. Use one per thread that writes.

    read_only=True (for `runs` and `report`) never writes, not even to upgrade the schema:
    every query here reads version 1's columns, so older event logs read as they are (the
    views they lack are made for the connection alone, see _views_for_this_connection).
    check_integrity=True (for `run`) refuses a damaged database before anything is written.
    create=False (for `run --resume`) refuses a missing one rather than making an empty one.
    """

    def __init__(self, path: str | os.PathLike, *, read_only: bool = False, check_integrity: bool = False,
                 create: bool = True):
        self.path = Path(path)
        self.read_only = read_only
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a folder, not an event log; pass --db the path of a file")
        if (read_only or not create) and not self.path.exists():
            raise StoreError(f"no event log at {self.path}; run `costcutter run` first or pass --db")
        try:
            self.db = sqlite_utils.Database(self._connect())
        except OSError as error:
            raise StoreError(f"cannot open the event log {self.path}: {error.strerror}; "
                             "check the path or pass --db") from None
        except sqlite3.DatabaseError as error:
            raise _store_error(self.path, error) from None
        try:
            self._prepare(check_integrity)
        except BaseException as error:
            self.close()
            if isinstance(error, sqlite3.DatabaseError):
                raise _store_error(self.path, error) from None
            raise

    def _connect(self) -> sqlite3.Connection:
        if self.read_only:
            return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True,
                                   timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
        paths.private_folder(self.path.parent)
        paths.private_file(self.path)  # SQLite gives the -wal and -shm files the database's mode
        return sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)

    def _prepare(self, check_integrity: bool) -> None:
        """Refuse what is not ours to use, then (unless read-only) switch to WAL and upgrade."""
        self._refuse_a_newer_schema(self._schema_version())
        tables = set(self.db.table_names())
        if (tables or self.read_only) and not _TABLES <= tables:
            raise StoreError(f"{self.path} is not a CostCutter event log (it has no runs and events tables); "
                             "pass --db to use another file")
        if check_integrity:
            self._check_integrity()
        if self.read_only:
            self._views_for_this_connection()
            return
        # Two processes making a new log at once: switching it to WAL can answer "locked" at
        # once, without waiting out the busy timeout, so that (and the upgrade, one
        # transaction) is tried again until the timeout.
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                self.db.execute("PRAGMA journal_mode=WAL")
                # WAL with synchronous=NORMAL survives a process crash (kill -9) without losing
                # committed events; only a power loss can lose the last commits.
                self.db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _refuse_a_newer_schema(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise StoreError(f"the event log {self.path} has schema version {version}, newer than this CostCutter "
                             f"{__version__} knows (up to {SCHEMA_VERSION}); upgrade CostCutter, "
                             "or pass --db to use another file")

    def _views_for_this_connection(self) -> None:
        """A log older than the views, read without upgrading it, gets them as TEMP views: they
        belong to this connection and are never written to the file. In a log older than
        version 2, a TEMP view `events` (found before the table) reads `properties` as NULL."""
        if self._schema_version() >= MIGRATIONS.index(VIEWS) + 1:
            return
        if "properties" not in {column.name for column in self.db["events"].columns}:
            self.db.execute("CREATE TEMP VIEW events AS SELECT *, NULL AS properties FROM main.events")
        for statement in _statements(paths.shipped_file(VIEWS).read_text()):
            self.db.execute(statement.replace("CREATE VIEW", "CREATE TEMP VIEW", 1))

    def _check_integrity(self) -> None:
        try:
            found = self.db.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as error:  # too damaged for the check to finish (with views, it can be)
            found = [(str(error),)]
        problems = [line for (text,) in found for line in text.splitlines() if not line.startswith("***")]
        if problems != ["ok"]:
            raise StoreError(f"the event log {self.path} is damaged ({problems[0]}); nothing was written to it; "
                             "move it aside and keep it, or pass --db to use another file")

    def _migrate(self) -> None:
        """Bring the schema to SCHEMA_VERSION in one transaction: all the steps, or none."""
        connection = self.db.conn
        connection.execute("BEGIN IMMEDIATE")  # under the write lock, so two processes cannot both upgrade
        try:
            version = self._schema_version()
            self._refuse_a_newer_schema(version)
            for step in MIGRATIONS[version:]:
                for statement in _statements(paths.shipped_file(step).read_text()):
                    connection.execute(statement)
            # Also when nothing changes: SQLite opens a read-only file without a word, and only
            # a write tells, here rather than after the run has been created.
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            connection.rollback()
            raise
        if version < SCHEMA_VERSION:
            connection.commit()
        else:
            connection.rollback()

    def close(self):
        self.db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # Writing

    def create_run(self, config: dict, account_id: str | None, dry_run: bool, plan_run_id: str | None = None) -> str:
        for _ in range(10):
            run_id = "".join(secrets.choice(_RUN_ID_ALPHABET) for _ in range(8))
            try:
                with self.db.conn:
                    row = {"id": run_id, "created_at": utcnow(), "account_id": account_id, "dry_run": int(dry_run),
                           "config": json.dumps(config, sort_keys=True), "version": __version__}
                    # Only an apply names its plan: every other run writes the columns of every version.
                    self.db["runs"].insert(row | ({"plan_run_id": plan_run_id} if plan_run_id else {}))
                return run_id
            except sqlite3.IntegrityError:
                continue
        raise StoreError("could not allocate a new run id")

    def append(self, rows: list[dict]) -> None:
        """Append events in one transaction: all of them are written, or none."""
        if not rows:
            return
        columns = tuple(sorted({column for row in rows for column in row}))
        per_statement = self.db.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(columns)
        chunks = [rows[start:start + per_statement] for start in range(0, len(rows), per_statement)]
        for attempt in range(5):
            try:
                if len(chunks) == 1 and self.db.conn.isolation_level is None:
                    self._insert(columns, rows)  # one statement is a transaction of its own
                else:
                    with self._transaction():
                        for chunk in chunks:
                            self._insert(columns, chunk)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == 4:
                    raise _store_error(self.path, error) from None
                time.sleep(0.5 * 2 ** attempt)
            except sqlite3.DatabaseError as error:
                raise _store_error(self.path, error) from None

    def _insert(self, columns: tuple[str, ...], rows: list[dict]) -> None:
        values = [jsonify_if_needed(row.get(column)) for row in rows for column in columns]
        self.db.conn.execute(_insert_statement(columns, len(rows)), values)

    def record(self, run_id: str, kind: str, **fields) -> None:
        self.append([new_event(run_id, kind, **fields)])

    @contextlib.contextmanager
    def _transaction(self):
        """A write transaction. IMMEDIATE waits for the write lock up front, so the reads made
        first cannot leave a stale snapshot that then fails to write."""
        with self.db.conn:
            self.db.conn.execute("BEGIN IMMEDIATE")
            yield

    # Claiming a run

    @contextlib.contextmanager
    def claim(self, run_id: str, on_lost=_thread.interrupt_main):
        """Hold run_id for this process while the block runs, so no other process runs it too.

        Raises StoreError when another process holds it. A holder's lease is taken over only
        when the holder is gone for sure: a process of this host that is no longer alive, or
        a lease not refreshed for LEASE_TIMEOUT_SECONDS. A heartbeat thread refreshes ours;
        should it find the lease taken over all the same (this process was stopped for
        longer than the timeout), it calls on_lost: by default a Ctrl-C in the main thread,
        which stops the run after the deletions in flight.
        """
        token = self._take_lease(run_id)
        heartbeat = _Heartbeat(self.path, run_id, token, on_lost)
        try:
            yield
        finally:
            heartbeat.stop()
            self._release_lease(run_id, token)

    def _take_lease(self, run_id: str) -> str:
        token, now = secrets.token_hex(16), utcnow()
        try:
            with self._transaction():
                lease = next(self.db.query("SELECT * FROM run_leases WHERE run_id = ?", [run_id]), None)
                if lease and not _holder_is_gone(lease):
                    raise StoreError(_held_message(run_id, lease))
                if lease:
                    log.warning("taking over run %s from pid %s on host %s", run_id, lease["pid"], lease["host"])
                self.db["run_leases"].insert({"run_id": run_id, "host": HOST, "pid": os.getpid(), "token": token,
                                              "claimed_at": now, "heartbeat_at": now}, replace=True)
        except sqlite3.DatabaseError as error:
            raise _store_error(self.path, error) from None
        return token

    def _release_lease(self, run_id: str, token: str) -> None:
        try:
            with self._transaction():
                self.db.execute("DELETE FROM run_leases WHERE run_id = ? AND token = ?", [run_id, token])
        except sqlite3.DatabaseError as error:  # the lease lapses by itself: this process is about to end
            log.warning("could not release run %s: %s", run_id, error)

    # Reading

    def _query(self, sql: str, params=()) -> list[dict]:
        try:
            return list(self.db.query(sql, params))
        except sqlite3.DatabaseError as error:
            raise _store_error(self.path, error) from None

    def run(self, run_id: str) -> dict:
        rows = self._query("SELECT * FROM runs WHERE id = ?", [run_id])
        if not rows:
            raise StoreError(f"no run {run_id!r} in {self.path}; `costcutter runs` lists the runs")
        run = rows[0]
        run["config"] = json.loads(run["config"])
        run["dry_run"] = bool(run["dry_run"])
        run.setdefault("plan_run_id", None)  # a log older than version 4
        return run

    def latest_run_id(self) -> str:
        rows = self._query("SELECT id FROM runs ORDER BY created_at DESC, rowid DESC LIMIT 1")
        if not rows:
            raise StoreError(f"there are no runs in {self.path} yet; start one with `costcutter run`")
        return rows[0]["id"]

    def status(self, run_id: str) -> str:
        """finished, interrupted, or incomplete (running now, or stopped without a trace: a crash)."""
        rows = self._query(
            f"SELECT kind FROM events WHERE run_id = ? AND kind IN ({_marks(events.RUN_LIFECYCLE)}) "
            "ORDER BY seq DESC LIMIT 1", [run_id, *events.RUN_LIFECYCLE])
        if not rows:
            return "incomplete"
        return {events.RUN_FINISHED: "finished", events.RUN_INTERRUPTED: "interrupted"}.get(rows[0]["kind"], "incomplete")

    def runs(self) -> list[dict]:
        # *: a log older than version 4 has no plan_run_id, and is read as it is
        rows = self._query("SELECT * FROM runs ORDER BY created_at, rowid")
        for row in rows:
            del row["config"]
            row.setdefault("plan_run_id", None)
            row["status"] = self.status(row["id"])
            row["dry_run"] = bool(row["dry_run"])
            row.update(self.outcome_counts(row["id"]))
        return rows

    def completed_units(self, run_id: str, region: str) -> set[tuple[str, str]]:
        rows = self._query("SELECT service, resource_type FROM events WHERE run_id = ? AND region = ? AND kind = ?",
                           [run_id, region, events.UNIT_COMPLETED])
        return {(row["service"], row["resource_type"]) for row in rows}

    def finished_units(self, run_id: str) -> set[tuple[str, str]]:
        """(region, "service.type") of every unit that is over in this run: completed, or failed
        as a whole (it could not even be listed). What a unit depending on it waits for."""
        rows = self._query(
            "SELECT DISTINCT region, service, resource_type FROM events WHERE run_id = ? "
            "AND (kind = ? OR (kind = ? AND resource_id IS NULL AND resource_type IS NOT NULL))",
            [run_id, events.UNIT_COMPLETED, events.FAILED])
        return {(row["region"], f"{row['service']}.{row['resource_type']}") for row in rows}

    def completed_unit_count(self, run_id: str) -> int:
        rows = self._query("SELECT count(DISTINCT region || ' ' || service || ' ' || resource_type) AS n "
                           "FROM events WHERE run_id = ? AND kind = ?", [run_id, events.UNIT_COMPLETED])
        return rows[0]["n"]

    def resource_states(self, run_id: str, region: str) -> dict[tuple[str, str, str], str]:
        """(service, resource_type, resource_id) -> the latest state event of that resource."""
        rows = self._query(
            f"""SELECT service, resource_type, resource_id, kind FROM events WHERE seq IN (
                  SELECT max(seq) FROM events
                  WHERE run_id = ? AND region = ? AND resource_id IS NOT NULL AND kind IN ({_marks(events.RESOURCE_STATES)})
                  GROUP BY service, resource_type, resource_id)""",
            [run_id, region, *events.RESOURCE_STATES])
        return {(r["service"], r["resource_type"], r["resource_id"]): r["kind"] for r in rows}

    def first_seen(self, run_id: str, region: str, service: str, resource_type: str) -> dict[str, str]:
        """resource id -> when another run of the same account first cataloged it in this
        region (ISO 8601): a resource's age where AWS gives no creation time."""
        return {row["resource_id"]: row["at"] for row in self._query(
            "SELECT e.resource_id, min(e.at) AS at FROM events e JOIN runs r ON r.id = e.run_id "
            "WHERE e.kind = ? AND e.region = ? AND e.service = ? AND e.resource_type = ? AND e.run_id != ? "
            "AND r.account_id = (SELECT account_id FROM runs WHERE id = ?) GROUP BY e.resource_id",
            [events.CATALOGED, region, service, resource_type, run_id, run_id])}

    def steps_done(self, run_id: str, region: str) -> dict[tuple[str, str, str], set[str]]:
        """(service, resource_type, resource_id) -> the steps of its teardown already finished."""
        steps: dict[tuple[str, str, str], set[str]] = {}
        for r in self._query("SELECT service, resource_type, resource_id, message FROM events "
                             "WHERE run_id = ? AND region = ? AND kind = ?", [run_id, region, events.STEP_DONE]):
            steps.setdefault((r["service"], r["resource_type"], r["resource_id"]), set()).add(
                r["message"].split(":", 1)[0])
        return steps

    def kept_holdings(self, run_id: str, region: str | None = None) -> list[dict]:
        """The resources kept in this run (their latest state is `skipped`) that hold others,
        in a region or (None) in every one: region, service, resource_type, resource_id, and
        `holds`, the [type key, id] pairs their `skipped` event recorded."""
        rows = self._query(
            f"""SELECT region, service, resource_type, resource_id, json_extract(properties, '$.holds') AS holds
                FROM events AS kept WHERE run_id = ? AND kind = ? AND (? IS NULL OR region = ?)
                  AND json_extract(properties, '$.holds') IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM events AS later
                    WHERE later.run_id = kept.run_id AND later.region = kept.region AND later.service = kept.service
                      AND later.resource_type = kept.resource_type AND later.resource_id = kept.resource_id
                      AND later.seq > kept.seq AND later.kind IN ({_marks(events.RESOURCE_STATES)}))
                ORDER BY seq""",
            [run_id, events.SKIPPED, region, region, *events.RESOURCE_STATES])
        return [{**row, "holds": [tuple(pair) for pair in json.loads(row["holds"])]} for row in rows]

    def summary(self, run_id: str) -> list[dict]:
        """Resources per region, service, type and what became of them (their latest state)."""
        return self._query("SELECT region, service, resource_type, outcome, count(*) AS count FROM resource_states "
                           "WHERE run_id = ? GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4", [run_id])

    def resources(self, run_id: str, outcomes: tuple[str, ...] | None = None) -> list[dict]:
        """Each resource of the run in its latest state (schema/events-5-views.sql), with its
        name and why it failed or was kept; only those of `outcomes` when given."""
        chosen = "" if outcomes is None else f" AND outcome IN ({_marks(outcomes)})"
        return self._query(
            f"SELECT {', '.join(RESOURCE_COLUMNS)} FROM resource_states WHERE run_id = ?{chosen} "
            "ORDER BY region, service, resource_type, resource_id",
            [run_id, *(outcomes or ())])

    def cataloged_resources(self, run_id: str) -> list[dict]:
        """Each resource of the run: where it is, its latest state (as in summary) and the
        properties it was cataloged with (a dict; empty where the log kept none)."""
        # A log from before schema version 2, opened read-only as it is, has no properties.
        kept = "properties" in self.db["events"].columns_dict
        properties = """(SELECT cataloged.properties FROM events AS cataloged
                         WHERE cataloged.run_id = latest.run_id AND cataloged.region IS latest.region
                           AND cataloged.service = latest.service AND cataloged.resource_type = latest.resource_type
                           AND cataloged.resource_id = latest.resource_id AND cataloged.kind = ?
                         ORDER BY cataloged.seq DESC LIMIT 1)""" if kept else "NULL"
        rows = self._query(
            f"""SELECT latest.region, latest.service, latest.resource_type, latest.resource_id,
                       {_outcome("latest.kind")} AS outcome, {properties} AS properties
                FROM events AS latest WHERE seq IN (
                  SELECT max(seq) FROM events
                  WHERE run_id = ? AND resource_id IS NOT NULL AND kind IN ({_marks(events.RESOURCE_STATES)})
                  GROUP BY region, service, resource_type, resource_id)
                ORDER BY 1, 2, 3, 4""",
            [*([events.CATALOGED] if kept else []), run_id, *events.RESOURCE_STATES])
        for row in rows:
            row["properties"] = json.loads(row["properties"]) if row.get("properties") else {}
        return rows

    def planned(self, run_id: str) -> list[dict]:
        """The resources a dry run would delete (their latest state is would_delete), each with
        the properties it was cataloged with (JSON, or None in a log older than version 2),
        ordered by region, service, type and id: the plan `costcutter apply` carries out."""
        with_properties = "properties" in self.db["events"].columns_dict
        properties = ("""(SELECT c.properties FROM events c WHERE c.run_id = e.run_id AND c.region = e.region
                             AND c.service = e.service AND c.resource_type = e.resource_type
                             AND c.resource_id = e.resource_id AND c.kind = ? ORDER BY c.seq DESC LIMIT 1)"""
                      if with_properties else "NULL")
        return self._query(
            f"""SELECT e.region, e.service, e.resource_type, e.resource_id, {properties} AS properties
                FROM events e WHERE e.kind = ? AND e.seq IN (
                  SELECT max(seq) FROM events
                  WHERE run_id = ? AND resource_id IS NOT NULL AND kind IN ({_marks(events.RESOURCE_STATES)})
                  GROUP BY region, service, resource_type, resource_id)
                ORDER BY 1, 2, 3, 4""",
            [*([events.CATALOGED] if with_properties else []), events.WOULD_DELETE, run_id, *events.RESOURCE_STATES])

    def outcome_counts(self, run_id: str) -> dict[str, int]:
        counts = {outcome: 0 for outcome in (*events.OUTCOMES, "pending", "cataloged")}
        for row in self.summary(run_id):
            counts[row["outcome"]] += row["count"]
        return counts

    def problems(self, run_id: str) -> list[dict]:
        """Failures that are not about one resource: a unit that could not be listed, a crashed region."""
        return self._query(
            "SELECT seq, at, kind, region, service, resource_type, error_code, message FROM events "
            "WHERE run_id = ? AND resource_id IS NULL AND kind IN (?, ?) ORDER BY seq",
            [run_id, events.FAILED, events.REGION_CRASHED])

    def event_counts(self, run_id: str) -> dict[str, int]:
        rows = self._query("SELECT kind, count(*) AS n FROM events WHERE run_id = ? GROUP BY kind", [run_id])
        return {row["kind"]: row["n"] for row in rows}

    def events(self, run_id: str):
        try:
            yield from self.db.query("SELECT * FROM events WHERE run_id = ? ORDER BY seq", [run_id])
        except sqlite3.DatabaseError as error:
            raise _store_error(self.path, error) from None


def _holder_is_gone(lease: dict) -> bool:
    if lease["host"] == HOST and not _process_is_alive(lease["pid"]):
        return True
    silent = datetime.now(timezone.utc) - datetime.fromisoformat(lease["heartbeat_at"])
    return silent.total_seconds() > LEASE_TIMEOUT_SECONDS


def _process_is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        pass
    return True


def _held_message(run_id: str, lease: dict) -> str:
    since = lease["claimed_at"][:19].replace("T", " ")
    return (f"run {run_id} is being run by pid {lease['pid']} on host {lease['host']} since {since} UTC; "
            f"wait for it to finish or stop it, then resume (a holder that died without a trace is taken over "
            f"{LEASE_TIMEOUT_SECONDS} s after its last heartbeat)")


class _Heartbeat:
    """Refreshes a lease every HEARTBEAT_SECONDS, on a connection of its own, until stopped."""

    def __init__(self, path: Path, run_id: str, token: str, on_lost):
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(path, run_id, token, on_lost),
                                        name="lease-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join()

    def _beat(self, path, run_id, token, on_lost) -> None:
        connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            while not self._stopped.wait(HEARTBEAT_SECONDS):
                try:
                    with connection:
                        kept = connection.execute("UPDATE run_leases SET heartbeat_at = ? WHERE run_id = ? AND token = ?",
                                                  [utcnow(), run_id, token]).rowcount
                except sqlite3.Error as error:  # busy for long: the next beat tries again
                    log.warning("could not refresh the lease of run %s: %s", run_id, error)
                    continue
                if not kept:
                    log.error("run %s was taken over by another process; stopping", run_id)
                    on_lost()
                    return
        finally:
            connection.close()


@functools.lru_cache(maxsize=256)
def _insert_statement(columns: tuple[str, ...], rows: int) -> str:
    """One statement for a batch of events. Not sqlite-utils' insert_all: it reads the schema
    (three queries) and wraps the rows in a savepoint on every call; nor executemany, which
    steps once a row. Each statement gives up the GIL and waits to take it back, which in a
    region process whose threads are all busy made the writer's transaction take three times
    its CPU time."""
    names = ", ".join(f'"{column}"' for column in columns)
    row = f"({', '.join('?' * len(columns))})"
    return f'INSERT INTO "events" ({names}) VALUES {", ".join([row] * rows)}'


def _statements(script: str) -> list[str]:
    """A script's SQL statements, one by one: executescript would commit the transaction."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    return statements


def _outcome(kind_column: str) -> str:
    """SQL for what became of a resource, from its latest state: an IN_PROGRESS one is `pending`."""
    return f"CASE WHEN {kind_column} IN ({', '.join(repr(k) for k in events.IN_PROGRESS)}) THEN 'pending' ELSE {kind_column} END"


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _store_error(path: Path, error: sqlite3.DatabaseError) -> StoreError:
    text = str(error)
    if "locked" in text or "busy" in text:
        return StoreError(f"the event log {path} is locked by another program; wait for it to finish, "
                          "or pass --db to use another file")
    if "readonly" in text:
        return StoreError(f"the event log {path} is read-only; make it and its folder writable, "
                          "or pass --db to use another file")
    if "unable to open" in text:
        return StoreError(f"cannot open the event log {path} ({text}); check that it and its folder are "
                          "writable (SQLite keeps its -wal and -shm files there), or pass --db to use another file")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(f"{path} is not a readable CostCutter event log ({text}); "
                          "move it aside or pass --db to use another file")
    return StoreError(f"the event log {path} cannot be used: {text}")


# Writing from many threads

MAX_BATCH = 1000


class EventWriter:
    """Each process has one: a thread with its own connection that appends whatever events
    are waiting in one transaction (a group commit), so many threads can record at once
    without the log becoming the bottleneck. A caller that must know its event is on disk
    before it goes on (before a deletion is sent) waits for that commit."""

    def __init__(self, db_path):
        self._queue: queue.Queue = queue.Queue()
        self._error: Exception | None = None
        self._store = EventStore(db_path)
        # Autocommit (no implicit BEGIN): a batch that fits one statement is then that statement
        # alone, the fewest times the writer gives up the GIL and waits to win it back.
        self._store.db.conn.isolation_level = None
        self.path = self._store.path
        self._thread = threading.Thread(target=self._write_forever, name="event-writer", daemon=True)
        self._thread.start()

    def submit(self, event: dict, durable: bool = False) -> None:
        """Queue an event; with durable=True, return only once it is committed."""
        self._raise_if_broken()
        committed = threading.Event() if durable else None
        self._queue.put((event, committed))
        if committed is not None:
            committed.wait()
            self._raise_if_broken()

    def flush(self) -> None:
        committed = threading.Event()
        self._queue.put((None, committed))
        committed.wait()
        self._raise_if_broken()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._store.close()
        self._raise_if_broken()

    def _raise_if_broken(self):
        if self._error is not None:
            raise StoreError(str(self._error))

    def _write_forever(self):
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            closing = None in batch
            items = [item for item in batch if item is not None]
            rows = [event for event, _ in items if event is not None]
            if rows and self._error is None:
                try:
                    self._store.append(rows)
                except Exception as error:  # keep the waiters from hanging; they re-raise it
                    log.error("cannot write %d events: %s", len(rows), error)
                    self._error = error
            for _, committed in items:
                if committed is not None:
                    committed.set()
            if closing:
                return
