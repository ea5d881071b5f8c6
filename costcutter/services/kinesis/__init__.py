"""Kinesis Data Streams: streams."""
