"""Glue's quirks, against moto in process: a running crawler stopped before its deletion,
the `default` database never listed."""

import boto3
import pytest

from aws_doubles import watch
from costcutter.services.glue import crawlers, databases

REGION = "eu-west-1"


@pytest.fixture
def glue(aws_mock):
    return boto3.client("glue", region_name=REGION)


def test_a_running_crawler_is_stopped_then_deleted_and_an_idle_one_just_deleted(session, glue, make_reporter):
    running, idle = crawlers.CRAWLERS.seed(session, REGION, 2)
    glue.start_crawler(Name=running)
    stops = watch(session, "glue", REGION, "StopCrawler")
    reporter = make_reporter(REGION)
    assert crawlers.cleanup_crawlers(session, REGION, reporter, dry_run=False) == {running: "deleted", idle: "deleted"}
    assert stops == [{"Name": running}]
    assert [e["resource_id"] for e in reporter.events("step_done")] == [running]
    assert glue.get_crawlers()["Crawlers"] == []


def test_the_default_database_is_never_cataloged(session, glue, make_reporter):
    glue.create_database(DatabaseInput={"Name": "default"})
    [own] = databases.DATABASES.seed(session, REGION, 1)
    assert [d.id for d in databases.catalog_databases(session, REGION, make_reporter(REGION))] == [own]
