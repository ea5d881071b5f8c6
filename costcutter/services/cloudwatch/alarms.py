"""CloudWatch alarms, composite ones first (referrers before what they name), then metric alarms; never the alarms target tracking scaling policies manage.

AWS refuses to delete an alarm a composite alarm names (ValidationError: "there are
composite alarm(s) depending on it"). So composite alarms come first in the listing,
each after the composite alarms that name it, and the deletions start in that order;
one that is still named is retried (up to wait_timeout) while the alarms naming it go.
A composite alarm that names other composite alarms first has its rule set to FALSE,
which breaks the cycles AWS allows (A names B, B names A). Alarms whose names start
with TargetTracking- belong to a scaling policy, and go with it.

moto has no PutCompositeAlarm: the seed makes metric alarms, and tests/test_cloudwatch.py
checks the composite alarms' order and rules with botocore's Stubber.
"""

import re
import uuid

from costcutter import engine
from costcutter.registry import Charge, ResourceType, Step, call, pages, record

_MANAGED_PREFIX = "TargetTracking-"
_PROPERTIES = {"kind": "kind", "state": "StateValue", "namespace": "Namespace", "metric": "MetricName",
               "period": "Period", "names_composites": "names_composites"}


def _names(text: str, alarm: dict) -> bool:
    """Whether a rule (or an actions suppressor) names this alarm, by name or ARN. A false
    match costs one needless call, never a wrong deletion."""
    return alarm["AlarmArn"] in text or bool(re.search(r'[(",\s]' + re.escape(alarm["AlarmName"]) + r'[)",\s]',
                                                          f" {text} "))


def _references(composite: dict) -> str:
    return f"{composite.get('AlarmRule', '')} {composite.get('ActionsSuppressor', '')}"


def _referrers_first(composites: list[dict]) -> list[tuple[dict, int]]:
    """Each composite alarm after those that name it (a cycle is cut anywhere), with how
    many composite alarms it names itself."""
    by_name = {c["AlarmName"]: c for c in composites}
    named_by = {name: [other for other in by_name if other != name and _names(_references(by_name[other]), alarm)]
                for name, alarm in by_name.items()}
    ordered, seen = [], set()

    def visit(name):
        if name not in seen:
            seen.add(name)
            for referrer in named_by[name]:
                visit(referrer)
            ordered.append((by_name[name], sum(name in named_by[other] for other in by_name)))

    for name in by_name:
        visit(name)
    return ordered


def _list(target):
    composites, metric_alarms = [], []
    for page in pages(target.client, "describe_alarms", AlarmTypes=["CompositeAlarm", "MetricAlarm"]):
        composites += page.get("CompositeAlarms", [])
        metric_alarms += page.get("MetricAlarms", [])
    for composite, named in _referrers_first(composites):
        yield record({**composite, "kind": "composite", "names_composites": named or None}, "AlarmName",
                     name="AlarmName", tags=None, properties=_PROPERTIES)
    for alarm in metric_alarms:
        if not alarm["AlarmName"].startswith(_MANAGED_PREFIX):
            yield record({**alarm, "kind": "metric"}, "AlarmName", name="AlarmName", tags=None, properties=_PROPERTIES)


def _clear_rule(target, alarm):
    target.client.put_composite_alarm(AlarmName=alarm.id, AlarmRule="FALSE")


def _seed(session, region, count):
    client = session.client("cloudwatch", region_name=region)
    names = [f"costcutter-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for name in names:
        client.put_metric_alarm(AlarmName=name, Namespace="AWS/EC2", MetricName="CPUUtilization", Statistic="Average",
                                Period=300, EvaluationPeriods=1, Threshold=90, ComparisonOperator="GreaterThanThreshold")
    return names


def _alarm_class(alarm):
    if alarm.get("kind") == "composite":
        return {"alarm_class": "composite"}
    return {"alarm_class": "high_resolution" if (alarm.get("period") or 60) < 60 else "standard"}


ALARMS = ResourceType(
    service="cloudwatch", name="alarms", client="cloudwatch",
    cost=(Charge("cloudwatch.alarm.{alarm_class}", fields=_alarm_class),),
    doc=__doc__, list=_list,
    steps=(Step("clear_rule", _clear_rule, when=lambda alarm: bool(alarm.properties.get("names_composites"))),
           call("delete_alarms", "AlarmNames", in_list=True)),
    gone_codes=frozenset({"ResourceNotFound"}),
    # DeleteAlarms of one listed alarm fails this way only while a composite alarm names it.
    retry_codes=frozenset({"ValidationError"}),
    seed=_seed, missing_id="costcutter-no-such-alarm",
)
catalog_alarms, cleanup_alarm, cleanup_alarms = engine.functions(ALARMS)
