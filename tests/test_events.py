"""EventBridge's quirks: the default bus and managed rules are never listed, and a rule's
targets go before it, on whichever bus it is."""

import json

import boto3
import pytest

from costcutter.services.events import event_buses, rules
from costcutter.services.events.rules import name_and_bus
from costcutter.services.sqs.queues import create_queue

REGION = "eu-west-1"
PATTERN = json.dumps({"source": ["orders"]})


@pytest.fixture
def events(aws_mock):
    return boto3.client("events", region_name=REGION)


@pytest.fixture
def reporter(make_reporter):
    return make_reporter(REGION)


def rule_with_targets(events, name, bus="default", targets=2):
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)["RuleArn"]
    queue = create_queue(boto3.client("sqs", region_name=REGION))[1]
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": f"t{n}", "Arn": queue} for n in range(targets)])
    return arn


@pytest.mark.parametrize("arn, expected", [
    ("arn:aws:events:eu-west-1:123456789012:rule/nightly", ("nightly", "default")),
    ("arn:aws:events:eu-west-1:123456789012:rule/orders/on-paid", ("on-paid", "orders")),
    ("arn:aws:events:eu-west-1:123456789012:rule/aws.partner/saas.com/123/feed/sync", ("sync", "aws.partner/saas.com/123/feed")),
])
def test_a_rule_arn_names_its_bus_and_itself(arn, expected):
    assert name_and_bus(arn) == expected


def test_the_default_bus_is_never_listed(session, events, reporter):
    events.create_event_bus(Name="orders")
    assert [r.id for r in event_buses.catalog_event_buses(session, REGION, reporter)] == ["orders"]


def test_rules_on_every_bus_lose_their_targets_then_go(session, events, reporter):
    events.create_event_bus(Name="orders")
    on_default = rule_with_targets(events, "nightly")
    on_orders = rule_with_targets(events, "on-paid", bus="orders")

    outcomes = rules.cleanup_rules(session, REGION, reporter, dry_run=False)

    assert outcomes == {on_default: "deleted", on_orders: "deleted"}
    assert events.list_rules()["Rules"] == events.list_rules(EventBusName="orders")["Rules"] == []
    assert sorted(e["message"] for e in reporter.events("step_done")) == ["remove_targets: removed 2 targets"] * 2
    for arn in (on_default, on_orders):
        kinds = [e["kind"] for e in reporter.events() if e["resource_id"] == arn]
        assert kinds == ["cataloged", "step_requested", "step_done", "delete_requested", "deleted"]


def test_rules_an_aws_service_manages_are_never_listed(session, stubbed, reporter):
    # moto cannot make a managed rule: the listings are AWS's, stubbed.
    stubber = stubbed(session, "events", REGION)
    stubber.add_response("list_event_buses", {"EventBuses": [
        {"Name": "default", "Arn": "arn:aws:events:eu-west-1:123456789012:event-bus/default"}]})
    ours = {"Name": "nightly", "Arn": "arn:aws:events:eu-west-1:123456789012:rule/nightly", "State": "ENABLED",
            "ScheduleExpression": "rate(1 day)", "EventBusName": "default"}
    managed = {"Name": "AutoScalingManagedRule", "State": "ENABLED", "ManagedBy": "autoscaling.amazonaws.com",
               "Arn": "arn:aws:events:eu-west-1:123456789012:rule/AutoScalingManagedRule", "EventBusName": "default"}
    stubber.add_response("list_rules", {"Rules": [ours, managed]}, {"EventBusName": "default"})

    [listed] = rules.catalog_rules(session, REGION, reporter)

    assert (listed.id, listed.parent, listed.properties["schedule"]) == (ours["Arn"], "default", "rate(1 day)")


def test_a_target_that_will_not_go_fails_the_rule_with_the_reason(session, stubbed, reporter):
    stubber = stubbed(session, "events", REGION)
    arn = "arn:aws:events:eu-west-1:123456789012:rule/orders/on-paid"
    stubber.add_response("list_targets_by_rule", {"Targets": [{"Id": "q", "Arn": "arn:aws:sqs:eu-west-1:1:q"}]},
                         {"Rule": "on-paid", "EventBusName": "orders"})
    stubber.add_response("remove_targets", {"FailedEntryCount": 1, "FailedEntries": [
        {"TargetId": "q", "ErrorCode": "ConcurrentModificationException", "ErrorMessage": "try again"}]})

    assert rules.cleanup_rule(session, REGION, arn, reporter, False) == "failed"

    [failed] = reporter.events("failed")
    assert failed["error_code"] == "ConcurrentModificationException"
    assert failed["message"] == "remove_targets: 1 targets not removed, e.g. q: try again"
