"""EventBridge custom and partner event buses, after the rules on them; never the account's `default` bus."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, record

DEFAULT_BUS = "default"


def event_buses(client):
    """Every event bus of the region; ListEventBuses pages by NextToken without a paginator."""
    params = {}
    while True:
        page = client.list_event_buses(**params)
        yield from page["EventBuses"]
        if not page.get("NextToken"):
            return
        params["NextToken"] = page["NextToken"]


def _list(target):
    for bus in event_buses(target.client):
        if bus["Name"] != DEFAULT_BUS:
            yield record(bus, "Name", name="Name", created="CreationTime", tags=None)


def _seed(session, region, count):
    client = session.client("events", region_name=region)
    names = [f"costcutter-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for name in names:
        client.create_event_bus(Name=name)
    return names


EVENT_BUSES = ResourceType(
    service="events", name="event_buses", client="events", depends_on=("rules",), doc=__doc__, list=_list,
    steps=deleted_by("delete_event_bus", "Name"),
    gone_codes=frozenset({"ResourceNotFoundException"}),
    seed=_seed, missing_id="costcutter-no-such-bus",
)
catalog_event_buses, cleanup_event_bus, cleanup_event_buses = engine.functions(EVENT_BUSES)
