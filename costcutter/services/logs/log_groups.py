"""CloudWatch Logs log groups, deleted with their streams and stored events, after the functions, state machines and APIs that write to them.

A log group with deletion protection (shown in the listing) is lifted or skipped, as
remove_deletion_protection says.
"""

import dataclasses
import uuid
from datetime import datetime, timezone

from costcutter import engine
from costcutter.registry import GB, Charge, Protection, ResourceType, Step, deleted_by, pages, per, record

_PROPERTIES = {"stored_bytes": "storedBytes", "retention_days": "retentionInDays", "class": "logGroupClass",
               "kms_key": "kmsKeyId"}


def _list(target):
    for page in pages(target.client, "describe_log_groups"):
        for group in page["logGroups"]:
            resource = record(group, "logGroupName", name="logGroupName", tags=None, properties=_PROPERTIES)
            yield dataclasses.replace(resource, created=_from_milliseconds(group.get("creationTime")))


def _from_milliseconds(epoch_ms) -> str | None:
    return datetime.fromtimestamp(epoch_ms / 1000, timezone.utc).isoformat() if epoch_ms is not None else None


def _disable_deletion_protection(target, group):
    target.client.put_log_group_deletion_protection(logGroupIdentifier=group.id, deletionProtectionEnabled=False)


def _seed(session, region, count):
    client = session.client("logs", region_name=region)
    names = []
    for _ in range(count):
        name = f"/costcutter/seed/{uuid.uuid4().hex[:12]}"
        client.create_log_group(logGroupName=name)
        client.create_log_stream(logGroupName=name, logStreamName="seed")
        client.put_log_events(logGroupName=name, logStreamName="seed", logEvents=[
            {"timestamp": int(datetime.now(timezone.utc).timestamp() * 1000), "message": "costs money to keep"}])
        names.append(name)
    return names


LOG_GROUPS = ResourceType(
    service="logs", name="log_groups", client="logs",
    cost=(Charge("logs.storage", per("stored_bytes", GB)),),
    doc=__doc__, list=_list,
    depends_on=(
        "lambda.functions", "stepfunctions.state_machines", "apigateway.rest_apis", "apigatewayv2.apis",
        "ecs.services", "ecs.clusters", "eks.clusters", "rds.db_instances", "opensearch.domains",
    ),
    steps=deleted_by("delete_log_group", "logGroupName"),
    # moto neither reports deletionProtectionEnabled nor has PutLogGroupDeletionProtection:
    # tests/test_logs.py checks the protection with botocore's Stubber. A deletion refused
    # for protection set after the listing is a ValidationException, too general to read
    # as protection, so it fails with AWS's message.
    protection=Protection("remove_deletion_protection", Step("disable_deletion_protection",
                                                             _disable_deletion_protection),
                          is_on=lambda group: bool(group.raw.get("deletionProtectionEnabled"))),
    gone_codes=frozenset({"ResourceNotFoundException"}),
    # Another change to the group in flight.
    retry_codes=frozenset({"OperationAbortedException"}),
    seed=_seed, missing_id="/costcutter/no-such-log-group",
)
catalog_log_groups, cleanup_log_group, cleanup_log_groups = engine.functions(LOG_GROUPS)
