"""The kinds of event in the log, and which of them say what became of a resource."""

RUN_STARTED = "run_started"          # also written when a run is resumed
RUN_FINISHED = "run_finished"
RUN_INTERRUPTED = "run_interrupted"
REGION_CRASHED = "region_crashed"    # a region's process died; its unfinished units can be resumed
UNIT_STARTED = "unit_started"        # a unit is one (region, service, resource type)
UNIT_COMPLETED = "unit_completed"
CATALOGED = "cataloged"
WOULD_DELETE = "would_delete"        # dry run
DELETE_REQUESTED = "delete_requested"
DELETED = "deleted"
ALREADY_GONE = "already_gone"
FAILED = "failed"
SKIPPED = "skipped"

RUN_LIFECYCLE = (RUN_STARTED, RUN_FINISHED, RUN_INTERRUPTED)

# The latest of these for a resource is what became of it; delete_requested as the latest
# means the outcome is not known yet (the process stopped in between), which resume settles.
RESOURCE_STATES = (CATALOGED, WOULD_DELETE, DELETE_REQUESTED, DELETED, ALREADY_GONE, FAILED, SKIPPED)
OUTCOMES = (WOULD_DELETE, DELETED, ALREADY_GONE, FAILED, SKIPPED)
DONE = (DELETED, ALREADY_GONE)
PENDING = DELETE_REQUESTED
