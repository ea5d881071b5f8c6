"""CloudFormation's quirks: nested stacks left to their parent, termination protection
skipped (moto in process) or lifted, and the wait (botocore's Stubber: moto has no
UpdateTerminationProtection, and deletes at once)."""

import json
from datetime import datetime, timezone

import boto3

from aws_doubles import stubbed, watch
from costcutter.services.cloudformation import stacks

REGION = "eu-west-1"
CREATED = datetime(2025, 1, 2, tzinfo=timezone.utc)


def arn(name):
    return f"arn:aws:cloudformation:{REGION}:123456789012:stack/{name}/01234567-89ab-cdef-0123-456789abcdef"


def stack(name, status="CREATE_COMPLETE", protected=False, parent=None):
    item = {"StackId": arn(name), "StackName": name, "CreationTime": CREATED, "StackStatus": status,
            "EnableTerminationProtection": protected}
    return {**item, "ParentId": arn(parent), "RootId": arn(parent)} if parent else item


def test_nested_stacks_and_stacks_already_going_are_not_cataloged(session, make_reporter):
    with stubbed(session, "cloudformation", REGION) as stub:
        stub.add_response("describe_stacks", {"Stacks": [
            stack("app"), stack("app-Network-1ABC", parent="app"), stack("old", status="DELETE_IN_PROGRESS")]}, {})
        listed = stacks.catalog_stacks(session, REGION, make_reporter(REGION))
    assert [s.name for s in listed] == ["app"]


def test_a_protected_stack_is_skipped_and_the_others_are_deleted(session, make_reporter):
    cloudformation = boto3.client("cloudformation", region_name=REGION)
    template = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})
    protected = cloudformation.create_stack(StackName="kept", TemplateBody=template,
                                            EnableTerminationProtection=True)["StackId"]
    other = cloudformation.create_stack(StackName="other", TemplateBody=template)["StackId"]
    deletes = watch(session, "cloudformation", REGION, "DeleteStack")
    outcomes = stacks.cleanup_stacks(session, REGION, make_reporter(REGION), dry_run=False)
    assert outcomes == {protected: "skipped", other: "deleted"}
    assert deletes == [{"StackName": other}]


def test_a_protected_stack_is_unprotected_deleted_and_waited_for_when_the_settings_allow(session, make_reporter):
    reporter = make_reporter(REGION, settings={"remove_deletion_protection": True})
    going = {"StackId": arn("app"), "StackName": "app", "CreationTime": CREATED, "StackStatus": "DELETE_IN_PROGRESS"}
    with stubbed(session, "cloudformation", REGION) as stub:
        stub.add_response("describe_stacks", {"Stacks": [stack("app", protected=True)]}, {})
        stub.add_response("update_termination_protection", {"StackId": arn("app")},
                          {"StackName": arn("app"), "EnableTerminationProtection": False})
        stub.add_response("delete_stack", {}, {"StackName": arn("app")})
        stub.add_response("list_stacks", {"StackSummaries": [going]}, {"StackStatusFilter": ["DELETE_IN_PROGRESS"]})
        stub.add_response("list_stacks", {"StackSummaries": []}, {"StackStatusFilter": ["DELETE_IN_PROGRESS"]})
        assert stacks.cleanup_stacks(session, REGION, reporter, dry_run=False) == {arn("app"): "deleted"}
    assert [(e["kind"], e["message"]) for e in reporter.events() if e["kind"] != "cataloged"] == [
        ("step_requested", "remove_termination_protection"), ("step_done", "remove_termination_protection"),
        ("delete_requested", None), ("deleted", None)]
