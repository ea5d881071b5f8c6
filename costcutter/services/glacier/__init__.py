"""S3 Glacier (the vault API): vaults, deleted only when their last inventory shows them empty."""
