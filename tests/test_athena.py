"""Athena's quirks: `primary` never listed (moto in process); a missing workgroup told from
other refusals of the same code (botocore's Stubber: moto answers success)."""

import boto3

from aws_doubles import stubbed
from costcutter.services.athena import workgroups

REGION = "eu-west-1"


def test_the_primary_workgroup_is_never_cataloged(session, make_reporter):
    [own] = workgroups.WORKGROUPS.seed(session, REGION, 1)
    names = [w["Name"] for w in boto3.client("athena", region_name=REGION).list_work_groups()["WorkGroups"]]
    assert "primary" in names
    assert [w.id for w in workgroups.catalog_workgroups(session, REGION, make_reporter(REGION))] == [own]


def test_a_missing_workgroup_is_gone_and_another_refusal_fails(session, make_reporter):
    reporter = make_reporter(REGION)
    with stubbed(session, "athena", REGION) as stub:
        stub.add_client_error("delete_work_group", "InvalidRequestException", "WorkGroup gone is not found.")
        assert workgroups.cleanup_workgroup(session, REGION, "gone", reporter, False) == "already_gone"
        stub.add_client_error("delete_work_group", "InvalidRequestException", "Access to the workgroup is denied.")
        assert workgroups.cleanup_workgroup(session, REGION, "other", reporter, False) == "failed"
