"""ElastiCache: cache clusters, replication groups and their subnet groups."""
