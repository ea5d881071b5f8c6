"""EC2 key pairs: free, but a left-over key still opens the next instance launched with it."""

from costcutter.registry import Subresource, deleted_by, listed

KEY_PAIRS = Subresource(
    service="ec2", name="key_pairs", client="ec2", after=("instances",),
    # Key names are unique in a region, and every API (and moto) deletes by name.
    list=listed("describe_key_pairs", "KeyPairs", "KeyName"),
    delete=deleted_by("delete_key_pair", "KeyName"),
    gone_codes=frozenset({"InvalidKeyPair.NotFound"}),
)
catalog_key_pairs, cleanup_key_pair, cleanup_key_pairs = KEY_PAIRS.functions()
