"""SageMaker models, once the endpoint configurations naming them are gone: deleted."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, listed
from costcutter.services.sagemaker import NOT_FOUND, SEED_ROLE, sagemaker_call


def create_model(sagemaker) -> str:
    name = f"costcutter-seed-{uuid.uuid4().hex[:8]}"
    sagemaker.create_model(ModelName=name, ExecutionRoleArn=SEED_ROLE,
                           PrimaryContainer={"Image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/seed:1"})
    return name


def _seed(session, region, count):
    sagemaker = session.client("sagemaker", region_name=region)
    return [create_model(sagemaker) for _ in range(count)]


MODELS = ResourceType(
    service="sagemaker", name="models", client="sagemaker", depends_on=("endpoint_configs",), doc=__doc__,
    list=listed("list_models", "Models", "ModelName", name="ModelName", created="CreationTime", tags=None),
    steps=(sagemaker_call("delete_model", "ModelName"),),
    gone_codes=frozenset({NOT_FOUND}),
    seed=_seed, missing_id="costcutter-no-such-model",
)
catalog_models, cleanup_model, cleanup_models = engine.functions(MODELS)
