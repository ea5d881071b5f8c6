"""API Gateway REST APIs, deleted with their stages, deployments and caches (a stage's cache is billed by the hour).

AWS lets an account delete one REST API every 30 seconds; a refused deletion
(TooManyRequestsException) is retried, with backoff, up to wait_timeout.
"""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def _seed(session, region, count):
    client = session.client("apigateway", region_name=region)
    return [client.create_rest_api(name=f"costcutter-seed-{uuid.uuid4().hex[:8]}", tags={"seeded-by": "costcutter"})["id"]
            for _ in range(count)]


REST_APIS = ResourceType(
    service="apigateway", name="rest_apis", client="apigateway", doc=__doc__,
    list=listed("get_rest_apis", "items", "id", name="name", created="createdDate", tags="tags",
                properties={"endpoint_types": "endpointConfiguration.types"}),
    steps=deleted_by("delete_rest_api", "restApiId"),
    # moto answers the deletion of an unknown id with a KeyError (a 500), not AWS's
    # NotFoundException: tests/test_apigateway.py checks that case with botocore's Stubber.
    gone_codes=frozenset({"NotFoundException"}),
    retry_codes=frozenset({"TooManyRequestsException", "ConflictException"}),
    seed=_seed, missing_id="a1b2c3d4e5",
)
catalog_rest_apis, cleanup_rest_api, cleanup_rest_apis = engine.functions(REST_APIS)
