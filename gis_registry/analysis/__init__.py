"""Analyses that answer the PAO's questions: coverage, zoning, hazard exposure, maintenance.

Each module is a library of functions taking an open connection first and options keyword-only,
returning (Geo)DataFrames; ``cli.py`` puts them on the ``gis-registry`` command.

* :mod:`~gis_registry.analysis.coverage` - water and all-weather road coverage of villages,
  road density (:mod:`~gis_registry.analysis.reach`: distances along the road network)
* :mod:`~gis_registry.analysis.siting` - new water sources by greedy maximal covering
* :mod:`~gis_registry.analysis.zoning`, :mod:`~gis_registry.analysis.compliance` - zones in
  force at a point or under a parcel, zone areas, and whether a proposed asset is allowed
* :mod:`~gis_registry.analysis.hazards` - assets inside flood and landslide areas
* :mod:`~gis_registry.analysis.condition` - latest condition on a common 0-100 index, overdue
  inspections
* :mod:`~gis_registry.analysis.programme` - treatments, priorities and the budget cut for a
  Thai fiscal year; :mod:`~gis_registry.analysis.history` - spending, backlog, trends
* :mod:`~gis_registry.analysis.output` - JSON and CSV for the CLI and the API

Rule tables (package data, override with ``rules=``): ``rules/compliance.csv`` and
``rules/treatments.csv``. Nothing here is imported by ``gis_registry.cli`` at start-up but
``cli.py`` itself, which keeps pandas and geopandas out until a command runs.
"""
