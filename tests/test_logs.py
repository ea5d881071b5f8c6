"""CloudWatch Logs log groups: deletion protection, which moto neither shows nor lifts,
checked with botocore's Stubber on AWS's answers; the creation time, which AWS gives in
epoch milliseconds."""

from costcutter.services.logs import log_groups

REGION = "eu-west-1"
GROUP = "/aws/lambda/orders"


def listing(protected):
    return {"logGroups": [{"logGroupName": GROUP, "creationTime": 1735776000000, "storedBytes": 2048,
                           "arn": f"arn:aws:logs:eu-west-1:123456789012:log-group:{GROUP}:*",
                           "deletionProtectionEnabled": protected}]}


def test_a_protected_group_is_skipped_unless_the_settings_allow_lifting_it(session, stubbed, make_reporter):
    reporter = make_reporter(REGION)
    stubbed(session, "logs", REGION).add_response("describe_log_groups", listing(protected=True))

    assert log_groups.cleanup_log_groups(session, REGION, reporter, dry_run=False) == {GROUP: "skipped"}

    [skipped] = reporter.events("skipped")
    assert "set remove_deletion_protection: true" in skipped["message"]


def test_protection_is_lifted_first_where_the_settings_allow(session, stubbed, make_reporter):
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    stubber = stubbed(session, "logs", REGION)
    stubber.add_response("describe_log_groups", listing(protected=True))
    stubber.add_response("put_log_group_deletion_protection", {},
                         {"logGroupIdentifier": GROUP, "deletionProtectionEnabled": False})
    stubber.add_response("delete_log_group", {}, {"logGroupName": GROUP})

    assert log_groups.cleanup_log_groups(session, REGION, reporter, dry_run=False) == {GROUP: "deleted"}

    assert [e["message"] for e in reporter.events("step_done")] == ["disable_deletion_protection"]


def test_an_unprotected_group_is_deleted_with_no_other_call(session, stubbed, make_reporter):
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    stubber = stubbed(session, "logs", REGION)
    stubber.add_response("describe_log_groups", listing(protected=False))
    stubber.add_response("delete_log_group", {}, {"logGroupName": GROUP})

    assert log_groups.cleanup_log_groups(session, REGION, reporter, dry_run=False) == {GROUP: "deleted"}


def test_the_creation_time_is_read_from_epoch_milliseconds(session, stubbed, make_reporter):
    stubbed(session, "logs", REGION).add_response("describe_log_groups", listing(protected=False))
    [group] = log_groups.catalog_log_groups(session, REGION, make_reporter(REGION))
    assert (group.created, group.properties["stored_bytes"]) == ("2025-01-02T00:00:00+00:00", 2048)
