"""Classic Load Balancing: the load balancers of the first generation, billed by the hour."""
