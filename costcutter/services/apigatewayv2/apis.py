"""API Gateway v2 APIs (HTTP and WebSocket), deleted with their routes, integrations and stages; never APIs another service manages.

An API with ApiGatewayManaged set belongs to the service that created it, which alone
can delete it; it goes with its owner.
"""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def _seed(session, region, count):
    client = session.client("apigatewayv2", region_name=region)
    return [client.create_api(Name=f"costcutter-seed-{uuid.uuid4().hex[:8]}", ProtocolType="HTTP",
                              Tags={"seeded-by": "costcutter"})["ApiId"] for _ in range(count)]


APIS = ResourceType(
    service="apigatewayv2", name="apis", client="apigatewayv2", doc=__doc__,
    list=listed("get_apis", "Items", "ApiId", name="Name", created="CreatedDate",
                keep=lambda api: not api.get("ApiGatewayManaged"), properties={"protocol_type": "ProtocolType"}),
    steps=deleted_by("delete_api", "ApiId"),
    gone_codes=frozenset({"NotFoundException"}),
    retry_codes=frozenset({"TooManyRequestsException", "ConflictException"}),
    seed=_seed, missing_id="a1b2c3d4e5",
)
catalog_apis, cleanup_api, cleanup_apis = engine.functions(APIS)
