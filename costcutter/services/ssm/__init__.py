"""Systems Manager: Parameter Store parameters."""
