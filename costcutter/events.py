"""The kinds of event in the log, and which of them say what became of a resource."""

RUN_STARTED = "run_started"          # also written when a run is resumed
RUN_FINISHED = "run_finished"
RUN_INTERRUPTED = "run_interrupted"
REGION_CRASHED = "region_crashed"    # a region's process died; its unfinished units can be resumed
UNIT_STARTED = "unit_started"        # a unit is one (region, service, resource type)
UNIT_COMPLETED = "unit_completed"
CATALOGED = "cataloged"              # with the resource's name, tags, creation time and properties
STEP_REQUESTED = "step_requested"    # a step of a teardown before the deletion (disable protection, detach)
STEP_DONE = "step_done"
WOULD_DELETE = "would_delete"        # dry run
DELETE_REQUESTED = "delete_requested"
DELETED = "deleted"
ALREADY_GONE = "already_gone"
FAILED = "failed"
SKIPPED = "skipped"

RUN_LIFECYCLE = (RUN_STARTED, RUN_FINISHED, RUN_INTERRUPTED)

# The latest of these for a resource is what became of it; one IN_PROGRESS as the latest
# means the outcome is not known yet (the process stopped in between), which resume settles.
RESOURCE_STATES = (CATALOGED, WOULD_DELETE, STEP_REQUESTED, STEP_DONE, DELETE_REQUESTED, DELETED, ALREADY_GONE,
                   FAILED, SKIPPED)
OUTCOMES = (WOULD_DELETE, DELETED, ALREADY_GONE, FAILED, SKIPPED)
DONE = (DELETED, ALREADY_GONE)
IN_PROGRESS = (STEP_REQUESTED, STEP_DONE, DELETE_REQUESTED)  # reported as "pending"
