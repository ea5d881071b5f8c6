"""The event store: a SQLite database in WAL mode, the one source of truth about runs."""

import json
import os
import secrets
import socket
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

from costcutter import __version__, events, paths

BUSY_TIMEOUT_SECONDS = 60
_RUN_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: easy to read aloud and type
HOST = socket.gethostname()


class StoreError(Exception):
    """The database cannot be used; the message says why and what to do."""


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def new_event(run_id: str, kind: str, **fields) -> dict:
    return {"run_id": run_id, "at": utcnow(), "kind": kind, "pid": os.getpid(), "host": HOST, **fields}


class EventStore:
    """One connection to the event log. Use one per thread that writes."""

    def __init__(self, path: str | os.PathLike, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise StoreError(f"no event log at {self.path}; run `costcutter run` first or pass --db")
        try:
            paths.private_folder(self.path.parent)
            paths.private_file(self.path)  # SQLite gives the -wal and -shm files the database's mode
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, check_same_thread=False)
            self.db = sqlite_utils.Database(connection)
            self.db.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL survives a process crash (kill -9) without losing
            # committed events; only a power loss can lose the last commits.
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.conn.executescript(paths.shipped_file("schema/events.sql").read_text())
        except sqlite3.DatabaseError as error:
            raise _store_error(self.path, error) from None
        except OSError as error:
            raise StoreError(f"cannot open the event log {self.path}: {error.strerror}; check the path or pass --db") from None

    def close(self):
        self.db.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # Writing

    def create_run(self, config: dict, account_id: str | None, dry_run: bool) -> str:
        for _ in range(10):
            run_id = "".join(secrets.choice(_RUN_ID_ALPHABET) for _ in range(8))
            try:
                with self.db.conn:
                    self.db["runs"].insert({
                        "id": run_id, "created_at": utcnow(), "account_id": account_id,
                        "dry_run": int(dry_run), "config": json.dumps(config, sort_keys=True),
                        "version": __version__,
                    })
                return run_id
            except sqlite3.IntegrityError:
                continue
        raise StoreError("could not allocate a new run id")

    def append(self, rows: list[dict]) -> None:
        """Append events in one transaction: all of them are written, or none."""
        for attempt in range(5):
            try:
                with self.db.conn:
                    # Without an open transaction sqlite-utils commits each chunk of insert_all
                    # on its own. IMMEDIATE waits for the write lock up front, so the reads
                    # insert_all makes first cannot leave a stale snapshot that fails to write.
                    self.db.conn.execute("BEGIN IMMEDIATE")
                    self.db["events"].insert_all(rows, batch_size=500)
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or attempt == 4:
                    raise _store_error(self.path, error) from None
                time.sleep(0.5 * 2 ** attempt)
            except sqlite3.DatabaseError as error:
                raise _store_error(self.path, error) from None

    def record(self, run_id: str, kind: str, **fields) -> None:
        self.append([new_event(run_id, kind, **fields)])

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

    def last_start(self, run_id: str) -> dict | None:
        rows = self._query("SELECT * FROM events WHERE run_id = ? AND kind = ? ORDER BY seq DESC LIMIT 1",
                           [run_id, events.RUN_STARTED])
        return rows[0] if rows else None

    def runs(self) -> list[dict]:
        rows = self._query("SELECT id, created_at, account_id, dry_run FROM runs ORDER BY created_at, rowid")
        for row in rows:
            row["status"] = self.status(row["id"])
            row["dry_run"] = bool(row["dry_run"])
            row.update(self.outcome_counts(row["id"]))
        return rows

    def completed_units(self, run_id: str, region: str) -> set[tuple[str, str]]:
        rows = self._query("SELECT service, resource_type FROM events WHERE run_id = ? AND region = ? AND kind = ?",
                           [run_id, region, events.UNIT_COMPLETED])
        return {(row["service"], row["resource_type"]) for row in rows}

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

    def summary(self, run_id: str) -> list[dict]:
        """Resources per region, service, type and what became of them (their latest state)."""
        return self._query(
            f"""SELECT region, service, resource_type,
                       CASE kind WHEN '{events.DELETE_REQUESTED}' THEN 'pending' ELSE kind END AS outcome,
                       count(*) AS count
                FROM events WHERE seq IN (
                  SELECT max(seq) FROM events
                  WHERE run_id = ? AND resource_id IS NOT NULL AND kind IN ({_marks(events.RESOURCE_STATES)})
                  GROUP BY region, service, resource_type, resource_id)
                GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4""",
            [run_id, *events.RESOURCE_STATES])

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


def _marks(values) -> str:
    return ", ".join("?" for _ in values)


def _store_error(path: Path, error: sqlite3.DatabaseError) -> StoreError:
    text = str(error)
    if "locked" in text or "busy" in text:
        return StoreError(f"the event log {path} is locked by another program; wait for it to finish, "
                          "or pass --db to use another file")
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return StoreError(f"{path} is not a readable CostCutter event log ({text}); "
                          "move it aside or pass --db to use another file")
    return StoreError(f"the event log {path} cannot be used: {text}")
