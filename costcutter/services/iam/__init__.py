"""IAM: users, roles, customer-managed policies, instance profiles and groups, stripped of what they hold, then deleted."""
