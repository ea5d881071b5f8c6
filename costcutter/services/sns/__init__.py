"""SNS: topics, with their subscriptions."""
