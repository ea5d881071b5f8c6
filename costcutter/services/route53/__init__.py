"""Route 53: hosted zones, emptied of their records, and health checks."""
