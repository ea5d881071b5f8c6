"""EventBridge: rules (their targets first) and custom event buses."""
