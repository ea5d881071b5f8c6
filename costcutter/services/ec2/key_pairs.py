"""EC2 key pairs: free, but a left-over key still opens the next instance launched with it."""

import uuid

from costcutter import engine
from costcutter.registry import ResourceType, deleted_by, listed


def _seed(session, region, count):
    ec2 = session.client("ec2", region_name=region)
    return [ec2.create_key_pair(KeyName=f"costcutter-seed-{uuid.uuid4().hex[:8]}")["KeyName"] for _ in range(count)]


KEY_PAIRS = ResourceType(
    service="ec2", name="key_pairs", client="ec2", depends_on=("instances",), doc=__doc__,
    # Key names are unique in a region, and every API (and moto) deletes by name.
    list=listed("describe_key_pairs", "KeyPairs", "KeyName", name="KeyName", created="CreateTime",
                properties={"key_pair_id": "KeyPairId", "key_type": "KeyType"}),
    steps=deleted_by("delete_key_pair", "KeyName"),
    gone_codes=frozenset({"InvalidKeyPair.NotFound"}),
    seed=_seed, missing_id="costcutter-no-such-key",
)
catalog_key_pairs, cleanup_key_pair, cleanup_key_pairs = engine.functions(KEY_PAIRS)
