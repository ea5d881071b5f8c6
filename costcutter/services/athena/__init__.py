"""Athena: workgroups."""
