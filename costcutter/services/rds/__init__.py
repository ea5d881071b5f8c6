"""RDS, and the DocumentDB and Neptune clusters and instances that share its API: databases, their snapshots and groups."""
