"""Redshift: provisioned clusters and their manual snapshots."""
