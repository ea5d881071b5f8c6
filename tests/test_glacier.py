"""Glacier's quirks: a vault whose last inventory counts archives is never asked to be
deleted, and fails with what to do; AWS's own refusal says the same; an account without
Glacier has no vaults. AWS's refusals, which moto never makes, are played with botocore's
Stubber."""

import boto3

from costcutter.services.glacier import vaults

REGION = "eu-west-1"
ARN = "arn:aws:glacier:eu-west-1:123456789012:vaults/logs"


def test_a_vault_with_archives_is_not_deleted_and_fails_with_how_to_empty_it(session, make_reporter, watch):
    glacier = boto3.client("glacier", region_name=REGION)
    glacier.create_vault(vaultName="logs")
    glacier.upload_archive(vaultName="logs", body=b"kept for seven years")
    glacier.create_vault(vaultName="empty")
    deletions = watch(session, "glacier", REGION, "DeleteVault")
    reporter = make_reporter(REGION)
    outcomes = vaults.cleanup_vaults(session, REGION, reporter, dry_run=False)
    assert outcomes == {"logs": "failed", "empty": "deleted"}
    assert [d["vaultName"] for d in deletions] == ["empty"]
    [failed] = reporter.events("failed")
    assert failed["error_code"] == "VaultNotEmpty"
    assert failed["message"].startswith("vault holds 1 archives (20 bytes) as of its last inventory")
    assert "--vault-name logs --job-parameters Type=inventory-retrieval" in failed["message"]
    assert [v["VaultName"] for v in glacier.list_vaults()["VaultList"]] == ["logs"]


def test_a_vault_written_to_since_its_inventory_fails_with_awss_reason_and_how_to_empty_it(session, stubbed,
                                                                                          make_reporter):
    glacier = stubbed(session, "glacier", REGION)
    glacier.add_response("list_vaults", {"VaultList": [{"VaultARN": ARN, "VaultName": "logs", "NumberOfArchives": 0,
                                                        "SizeInBytes": 0}]}, {})
    glacier.add_client_error("delete_vault", "InvalidParameterValueException",
                             f"Vault not empty or recently written to: {ARN}", 400,
                             expected_params={"vaultName": "logs"})
    reporter = make_reporter(REGION)
    assert vaults.cleanup_vaults(session, REGION, reporter, dry_run=False) == {"logs": "failed"}
    [failed] = reporter.events("failed")
    assert failed["error_code"] == "InvalidParameterValueException"
    assert failed["message"].startswith(f"Vault not empty or recently written to: {ARN}; Glacier deletes a vault only")
    assert "aws glacier delete-archive" in failed["message"]


def test_an_account_that_never_used_glacier_has_no_vaults(session, stubbed, make_reporter):
    glacier = stubbed(session, "glacier", REGION)
    glacier.add_client_error("list_vaults", "NoLongerSupportedException",
                             "The API is no longer supported for new customers", 400)
    reporter = make_reporter(REGION)
    assert vaults.cleanup_vaults(session, REGION, reporter, dry_run=False) == {}
    assert not reporter.events("failed")
