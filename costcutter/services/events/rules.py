"""EventBridge rules on every bus: their targets removed, then the rule deleted; never rules an AWS service manages (ManagedBy set).

A rule is known by its ARN, which names its bus and itself (rule/NAME on the default
bus, rule/BUS/NAME on another), so a resume needs nothing but the id. Managed rules
belong to the service that made them and go with what they serve.
"""

import json
import uuid

import botocore.exceptions

from costcutter import engine
from costcutter.registry import ResourceType, Step, pages, record
from costcutter.services.events.event_buses import DEFAULT_BUS, event_buses
from costcutter.services.sqs.queues import create_queue

_GONE = "ResourceNotFoundException"
_MAX_TARGETS_PER_REMOVAL = 100


def name_and_bus(rule_arn: str) -> tuple[str, str]:
    """(rule name, bus name) from a rule's ARN; bus names may hold slashes (partner buses), rule names may not."""
    *bus, name = rule_arn.split(":", 5)[5].split("/")[1:]
    return name, "/".join(bus) or DEFAULT_BUS


def _list(target):
    for bus in event_buses(target.client):
        for page in pages(target.client, "list_rules", EventBusName=bus["Name"]):
            for rule in page["Rules"]:
                if not rule.get("ManagedBy"):
                    yield record(rule, "Arn", name="Name", tags=None, parent="EventBusName",
                                 properties={"state": "State", "schedule": "ScheduleExpression"})


def _remove_targets(target, rule):
    name, bus = name_and_bus(rule.id)
    ids = [each["Id"] for page in pages(target.client, "list_targets_by_rule", Rule=name, EventBusName=bus)
           for each in page["Targets"]]
    for start in range(0, len(ids), _MAX_TARGETS_PER_REMOVAL):
        answer = target.client.remove_targets(Rule=name, EventBusName=bus, Ids=ids[start:start + _MAX_TARGETS_PER_REMOVAL])
        if failed := answer.get("FailedEntries"):
            first = failed[0]
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": first.get("ErrorCode") or "RemoveTargetsFailed",
                           "Message": f"{len(failed)} targets not removed, e.g. {first.get('TargetId')}: "
                                      f"{first.get('ErrorMessage', '')}"}}, "RemoveTargets")
    return f"removed {len(ids)} targets" if ids else "no targets"


def _delete_rule(target, rule):
    name, bus = name_and_bus(rule.id)
    target.client.delete_rule(Name=name, EventBusName=bus)


def _seed(session, region, count):
    """Rules with a target each: half on the default bus, half on a custom bus."""
    client = session.client("events", region_name=region)
    sqs = session.client("sqs", region_name=region)
    _, queue_arn = create_queue(sqs)
    bus = f"costcutter-seed-{uuid.uuid4().hex[:12]}"
    client.create_event_bus(Name=bus)
    arns = []
    for number in range(count):
        name, on_bus = f"costcutter-seed-{uuid.uuid4().hex[:12]}", bus if number % 2 else DEFAULT_BUS
        arns.append(client.put_rule(Name=name, EventBusName=on_bus,
                                    EventPattern=json.dumps({"source": ["costcutter.seed"]}))["RuleArn"])
        client.put_targets(Rule=name, EventBusName=on_bus, Targets=[{"Id": "queue", "Arn": queue_arn}])
    return arns


RULES = ResourceType(
    service="events", name="rules", client="events", doc=__doc__, list=_list,
    steps=(Step("remove_targets", _remove_targets), Step("delete_rule", _delete_rule)),
    gone_codes=frozenset({_GONE}),
    seed=_seed, missing_id="arn:aws:events:us-east-1:123456789012:rule/costcutter-no-such-rule",
)
catalog_rules, cleanup_rule, cleanup_rules = engine.functions(RULES)
