"""Step Functions: state machines."""
