"""API Gateway (v1): REST APIs."""
