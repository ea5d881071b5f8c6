-- Schema version 6: the plan a run applies. `costcutter apply PLAN_RUN_ID` starts a real run
-- that deletes exactly what that dry run recorded as would_delete; the link is kept here,
-- so a resume of the apply reads its restriction from the log. NULL for every other run.

ALTER TABLE runs ADD COLUMN plan_run_id TEXT REFERENCES runs(id);
