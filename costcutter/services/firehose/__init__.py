"""Data Firehose: delivery streams."""
