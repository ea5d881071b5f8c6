"""CloudWatch alarms: composite alarms go first, each after the composite alarms that name
it, and cycles are broken; alarms of target tracking policies are never listed. moto has
no PutCompositeAlarm, so composite alarms are AWS's answers through botocore's Stubber."""

from datetime import datetime, timezone

import boto3

from costcutter.services.cloudwatch import alarms

REGION = "eu-west-1"
ARN = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:"
WHEN = datetime(2025, 1, 2, tzinfo=timezone.utc)


def composite(name, rule):
    return {"AlarmName": name, "AlarmArn": ARN + name, "AlarmRule": rule, "StateValue": "OK",
            "AlarmConfigurationUpdatedTimestamp": WHEN}


def metric(name):
    return {"AlarmName": name, "AlarmArn": ARN + name, "StateValue": "OK", "Namespace": "AWS/EC2",
            "MetricName": "CPUUtilization", "Period": 300}


# "service" names "database" (by ARN) and "web"; "web" names the metric alarm "cpu"; "a" and "b" name each other.
LISTING = {
    "CompositeAlarms": [composite("web", 'ALARM("cpu")'), composite("a", "ALARM(b)"),
                        composite("service", f'ALARM(web) OR ALARM("{ARN}database")'),
                        composite("database", "TRUE"), composite("b", 'ALARM("a") AND OK(cpu)')],
    "MetricAlarms": [metric("cpu"), metric("TargetTracking-table/orders-AlarmHigh-1a2b")],
}


def stub_listing(stubbed, session):
    stubber = stubbed(session, "cloudwatch", REGION)
    stubber.add_response("describe_alarms", LISTING, {"AlarmTypes": ["CompositeAlarm", "MetricAlarm"]})
    return stubber


def test_composites_come_first_each_after_those_naming_it_and_scaling_alarms_never(session, stubbed, make_reporter):
    stub_listing(stubbed, session)

    listed = alarms.catalog_alarms(session, REGION, make_reporter(REGION))

    order = [alarm.id for alarm in listed]
    assert order.index("service") < order.index("web") and order.index("service") < order.index("database")
    assert sorted(order[:5]) == ["a", "b", "database", "service", "web"] and order[5:] == ["cpu"]
    names_composites = {alarm.id: alarm.properties.get("names_composites") for alarm in listed}
    assert names_composites == {"service": 2, "web": None, "database": None, "a": 1, "b": 1, "cpu": None}
    assert {alarm.properties["kind"] for alarm in listed if alarm.id != "cpu"} == {"composite"}


def test_a_composite_naming_composites_has_its_rule_cleared_before_its_deletion(session, stubbed, make_reporter):
    reporter = make_reporter(REGION, threads=1)  # one at a time, in the listing's order
    stubber = stub_listing(stubbed, session)
    for alarm, names_composites in alarms._referrers_first(LISTING["CompositeAlarms"]):
        if names_composites:
            stubber.add_response("put_composite_alarm", {}, {"AlarmName": alarm["AlarmName"], "AlarmRule": "FALSE"})
        stubber.add_response("delete_alarms", {}, {"AlarmNames": [alarm["AlarmName"]]})
    stubber.add_response("delete_alarms", {}, {"AlarmNames": ["cpu"]})

    outcomes = alarms.cleanup_alarms(session, REGION, reporter, dry_run=False)

    assert set(outcomes.values()) == {"deleted"}
    assert sorted(e["resource_id"] for e in reporter.events("step_done")) == ["a", "b", "service"]


def test_an_alarm_still_named_by_a_composite_is_retried(session, stubbed, make_reporter):
    reporter = make_reporter(REGION)
    stubber = stubbed(session, "cloudwatch", REGION)
    stubber.add_client_error("delete_alarms", "ValidationError",
                             "Cannot delete cpu as there are composite alarm(s) depending on it.", 400)
    stubber.add_response("delete_alarms", {}, {"AlarmNames": ["cpu"]})

    assert alarms.cleanup_alarm(session, REGION, "cpu", reporter, False) == "deleted"


def test_target_tracking_alarms_are_left_to_their_scaling_policy(session, make_reporter):
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    for name in ("TargetTracking-service/web-AlarmLow-0f1e", "cpu-high"):
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/ECS", MetricName="CPUUtilization",
                                    Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=80,
                                    ComparisonOperator="GreaterThanThreshold")
    assert [a.id for a in alarms.catalog_alarms(session, REGION, make_reporter(REGION))] == ["cpu-high"]
