"""EMR: clusters."""
