"""Elastic Load Balancing v2: application, network and gateway load balancers, and their target groups."""
