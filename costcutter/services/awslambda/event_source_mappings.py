"""Lambda event source mappings (the pollers of queues and streams): deleted and waited for, before their functions and sources.

AWS deletes a mapping in the background (its state turns Deleting); one listing of the
region's mappings per poll tells which are still there.
"""

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed, pages
from costcutter.services.awslambda.functions import create_function, seed_role
from costcutter.services.sqs.queues import create_queue

_PROPERTIES = {"state": "State", "event_source_arn": "EventSourceArn", "function_arn": "FunctionArn",
               "batch_size": "BatchSize"}


def _mappings(target):
    for page in pages(target.client, "list_event_source_mappings"):
        yield from page["EventSourceMappings"]


def _still_deleting(target, ids):
    wanted = set(ids)
    return [mapping["UUID"] for mapping in _mappings(target) if mapping["UUID"] in wanted]


def _seed(session, region, count):
    client = session.client("lambda", region_name=region)
    sqs = session.client("sqs", region_name=region)
    function = create_function(client, seed_role(session))
    made = []
    for _ in range(count):
        _, queue_arn = create_queue(sqs)
        made.append(client.create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=function)["UUID"])
    return made


EVENT_SOURCE_MAPPINGS = ResourceType(
    service="lambda", name="event_source_mappings", client="lambda", doc=__doc__,
    list=listed("list_event_source_mappings", "EventSourceMappings", "UUID", tags=None, properties=_PROPERTIES,
                keep=lambda mapping: mapping.get("State") != "Deleting"),
    steps=deleted_by("delete_event_source_mapping", "UUID"),
    wait=_still_deleting,
    gone_codes=frozenset({"ResourceNotFoundException"}),
    # A mapping still being created, enabled or updated refuses until that is done.
    retry_codes=frozenset({"ResourceInUseException"}),
    seed=_seed, missing_id="0123abcd-0123-4567-89ab-0123456789ab",
)
catalog_event_source_mappings, cleanup_event_source_mapping, cleanup_event_source_mappings = \
    engine.functions(EVENT_SOURCE_MAPPINGS)
