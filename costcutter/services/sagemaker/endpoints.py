"""SageMaker endpoints: billed per instance hour while they exist; deleted, then waited for."""

from costcutter import engine
from costcutter.registry import ResourceType, listed, seed_names, still_listed
from costcutter.services.sagemaker import NOT_FOUND, sagemaker_call
from costcutter.services.sagemaker.endpoint_configs import create_endpoint_config


def _seed(session, region, count):
    sagemaker = session.client("sagemaker", region_name=region)
    return seed_names(count, lambda name: sagemaker.create_endpoint(
        EndpointName=name, EndpointConfigName=create_endpoint_config(sagemaker)))


ENDPOINTS = ResourceType(
    service="sagemaker", name="endpoints", client="sagemaker", doc=__doc__,
    list=listed("list_endpoints", "Endpoints", "EndpointName", name="EndpointName", created="CreationTime", tags=None,
                keep=lambda endpoint: endpoint["EndpointStatus"] != "Deleting",
                properties={"status": "EndpointStatus"}),
    steps=(sagemaker_call("delete_endpoint", "EndpointName"),),
    wait=still_listed("list_endpoints", "Endpoints", "EndpointName"),
    gone_codes=frozenset({NOT_FOUND}),
    seed=_seed, missing_id="costcutter-no-such-endpoint",
)
catalog_endpoints, cleanup_endpoint, cleanup_endpoints = engine.functions(ENDPOINTS)
