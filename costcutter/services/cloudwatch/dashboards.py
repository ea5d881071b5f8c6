"""CloudWatch dashboards (billed monthly beyond the free three), global: one set per account, whatever the region."""

import json
import uuid

from costcutter import engine, registry
from costcutter.registry import Charge, ResourceType, call, listed

_BODY = json.dumps({"widgets": [{"type": "text", "x": 0, "y": 0, "width": 6, "height": 3,
                                 "properties": {"markdown": "seeded by costcutter"}}]})


def _seed(session, region, count):
    client = session.client("cloudwatch", region_name=region)
    names = [f"costcutter-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for name in names:
        client.put_dashboard(DashboardName=name, DashboardBody=_BODY)
    return names


DASHBOARDS = ResourceType(
    service="cloudwatch", name="dashboards", client="cloudwatch",
    cost=(Charge("cloudwatch.dashboard"),),
    scope=registry.GLOBAL, doc=__doc__,
    list=listed("list_dashboards", "DashboardEntries", "DashboardName", name="DashboardName", tags=None,
                properties={"size": "Size"}),
    steps=(call("delete_dashboards", "DashboardNames", in_list=True),),
    gone_codes=frozenset({"ResourceNotFound"}),
    seed=_seed, missing_id="costcutter-no-such-dashboard",
)
catalog_dashboards, cleanup_dashboard, cleanup_dashboards = engine.functions(DASHBOARDS)
