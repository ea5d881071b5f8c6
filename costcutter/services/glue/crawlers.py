"""Glue crawlers: stopped if running, then deleted."""

from costcutter import engine
from costcutter.registry import ResourceType, Step, call, listed, seed_names
from costcutter.services.glue.jobs import SEED_ROLE


def _seed(session, region, count):
    glue = session.client("glue", region_name=region)
    return seed_names(count, lambda name: glue.create_crawler(
        Name=name, Role=SEED_ROLE, DatabaseName="costcutter_seed",
        Targets={"S3Targets": [{"Path": "s3://costcutter-seed/data/"}]}))


CRAWLERS = ResourceType(
    service="glue", name="crawlers", client="glue", doc=__doc__,
    list=listed("get_crawlers", "Crawlers", "Name", name="Name", created="CreationTime", tags=None,
                properties={"state": "State", "database": "DatabaseName"}),
    steps=(
        Step("stop", call("stop_crawler", "Name").call, when=lambda crawler: crawler.raw.get("State") == "RUNNING",
             done_codes=frozenset({"CrawlerNotRunningException", "CrawlerStoppingException"})),
        call("delete_crawler", "Name"),
    ),
    gone_codes=frozenset({"EntityNotFoundException"}),
    # A crawler stops at the end of what it is reading; its schedule may be changing.
    retry_codes=frozenset({"CrawlerRunningException", "SchedulerTransitioningException"}),
    seed=_seed, missing_id="costcutter-no-such-crawler",
)
catalog_crawlers, cleanup_crawler, cleanup_crawlers = engine.functions(CRAWLERS)
