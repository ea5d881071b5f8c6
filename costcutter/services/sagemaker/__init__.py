"""SageMaker: notebook instances, endpoints, endpoint configurations and models."""

from costcutter.registry import Step, call, recoded

# SageMaker answers ValidationException both for "no such thing" and for "not in this state".
NOT_FOUND = "RecordNotFound"
_MISSING = {"RecordNotFound": NOT_FOUND, "Could not find": NOT_FOUND}
SEED_ROLE = "arn:aws:iam::123456789012:role/costcutter-seed-sagemaker"


def missing_is_gone(step: Step) -> Step:
    """The step, its ValidationException about a missing resource named NOT_FOUND."""
    return recoded(step, "ValidationException", _MISSING)


def sagemaker_call(operation: str, id_param: str) -> Step:
    return missing_is_gone(call(operation, id_param))
