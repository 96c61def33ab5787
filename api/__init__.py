"""The HTTP service: OGC API - Features over the registry, editing, analyses and tiles."""
