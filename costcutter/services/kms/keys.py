"""KMS customer managed keys, scheduled for deletion after `kms_pending_window_days` (7 to 30; AWS deletes none sooner).

ListKeys gives ids only, so each key is described (one call each) for who manages it
and its state. Never listed: AWS managed keys (KeyManager AWS) and keys already
pending deletion. Disabled keys are the account's too, and are scheduled like the rest.
A scheduled key is counted as deleted: it can no longer be used, and is gone when the
window ends (until then CancelKeyDeletion brings it back). A multi-region primary
waits, PendingReplicaDeletion, until its replicas (each cleaned in its own region) are
gone.
"""

from costcutter import aws, engine
from costcutter.registry import Charge, ResourceType, Step, pages, record
from costcutter.services.kms.aliases import create_key

SETTING = "kms_pending_window_days"
_GONE = "NotFoundException"
_PENDING = {"PendingDeletion", "PendingReplicaDeletion"}
_PROPERTIES = {"state": "KeyState", "key_spec": "KeySpec", "usage": "KeyUsage", "origin": "Origin",
               "multi_region": "MultiRegionConfiguration.MultiRegionKeyType"}


def _list(target):
    for page in pages(target.client, "list_keys"):
        for key in page["Keys"]:
            metadata = None
            with aws.ignoring(_GONE):  # deleted between the listing and the description
                metadata = target.client.describe_key(KeyId=key["KeyId"])["KeyMetadata"]
            if metadata and metadata["KeyManager"] == "CUSTOMER" and metadata["KeyState"] not in _PENDING:
                yield record(metadata, "KeyId", name="Description", created="CreationDate", tags=None,
                             properties=_PROPERTIES)


def _schedule_deletion(target, key):
    days = target.setting(SETTING)
    answer = target.client.schedule_key_deletion(KeyId=key.id, PendingWindowInDays=days)
    return f"deletion scheduled for {answer['DeletionDate']:%Y-%m-%d}"


def _seed(session, region, count):
    """Keys in both states a customer key can be in here: enabled, and disabled."""
    client = session.client("kms", region_name=region)
    keys = [create_key(client) for _ in range(count)]
    client.disable_key(KeyId=keys[0])
    return keys


KEYS = ResourceType(
    service="kms", name="keys", client="kms",
    cost=(Charge("kms.key"),),  # each customer managed key, a month
    doc=__doc__,
    depends_on=(
        "aliases", "firehose.delivery_streams", "rds.db_instances", "rds.db_clusters", "redshift.clusters",
        "elasticache.replication_groups",
    ),
    list=_list,
    steps=(Step("schedule_key_deletion", _schedule_deletion),),
    settings=(SETTING,),
    gone_codes=frozenset({_GONE}),
    seed=_seed, missing_id="0123abcd-0123-4567-89ab-0123456789ab",
)
catalog_keys, cleanup_key, cleanup_keys = engine.functions(KEYS)
