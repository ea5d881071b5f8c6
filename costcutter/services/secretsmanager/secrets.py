"""Secrets Manager secrets: replicas removed, then the secret deleted with the recovery window `secrets_recovery_window_days` (0: at once, without recovery).

Never listed: secrets already scheduled for deletion (DeletedDate set; AWS keeps them,
unbilled, until the window ends), secrets another service manages (OwningService set,
such as RDS master passwords: they go with their owner), and replicas of a secret whose
primary is in another region (removed from there, with it). Replicas are looked up
(DescribeSecret) only for a secret the listing shows in a replication, or whose deletion
AWS refuses because of them: never a describe per secret.
"""

import uuid

import botocore.exceptions

from costcutter import aws, engine
from costcutter.registry import Charge, ResourceType, Step, pages, record, recoded

SETTING = "secrets_recovery_window_days"
# A secret already scheduled for deletion (by our own request whose answer was lost, or by
# someone else) is refused with the catch-all InvalidRequestException: AWS says "it was
# marked for deletion", moto "currently marked deleted".
SCHEDULED = "SecretScheduledForDeletion"


def _cleaned_here(secret, region) -> bool:
    return not (secret.get("DeletedDate") or secret.get("OwningService")
                or secret.get("PrimaryRegion") not in (None, region))


def _list(target):
    for page in pages(target.client, "list_secrets"):
        for secret in page["SecretList"]:
            if _cleaned_here(secret, target.region):
                yield record(secret, "ARN", name="Name", created="CreatedDate",
                             properties={"rotation": "RotationEnabled", "last_accessed": "LastAccessedDate"})


def _may_have_replicas(secret) -> bool:
    """Whether the listing says it may be replicated: AWS's ListSecrets gives PrimaryRegion
    only for secrets in a replication; one given by its ARN alone, not listed, may be."""
    return not secret.raw or "PrimaryRegion" in secret.raw


def _remove_replicas(target, secret):
    """A secret replicated to other regions cannot be deleted until its replicas are gone."""
    regions = [replica["Region"] for replica in
               target.client.describe_secret(SecretId=secret.id).get("ReplicationStatus", [])]
    if regions:
        target.client.remove_regions_from_replication(SecretId=secret.id, RemoveReplicaRegions=regions)
        return f"removed replicas in {', '.join(regions)}"
    return "no replicas"


def _delete(target, secret):
    days = target.setting(SETTING)
    window = {"ForceDeleteWithoutRecovery": True} if days == 0 else {"RecoveryWindowInDays": days}
    try:
        deletion = target.client.delete_secret(SecretId=secret.id, **window)
    except botocore.exceptions.ClientError as error:
        # Replicated after the listing, or listed without saying so: their removal first, then again.
        if "replica regions" not in aws.error_message(error) or _remove_replicas(target, secret) == "no replicas":
            raise
        deletion = target.client.delete_secret(SecretId=secret.id, **window)
    return "deleted at once" if days == 0 else f"deletion scheduled for {deletion['DeletionDate']:%Y-%m-%d}"


def _seed(session, region, count):
    client = session.client("secretsmanager", region_name=region)
    return [client.create_secret(Name=f"costcutter-seed-{uuid.uuid4().hex[:12]}", SecretString="not a real secret",
                                 Tags=[{"Key": "seeded-by", "Value": "costcutter"}])["ARN"] for _ in range(count)]


SECRETS = ResourceType(
    service="secretsmanager", name="secrets", client="secretsmanager",
    cost=(Charge("secretsmanager.secret"),),
    doc=__doc__, list=_list,
    steps=(Step("remove_replicas", _remove_replicas, when=_may_have_replicas),
           recoded(Step("delete_secret", _delete), "InvalidRequestException",
                   {"marked for deletion": SCHEDULED, "marked deleted": SCHEDULED})),
    settings=(SETTING,),
    gone_codes=frozenset({"ResourceNotFoundException", SCHEDULED}),
    seed=_seed, missing_id="arn:aws:secretsmanager:us-east-1:123456789012:secret:costcutter-no-such-secret-AbCdEf",
)
catalog_secrets, cleanup_secret, cleanup_secrets = engine.functions(SECRETS)
