"""SageMaker endpoint configurations, once the endpoints using them are gone: deleted."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, listed
from costcutter.services.sagemaker import NOT_FOUND, sagemaker_call
from costcutter.services.sagemaker.models import create_model


def create_endpoint_config(sagemaker) -> str:
    name = f"costcutter-seed-{uuid.uuid4().hex[:8]}"
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[
        {"VariantName": "main", "ModelName": create_model(sagemaker), "InitialInstanceCount": 1,
         "InstanceType": "ml.t2.medium"}])
    return name


def _seed(session, region, count):
    sagemaker = session.client("sagemaker", region_name=region)
    return [create_endpoint_config(sagemaker) for _ in range(count)]


ENDPOINT_CONFIGS = ResourceType(
    service="sagemaker", name="endpoint_configs", client="sagemaker", depends_on=("endpoints",), doc=__doc__,
    list=listed("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName", name="EndpointConfigName",
                created="CreationTime", tags=None),
    steps=(sagemaker_call("delete_endpoint_config", "EndpointConfigName"),),
    gone_codes=frozenset({NOT_FOUND}),
    seed=_seed, missing_id="costcutter-no-such-endpoint-config",
)
catalog_endpoint_configs, cleanup_endpoint_config, cleanup_endpoint_configs = engine.functions(ENDPOINT_CONFIGS)
