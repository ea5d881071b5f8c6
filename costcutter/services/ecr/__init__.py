"""ECR: container image repositories, with their images."""
