"""S3 Glacier vaults: deleted when their last inventory shows them empty; a vault with archives is reported failed, with what to do.

Glacier deletes a vault only if its last inventory (which Glacier takes about once a day)
counts no archives and nothing was written since. Emptying one takes an inventory
retrieval job, which runs for hours, and then a deletion per archive: too long for a
sweep, and too final to do unasked. So a vault whose inventory counts archives is not
touched: it is reported failed, with the steps that empty it, and the next run after its
next inventory deletes it. Accounts that never stored anything in Glacier are refused
the API (NoLongerSupportedException): they have no vaults.
"""

import uuid

from botocore.exceptions import ClientError

from costcutter import aws, engine
from costcutter.registry import ResourceType, Step, pages, record

NOT_EMPTY = "VaultNotEmpty"  # CostCutter's own code: the last inventory counts archives


def _list(target):
    try:
        for page in pages(target.client, "list_vaults"):
            for vault in page["VaultList"]:
                yield record(vault, "VaultName", name="VaultName", created="CreationDate", tags=None, properties={
                    "archives": "NumberOfArchives", "size_bytes": "SizeInBytes",
                    "last_inventory": "LastInventoryDate"})
    except ClientError as error:
        if aws.error_code(error) != "NoLongerSupportedException":
            raise


def _how_to_empty(vault: str, why: str) -> str:
    return (f"{why}; Glacier deletes a vault only when its last inventory counts no archives and nothing was "
            f"written since. To empty it: `aws glacier initiate-job --account-id - --vault-name {vault} "
            "--job-parameters Type=inventory-retrieval`, wait for the job (hours), fetch its output with "
            "`aws glacier get-job-output`, delete each archive it lists with `aws glacier delete-archive`, "
            "then run CostCutter again after the vault's next inventory (about a day later)")


def _delete(target, vault):
    # The archive count of the listing, or, for a vault given by name alone, of DescribeVault.
    state = vault.raw or target.client.describe_vault(vaultName=vault.id)
    if archives := state.get("NumberOfArchives"):
        raise aws.client_error(NOT_EMPTY, _how_to_empty(
            vault.id, f"vault holds {archives} archives ({state.get('SizeInBytes', 0)} bytes) as of its last "
                      f"inventory, {state.get('LastInventoryDate')}"), "DeleteVault")
    try:
        target.client.delete_vault(vaultName=vault.id)
    except ClientError as error:
        # Written to since its last inventory: AWS's "Vault not empty or recently written to".
        if aws.error_code(error) != "InvalidParameterValueException":
            raise
        error.response["Error"]["Message"] = _how_to_empty(vault.id, aws.error_message(error))
        raise


def _seed(session, region, count):
    glacier = session.client("glacier", region_name=region)
    names = [f"cc-seed-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    for name in names:
        glacier.create_vault(vaultName=name)
    return names


VAULTS = ResourceType(
    service="glacier", name="vaults", client="glacier", doc=__doc__, list=_list,
    steps=(Step("delete", _delete),),
    # moto answers DescribeVault of a vault that does not exist with VaultNotFound.
    gone_codes=frozenset({"ResourceNotFoundException", "VaultNotFound"}),
    seed=_seed, missing_id="cc-no-such-vault",
)
catalog_vaults, cleanup_vault, cleanup_vaults = engine.functions(VAULTS)
