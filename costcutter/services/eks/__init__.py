"""EKS: clusters, with their managed node groups and Fargate profiles."""
