"""Analyses that answer the PAO's questions: coverage, zoning, hazard exposure, maintenance."""
