"""Secrets Manager: secrets."""
