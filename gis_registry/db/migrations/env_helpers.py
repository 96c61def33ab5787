"""What Alembic compares: our tables, not PostGIS's or pgRouting's."""

from __future__ import annotations

from geoalchemy2 import alembic_helpers


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    if type_ == "table" and reflected and compare_to is None:
        return False  # spatial_ref_sys, layer_versions (made by raw SQL in 0001), ...
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)
