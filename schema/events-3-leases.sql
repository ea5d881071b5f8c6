-- Schema version 3: which process is running a run. A run is claimed before any AWS call
-- and released at its end; a second process refuses to run it while the claim holds.
-- Unlike events, a lease is updated (its heartbeat) and deleted (released).

CREATE TABLE run_leases (
    run_id       TEXT PRIMARY KEY REFERENCES runs(id),
    host         TEXT NOT NULL,     -- the holder: host name and process id
    pid          INTEGER NOT NULL,
    token        TEXT NOT NULL,     -- random, so a holder only ever touches its own lease
    claimed_at   TEXT NOT NULL,     -- ISO 8601, UTC
    heartbeat_at TEXT NOT NULL      -- refreshed every few seconds while the run goes on
);
