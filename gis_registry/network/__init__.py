"""Road network: topology, routing, connectivity and criticality."""
