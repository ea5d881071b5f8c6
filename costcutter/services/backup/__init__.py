"""AWS Backup: backup vaults, with the recovery points they hold."""
