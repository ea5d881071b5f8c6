"""SQS: queues."""
