"""OpenSearch Service: domains."""
