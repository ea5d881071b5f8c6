"""KMS aliases the account made, before the keys they name; never AWS's own (alias/aws/*)."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def create_key(client) -> str:
    return client.create_key(Description="seeded by costcutter")["KeyMetadata"]["KeyId"]


def _seed(session, region, count):
    client = session.client("kms", region_name=region)
    key = create_key(client)
    names = [f"alias/costcutter-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for name in names:
        client.create_alias(AliasName=name, TargetKeyId=key)
    return names


ALIASES = ResourceType(
    service="kms", name="aliases", client="kms", doc=__doc__,
    list=listed("list_aliases", "Aliases", "AliasName", name="AliasName", created="CreationDate", tags=None,
                keep=lambda alias: not alias["AliasName"].startswith("alias/aws/"),
                properties={"key_id": "TargetKeyId"}),
    steps=deleted_by("delete_alias", "AliasName"),
    gone_codes=frozenset({"NotFoundException"}),
    seed=_seed, missing_id="alias/costcutter-no-such-alias",
)
catalog_aliases, cleanup_alias, cleanup_aliases = engine.functions(ALIASES)
