"""The analyst's entry point: ``Registry.connect()`` and GeoDataFrames out.

>>> reg = Registry.connect()
>>> reg.roads(surface=["laterite", "earth"], bbox=(99.4, 18.2, 99.6, 18.4))
>>> reg.add("water_points", [{"name_th": "บ่อบาดาลบ้านใหม่", ...}])

Each call runs in its own transaction; writes are all-or-nothing and validated by the same code
as the API and file imports. For several steps in one transaction use ``with reg.begin() as conn``
and the functions of :mod:`gis_registry.queries.features` directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import date
from typing import TYPE_CHECKING, Any, TypeVar

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, Engine, text

from gis_registry.analysis import reports
from gis_registry.analysis.reports import Report
from gis_registry.catalog import LOGICAL_LAYERS
from gis_registry.db import make_engine
from gis_registry.network.restrictions import restrictions_from
from gis_registry.queries import features
from gis_registry.settings import Settings

if TYPE_CHECKING:
    import folium

    from gis_registry.network.check import NetworkCheck
    from gis_registry.network.connectivity import Components
    from gis_registry.network.criticality import Criticality
    from gis_registry.network.routing import Matrix, Route

T = TypeVar("T")


class Registry:
    """A handle on one registry database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @classmethod
    def connect(cls, url: str | None = None, *, settings: Settings | None = None) -> Registry:
        """Open ``url``, else the configured database (``GIS_REGISTRY_DATABASE_URL``), else the
        running embedded cluster.

        Connecting never starts a server: with no URL and the embedded cluster stopped, this
        raises :class:`~gis_registry.errors.DatabaseUnavailable` ("no database: run
        `gis-registry db start` or set GIS_REGISTRY_DATABASE_URL") and creates nothing.
        """
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
            parts = LOGICAL_LAYERS.get(layer)
            if not parts:
                return features.read_layer(conn, layer, filters=filters, **options)
            # a logical layer (water_sources): its layers' records in one frame, by id
            frames = [features.read_layer(conn, p, filters=filters, **options) for p in parts]
        whole = features.union_frames(frames)
        limit = options.get("limit")
        return whole if limit is None else whole.head(limit)

    def districts(self, **options: Any) -> gpd.GeoDataFrame:
        """The 13 districts (อำเภอ) with their boundaries; options as :meth:`read`."""
        return self.read("districts", **options)

    def local_bodies(self, **options: Any) -> gpd.GeoDataFrame:
        """Local bodies with their boundary as geometry (``geometry="office"`` for points)."""
        return self.read("local_bodies", **options)

    def lgo_list(self, *, district: str | None = None, kind: str | None = None) -> pd.DataFrame:
        """Every local body's code, Thai and English names, kind and district (no geometry);
        ``district`` (code or name) and ``kind`` filter, as
        :func:`gis_registry.queries.places.local_bodies` (``gis-registry lgo list``)."""
        from gis_registry.queries.places import LIST_FIELDS, local_bodies

        rows = self._run(lambda conn: local_bodies(conn, district=district, kind=kind))
        return pd.DataFrame(rows, columns=list(LIST_FIELDS))

    def lgo_code(self, name: str) -> str:
        """The code of the local body a code or a unique Thai or English name names
        (:func:`gis_registry.queries.places.resolve_local_body`): ``reg.lgo_code("Ko Kha SAO")``.
        A name several answer to raises :class:`~gis_registry.errors.AmbiguousName` listing them.
        """
        from gis_registry.queries.places import resolve_local_body

        return self._run(lambda conn: resolve_local_body(conn, name))

    def settlements(self, **options: Any) -> gpd.GeoDataFrame:
        """Villages (หมู่บ้าน) as points, with population and households; options as :meth:`read`."""
        return self.read("settlements", **options)

    def roads(self, **options: Any) -> gpd.GeoDataFrame:
        """Road segments with class, surface, owner and code; options as :meth:`read`."""
        return self.read("roads", **options)

    def bridges(self, **options: Any) -> gpd.GeoDataFrame:
        """Bridges and culverts as points on their roads; options as :meth:`read`."""
        return self.read("bridges", **options)

    def rivers(self, **options: Any) -> gpd.GeoDataFrame:
        """Rivers and streams as lines; options as :meth:`read`."""
        return self.read("rivers", **options)

    def water_sources(self, **options: Any) -> gpd.GeoDataFrame:
        """Every water source (points, reservoir areas, canal lines): the layers water_points,
        water_areas and water_lines in one frame, by id; options as :meth:`read`."""
        return self.read("water_sources", **options)

    def hazard_areas(self, **options: Any) -> gpd.GeoDataFrame:
        """Flood and landslide areas with their severity; options as :meth:`read`."""
        return self.read("hazard_areas", **options)

    def inspections(self, **options: Any) -> pd.DataFrame:
        """Inspections of roads, bridges and water sources (a table, no geometry)."""
        return self.read("inspections", **options)

    def maintenance_works(self, **options: Any) -> pd.DataFrame:
        """Maintenance works with their fiscal year (BE), cost and status (a table)."""
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
            if on is not None:
                # "in force" has one definition, the analysis' (SQL), not a pandas copy of it
                from gis_registry.analysis.zoning import plans_in_force

                in_force = plans_in_force(conn, on=pd.Timestamp(on).date())["plan_id"]
        out = zones.merge(plans, on="plan_id", how="left").merge(cats, on="category", how="left")
        if on is not None:
            out = out[out["plan_id"].isin(in_force)]
        return gpd.GeoDataFrame(out, geometry="geom", crs=zones.crs)

    # -- analyses -------------------------------------------------------------------------
    # Each runs in its own read-only connection and returns the object the CLI prints and the
    # API answers (``to_dict()`` is their JSON): a network result or a
    # :class:`~gis_registry.analysis.reports.Report` with its tables as frames.
    def _run(self, work: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            try:
                return work(conn)
            finally:
                conn.rollback()

    def route(
        self,
        origin: Any,
        destination: Any,
        *,
        by: str = "time",
        max_attach_m: float | None = None,
        **closures: Any,
    ) -> Route:
        """The fastest (``by="time"``) or shortest (``"distance"``) route between two places.

        Parameters
        ----------
        origin, destination : an LGO code, ``village:ID``, ``district:CODE``, a DOPA village
            code or ``"lon,lat"``
        by : ``"time"`` or ``"distance"``
        max_attach_m : farthest an endpoint may lie from the road network, in metres; default
            :data:`gis_registry.network.attach.MAX_ATTACH_M` (farther: ``Unreachable``)
        **closures : ``closed_road``, ``closed_bridge``, ``hazard`` (ids), ``closed_area``
            (geometries), ``vehicle_tonnes``, ``all_weather``; see :func:`restrictions`

        Returns
        -------
        Route
            Totals, GeoJSON geometry, segments and bridges, the closures on and off the usual
            route; ``to_dict()`` is ``gis-registry route ... --json``.
        """
        from gis_registry.network.routing import route

        closed = restrictions_from(closures)
        return self._run(
            lambda conn: route(
                conn, origin, destination, by=by, restrictions=closed, max_attach_m=max_attach_m
            )
        )

    def matrix(
        self,
        codes: Sequence[str] | None = None,
        *,
        max_attach_m: float | None = None,
        **closures: Any,
    ) -> Matrix:
        """Travel time and distance among LGO offices (all, or ``codes``), under closures;
        offices farther than ``max_attach_m`` from the road network get None (default
        :data:`gis_registry.network.attach.MAX_ATTACH_M`)."""
        from gis_registry.network.routing import matrix

        closed = restrictions_from(closures)
        return self._run(
            lambda conn: matrix(conn, codes=codes, restrictions=closed, max_attach_m=max_attach_m)
        )

    def components(self, **closures: Any) -> Components:
        """Connected components of the road network and the places cut off from the PAO."""
        from gis_registry.network.connectivity import components

        closed = restrictions_from(closures)
        return self._run(lambda conn: components(conn, restrictions=closed))

    def critical(
        self, *, bridges: bool = True, roads: bool = True, delays: bool = True, **closures: Any
    ) -> Criticality:
        """Bridges and road segments whose closure cuts off or delays the most people."""
        from gis_registry.network.criticality import criticality

        closed = restrictions_from(closures)
        return self._run(
            lambda conn: criticality(
                conn, restrictions=closed, bridges=bridges, roads=roads, delays=delays
            )
        )

    def network_check(self, *, tolerance_m: float | None = None) -> NetworkCheck:
        """Noding and topology problems of the road network (dangles, near misses within
        ``tolerance_m`` metres, crossings without a junction, duplicate and zero-length
        segments, islands); ``to_dict()`` is ``gis-registry network check --json``. The
        repair, :func:`gis_registry.network.fix.fix_network`, writes: run it in
        ``with reg.begin() as conn``."""
        from gis_registry.network.check import DEFAULT_TOLERANCE_M, check_network

        tol = DEFAULT_TOLERANCE_M if tolerance_m is None else tolerance_m
        return self._run(lambda conn: check_network(conn, tolerance_m=tol))

    def water_coverage(self, *, distance_m: float, **options: Any) -> Report:
        """Villages and households within ``distance_m`` of a water source; options as
        :func:`gis_registry.analysis.reports.water_coverage` (``along_roads``, ``kinds``,
        ``nearest``). ``to_dict()`` is ``gis-registry coverage water --json``."""
        return self._run(
            lambda conn: reports.water_coverage(conn, distance_m=distance_m, **options)
        )

    def road_coverage(self, *, distance_m: float = 2_000.0) -> Report:
        """Villages with an all-weather road within ``distance_m``, and road density per LGO."""
        return self._run(lambda conn: reports.road_coverage(conn, distance_m=distance_m))

    def siting(self, *, n: int, **options: Any) -> Report:
        """Up to ``n`` new water sources covering the most uncovered households; options as
        :func:`gis_registry.analysis.reports.water_siting`."""
        return self._run(lambda conn: reports.water_siting(conn, n=n, **options))

    def zoning_at(self, lon: float, lat: float, *, on: date | None = None) -> Report:
        """The zones at a point (EPSG:4326) under the plans in force on ``on`` (default today)."""
        return self._run(lambda conn: reports.zone_at(conn, lon, lat, on=on))

    def parcel_zones(self, parcel: Any, *, on: date | None = None) -> Report:
        """The zones under a parcel (WKT, GeoJSON or shapely) and the parcel's share in each."""
        return self._run(lambda conn: reports.parcel_zones(conn, parcel, on=on))

    def zoning_areas(self, *, by: str = "plan", on: date | None = None) -> Report:
        """Area of each land-use category per plan or per LGO (``by="local_body"``)."""
        return self._run(lambda conn: reports.zoning_areas(conn, by=by, on=on))

    def zoning_check(self, asset: str, geom: Any, **options: Any) -> Report:
        """Whether a proposed asset (landfill, market, ...) is allowed in the zones it touches;
        options ``on`` and ``rules``."""
        return self._run(lambda conn: reports.zoning_check(conn, asset=asset, geom=geom, **options))

    def hazard_exposure(self, *, hazard_types: Sequence[str] | None = None) -> Report:
        """Road km, bridges, water sources and villages inside flood and landslide areas."""
        return self._run(lambda conn: reports.hazard_exposure(conn, hazard_types=hazard_types))

    def condition(self, *, by: str = "local_body", as_of: date | None = None) -> Report:
        """Latest condition of every asset and its distribution (``by="asset"``: the assets)."""
        return self._run(lambda conn: reports.condition(conn, by=by, as_of=as_of))

    def overdue(self, *, as_of: date | None = None, intervals: Any = None) -> Report:
        """Assets never inspected or overdue (``intervals={"bridge": 730}`` overrides)."""
        return self._run(lambda conn: reports.overdue(conn, as_of=as_of, intervals=intervals))

    def programme(self, *, fiscal_year: int, budget_thb: float, **options: Any) -> Report:
        """The work programme of a Thai fiscal year (BE) cut to ``budget_thb``; options as
        :func:`gis_registry.analysis.reports.programme`."""
        return self._run(
            lambda conn: reports.programme(
                conn, fiscal_year=fiscal_year, budget_thb=budget_thb, **options
            )
        )

    def coordination(self, *, fiscal_year: int, as_of: date | None = None) -> Report:
        """Every funding body's backlog and programmed works in a Thai fiscal year (BE), per
        LGO (see :func:`gis_registry.analysis.reports.coordination`)."""
        return self._run(
            lambda conn: reports.coordination(conn, fiscal_year=fiscal_year, as_of=as_of)
        )

    def history(self, *, by: str = "total", fiscal_years: tuple[int, int] | None = None) -> Report:
        """Spending per fiscal year (BE), backlog and the condition trend."""
        return self._run(
            lambda conn: reports.maintenance_history(conn, by=by, fiscal_years=fiscal_years)
        )

    def items(
        self,
        layer: str,
        *,
        filter: str | Mapping[str, Any] | None = None,
        filter_lang: str = "cql2-text",
        bbox: Sequence[float] | None = None,
        crs: str | int | None = None,
        at: str | Any | None = None,
        limit: int | None = None,
        properties: Sequence[str] | None = None,
    ) -> gpd.GeoDataFrame | pd.DataFrame:
        """Features of a layer selected as the web service's ``/collections/{layer}/items``
        selects them (the same catalogue, filters, CQL2 and past-state statement).

        Parameters
        ----------
        layer : a layer of :data:`gis_registry.catalog.CATALOG`, e.g. ``"roads"``
        filter : a CQL2 filter: text (``"surface = 'laterite' AND width_m > 6"``,
            ``"S_INTERSECTS(geom, POINT(99.5 18.3))"``) or, with ``filter_lang="cql2-json"``,
            CQL2 JSON (text or a dict); geometries in it are CRS84 (longitude, latitude)
        filter_lang : ``"cql2-text"`` or ``"cql2-json"``
        bbox : (minx, miny, maxx, maxy) in CRS84; features whose primary geometry intersects it
        crs : CRS of the answer: ``"EPSG:32647"``, ``32647``, an OGC URI...; default CRS84 (the
            frame is then EPSG:4326, longitude first as geopandas expects)
        at : read the layer as it was at this moment (an RFC 3339 text, a datetime or a date;
            no time zone means UTC); takes no ``filter`` or ``bbox``
        limit : at most this many features, in key order (default: all)
        properties : the fields to return (with the key and the geometries); default all

        Returns
        -------
        GeoDataFrame
            one row per feature, the primary geometry active (a DataFrame for layers without
            geometry).

        Raises
        ------
        NotFound
            for an unknown layer, naming the layers.
        InvalidParameter
            (a :class:`~gis_registry.errors.ValidationError`) naming the argument and the valid
            choices: an unknown field in ``filter`` or ``properties``, a swapped or out-of-range
            ``bbox``, an unsupported ``crs`` or ``filter_lang``, a filter that cannot be read.

        Examples
        --------
        >>> reg.items("roads", filter="surface = 'laterite'", crs="EPSG:32647")
        >>> reg.items("roads", at="2025-01-01T00:00:00Z")
        """
        records_sql = None
        if at is not None:
            from gis_registry.history import layer_as_of_sql

            records_sql = layer_as_of_sql(layer)
        with self.engine.connect() as conn:
            return features.read_items(
                conn,
                layer,
                filter=filter,
                filter_lang=filter_lang,
                bbox=bbox,
                crs=crs,
                at=at,
                limit=limit,
                properties=properties,
                records_sql=records_sql,
            )

    # -- maps -----------------------------------------------------------------------------
    def map(self, kind: str, **options: Any) -> folium.Map:
        """A map by name, as ``gis-registry map KIND`` draws it; in a notebook it displays
        with no network (every library inlined), and ``save_map`` writes it to a file.

        Parameters
        ----------
        kind : ``zoning``, ``condition``, ``water``, ``route``, ``critical``, ``hazard`` or
            ``network`` (:data:`gis_registry.maps.MAPS`)
        **options : the builder's options, e.g. ``origin`` and ``destination`` for ``route``
            (which also takes the closures of :meth:`route`: ``closed_road``,
            ``closed_bridge``, ``hazard``); ``distance_m`` for ``water``

        Examples
        --------
        >>> reg.map("zoning")
        >>> reg.map("route", origin="2520103", destination="4520601", closed_bridge=[12])
        """
        from gis_registry.maps import build_map

        return self._run(lambda conn: build_map(conn, kind, **options))

    # -- writes ---------------------------------------------------------------------------
    def add(self, layer: str, records: Iterable[Mapping[str, Any]] | gpd.GeoDataFrame) -> list[int]:
        """Validate and insert records (dicts, or a GeoDataFrame); all or nothing."""
        if isinstance(records, pd.DataFrame):
            records = features.frame_records(records, features.layer_table(layer))
        with self.engine.begin() as conn:
            return features.insert_features(conn, layer, records)

    def update(self, layer: str, feature_id: Any, changes: Mapping[str, Any]) -> None:
        """Validate and apply ``changes`` to one feature (all or nothing); its history is kept."""
        with self.engine.begin() as conn:
            features.update_feature(conn, layer, feature_id, changes)

    def delete(self, layer: str, feature_id: Any) -> None:
        """Delete one feature; :class:`~gis_registry.errors.NotFound` when it does not exist."""
        with self.engine.begin() as conn:
            features.delete_feature(conn, layer, feature_id)

    def __repr__(self) -> str:
        return f"Registry({self.engine.url.render_as_string(hide_password=True)})"
