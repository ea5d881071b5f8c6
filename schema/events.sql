-- The event log: CostCutter's one source of truth. Progress, run status, reports,
-- CSV exports and resume are all queries over these two tables.
-- Events are append-only: nothing updates or deletes a row.
--
-- Schema version 1. The later versions are the events-N-*.sql files, applied in order by
-- costcutter/store.py (MIGRATIONS); a version that has shipped is never edited.

CREATE TABLE IF NOT EXISTS runs (
    id          TEXT PRIMARY KEY,      -- short id a person can type, e.g. k7m2qx9a
    created_at  TEXT NOT NULL,         -- ISO 8601, UTC
    account_id  TEXT,
    dry_run     INTEGER NOT NULL,      -- 1 for a dry run
    config      TEXT NOT NULL,         -- the resolved configuration, JSON, no secrets
    version     TEXT NOT NULL          -- CostCutter version that started the run
);

CREATE TABLE IF NOT EXISTS events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id        TEXT NOT NULL REFERENCES runs(id),
    at            TEXT NOT NULL,       -- ISO 8601, UTC, microseconds
    kind          TEXT NOT NULL,       -- see costcutter/events.py: Kind
    region        TEXT,
    service       TEXT,
    resource_type TEXT,
    resource_id   TEXT,                -- id or ARN
    error_code    TEXT,                -- AWS error code, for failures
    message       TEXT,                -- why, for failures and skips; details otherwise
    pid           INTEGER NOT NULL,
    host          TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS events_by_run_kind ON events (run_id, kind);
CREATE INDEX IF NOT EXISTS events_by_resource ON events (run_id, region, service, resource_type, resource_id);
