"""The analyst's entry point: ``Registry.connect()`` and GeoDataFrames out.

>>> reg = Registry.connect()
>>> reg.roads(surface=["laterite", "earth"], bbox=(99.4, 18.2, 99.6, 18.4))
>>> reg.add("water_sources", [{"name_th": "บ่อบาดาลบ้านใหม่", ...}])

Each call runs in its own transaction; writes are all-or-nothing and validated by the same code
as the API and file imports. For several steps in one transaction use ``with reg.begin() as conn``
and the functions of :mod:`gis_registry.queries.features` directly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Engine, text

from gis_registry.db import make_engine
from gis_registry.queries import features
from gis_registry.settings import Settings


class Registry:
    """A handle on one registry database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def connect(cls, url: str | None = None, *, settings: Settings | None = None) -> Registry:
        """Open the configured database (``GIS_REGISTRY_DATABASE_URL``) or the embedded cluster,
        starting it when needed; ``url`` overrides both."""
        return cls(make_engine(settings or Settings(), url=url))

    def begin(self) -> AbstractContextManager[Connection]:
        """A connection in a transaction, committed on success and rolled back on error."""
        return self.engine.begin()

    # -- reads ----------------------------------------------------------------------------
    def read(self, layer: str, **options: Any) -> gpd.GeoDataFrame | pd.DataFrame:
        """Any layer; options as :func:`gis_registry.queries.features.read_layer`.

        Keyword arguments that are not options are equality filters on fields.
        """
        known = {"bbox", "where", "limit", "geometry", "filters"}
        filters = dict(options.pop("filters", None) or {})
        filters.update({k: options.pop(k) for k in list(options) if k not in known})
        with self.engine.connect() as conn:
            return features.read_layer(conn, layer, filters=filters, **options)

    def districts(self, **options: Any) -> gpd.GeoDataFrame:
        return self.read("districts", **options)

    def local_bodies(self, **options: Any) -> gpd.GeoDataFrame:
        """Local bodies with their boundary as geometry (``geometry="office"`` for points)."""
        return self.read("local_bodies", **options)

    def settlements(self, **options: Any) -> gpd.GeoDataFrame:
        return self.read("settlements", **options)

    def roads(self, **options: Any) -> gpd.GeoDataFrame:
        return self.read("roads", **options)

    def bridges(self, **options: Any) -> gpd.GeoDataFrame:
        return self.read("bridges", **options)

    def rivers(self, **options: Any) -> gpd.GeoDataFrame:
        return self.read("rivers", **options)

    def water_sources(self, **options: Any) -> gpd.GeoDataFrame:
        return self.read("water_sources", **options)

    def hazard_areas(self, **options: Any) -> gpd.GeoDataFrame:
        return self.read("hazard_areas", **options)

    def inspections(self, **options: Any) -> pd.DataFrame:
        return self.read("inspections", **options)

    def maintenance_works(self, **options: Any) -> pd.DataFrame:
        return self.read("maintenance_works", **options)

    def zoning(self, *, on: str | None = None, **options: Any) -> gpd.GeoDataFrame:
        """Zones with their plan and category names and colours.

        ``on`` (ISO date) keeps the zones of plans in force that day.
        """
        zones = self.read("zoning_zones", **options)
        with self.engine.connect() as conn:
            plans = pd.read_sql(
                text(
                    "SELECT id AS plan_id, name_th AS plan_name_th, name_en AS plan_name_en, "
                    "effective_date, expiry_date FROM zoning_plans"
                ),
                conn,
            )
            cats = pd.read_sql(
                text(
                    "SELECT key AS category, codes, name_th AS category_th, "
                    "name_en AS category_en, fill, stroke, hatch FROM zoning_categories"
                ),
                conn,
            )
        out = zones.merge(plans, on="plan_id", how="left").merge(cats, on="category", how="left")
        if on is not None:
            day = pd.Timestamp(on).date()
            in_force = (out["effective_date"] <= day) & (
                out["expiry_date"].isna() | (out["expiry_date"] > day)
            )
            out = out[in_force]
        return gpd.GeoDataFrame(out, geometry="geom", crs=zones.crs)

    # -- writes ---------------------------------------------------------------------------
    def add(self, layer: str, records: Iterable[Mapping[str, Any]] | gpd.GeoDataFrame) -> list[int]:
        """Validate and insert records (dicts, or a GeoDataFrame); all or nothing."""
        if isinstance(records, pd.DataFrame):
            records = features.frame_records(records, features.layer_table(layer))
        with self.engine.begin() as conn:
            return features.insert_features(conn, layer, records)

    def update(self, layer: str, feature_id: Any, changes: Mapping[str, Any]) -> None:
        with self.engine.begin() as conn:
            features.update_feature(conn, layer, feature_id, changes)

    def delete(self, layer: str, feature_id: Any) -> None:
        with self.engine.begin() as conn:
            features.delete_feature(conn, layer, feature_id)

    def __repr__(self) -> str:
        return f"Registry({self.engine.url.render_as_string(hide_password=True)})"
