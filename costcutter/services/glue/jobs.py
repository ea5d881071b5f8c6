"""Glue ETL jobs: deleted (their runs stop being scheduled with them)."""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed, seed_names

SEED_ROLE = "arn:aws:iam::123456789012:role/costcutter-seed-glue"


def _seed(session, region, count):
    glue = session.client("glue", region_name=region)
    return seed_names(count, lambda name: glue.create_job(
        Name=name, Role=SEED_ROLE, WorkerType="G.1X", NumberOfWorkers=2, GlueVersion="4.0",
        Command={"Name": "glueetl", "ScriptLocation": "s3://costcutter-seed/job.py"}))


JOBS = ResourceType(
    service="glue", name="jobs", client="glue", doc=__doc__,
    list=listed("get_jobs", "Jobs", "Name", name="Name", created="CreatedOn", tags=None,
                properties={"worker_type": "WorkerType", "workers": "NumberOfWorkers", "max_capacity": "MaxCapacity",
                            "glue_version": "GlueVersion"}),
    # DeleteJob answers success for a job that does not exist.
    steps=deleted_by("delete_job", "JobName"),
    gone_codes=frozenset({"EntityNotFoundException"}),
    seed=_seed, missing_id="costcutter-no-such-job",
)
catalog_jobs, cleanup_job, cleanup_jobs = engine.functions(JOBS)
