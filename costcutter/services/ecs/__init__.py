"""ECS: services, standalone tasks, container instances, clusters and task definitions."""
