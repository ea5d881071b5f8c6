-- Schema version 5: views over the events, for CostCutter's reports and for people (the
-- sqlite3 shell, sqlite-utils, Datasette). A view stores nothing; it is a saved query.
-- The kinds of event named here are those of costcutter/events.py.

-- Every resource of every run, once, in its latest state: what became of it. `outcome` is
-- the latest state, with a teardown begun and not finished ('step_requested', 'step_done',
-- 'delete_requested') shown as 'pending', and a resource only listed as 'cataloged'.
-- `name` is the one its `cataloged` event recorded; `error_code` and `message` say why a
-- resource failed or was kept (`skipped`).
CREATE VIEW resource_states AS
SELECT e.run_id, e.region, e.service, e.resource_type, e.resource_id,
       (SELECT json_extract(c.properties, '$.name') FROM events c
         WHERE c.run_id = e.run_id AND c.region = e.region AND c.service = e.service
           AND c.resource_type = e.resource_type AND c.resource_id = e.resource_id AND c.kind = 'cataloged'
         ORDER BY c.seq DESC LIMIT 1) AS name,
       CASE WHEN e.kind IN ('step_requested', 'step_done', 'delete_requested') THEN 'pending' ELSE e.kind END
         AS outcome,
       e.error_code, e.message, e.at, e.seq
FROM events e
WHERE e.resource_id IS NOT NULL
  AND e.kind IN ('cataloged', 'would_delete', 'step_requested', 'step_done', 'delete_requested', 'deleted',
                 'already_gone', 'failed', 'skipped')
  AND e.seq = (SELECT max(l.seq) FROM events l
               WHERE l.run_id = e.run_id AND l.region = e.region AND l.service = e.service
                 AND l.resource_type = e.resource_type AND l.resource_id = e.resource_id
                 AND l.kind IN ('cataloged', 'would_delete', 'step_requested', 'step_done', 'delete_requested',
                                'deleted', 'already_gone', 'failed', 'skipped'));

-- One row per run: its mode, account, status (finished, interrupted, or incomplete: running
-- now, or killed), when it started and ended, and how many resources ended in each outcome.
CREATE VIEW run_summary AS
SELECT r.id AS run_id, r.account_id, r.dry_run,
       CASE last.kind WHEN 'run_finished' THEN 'finished' WHEN 'run_interrupted' THEN 'interrupted'
         ELSE 'incomplete' END AS status,
       r.created_at AS started_at,
       CASE WHEN last.kind IN ('run_finished', 'run_interrupted') THEN last.at END AS ended_at,
       count(s.resource_id) AS resources,
       count(*) FILTER (WHERE s.outcome = 'would_delete') AS would_delete,
       count(*) FILTER (WHERE s.outcome = 'deleted') AS deleted,
       count(*) FILTER (WHERE s.outcome = 'already_gone') AS already_gone,
       count(*) FILTER (WHERE s.outcome = 'failed') AS failed,
       count(*) FILTER (WHERE s.outcome = 'skipped') AS skipped,
       count(*) FILTER (WHERE s.outcome = 'pending') AS pending
FROM runs r
LEFT JOIN events last ON last.seq = (SELECT max(seq) FROM events
                                     WHERE run_id = r.id AND kind IN ('run_started', 'run_finished', 'run_interrupted'))
LEFT JOIN resource_states s ON s.run_id = r.id
GROUP BY r.id
ORDER BY r.created_at, r.rowid;
