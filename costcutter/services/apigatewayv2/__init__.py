"""API Gateway v2: HTTP and WebSocket APIs."""
