"""Systems Manager Parameter Store parameters (advanced ones are billed monthly), deleted with their history."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def _seed(session, region, count):
    client = session.client("ssm", region_name=region)
    names = []
    for _ in range(count):
        name = f"/costcutter/seed/{uuid.uuid4().hex[:12]}"
        client.put_parameter(Name=name, Value="seeded", Type="String", Tier="Advanced")
        names.append(name)
    return names


PARAMETERS = ResourceType(
    service="ssm", name="parameters", client="ssm", doc=__doc__,
    # AWS's public parameters (/aws/service/...) are not the account's and are not listed.
    list=listed("describe_parameters", "Parameters", "Name", name="Name", tags=None,
                properties={"type": "Type", "tier": "Tier", "data_type": "DataType"}),
    steps=deleted_by("delete_parameter", "Name"),
    gone_codes=frozenset({"ParameterNotFound"}),
    seed=_seed, missing_id="/costcutter/no-such-parameter",
)
catalog_parameters, cleanup_parameter, cleanup_parameters = engine.functions(PARAMETERS)
