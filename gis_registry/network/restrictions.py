"""Closures and vehicle restrictions, turned into the set of closed edges of a network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, bindparam, text

from gis_registry import domain
from gis_registry.errors import NotFound, ValidationError
from gis_registry.network.model import Network

_HAZARDS = text("SELECT id, ST_AsBinary(geom) FROM hazard_areas WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_ROADS_IN_HAZARDS = text(
    """
    SELECT DISTINCT r.id FROM roads r JOIN hazard_areas h ON ST_Intersects(r.geom, h.geom)
    WHERE h.id IN :ids
    """
).bindparams(bindparam("ids", expanding=True))
_ROADS_IN_POLYGON = text(
    "SELECT id FROM roads WHERE ST_Intersects(geom, ST_GeomFromWKB(:wkb, 4326))"
)


@dataclass(frozen=True)
class Restrictions:
    """What is closed or forbidden for an analysis.

    Parameters
    ----------
    closed_roads
        Road segment ids closed over their whole length.
    closed_bridges
        Bridge ids closed (the edge of its road the bridge lies on).
    hazard_ids
        Hazard areas (``hazard_areas.id``, e.g. a flood) closing every edge that touches them.
    polygons
        Further closure areas, shapely geometries in EPSG:4326.
    vehicle_tonnes
        Vehicle weight: bridges with a posted load limit below it are impassable.
    all_weather
        Only all-weather surfaces (no laterite or earth).
    """

    closed_roads: tuple[int, ...] = ()
    closed_bridges: tuple[int, ...] = ()
    hazard_ids: tuple[int, ...] = ()
    polygons: tuple = ()
    vehicle_tonnes: float | None = None
    all_weather: bool = False

    def __post_init__(self) -> None:
        if self.vehicle_tonnes is not None and not self.vehicle_tonnes > 0:
            raise ValidationError(
                "restrictions", [(None, "vehicle_tonnes", "must be greater than 0")]
            )
        for name in ("closed_roads", "closed_bridges", "hazard_ids"):
            object.__setattr__(self, name, tuple(int(i) for i in getattr(self, name)))
        object.__setattr__(self, "polygons", tuple(self.polygons))

    @classmethod
    def parse(
        cls,
        *,
        closed_road: Iterable[int | str] | None = None,
        closed_bridge: Iterable[int | str] | None = None,
        hazard: Iterable[int | str] | None = None,
        closed_area: Iterable[Any] | Any | None = None,
        vehicle_tonnes: float | None = None,
        all_weather: bool = False,
    ) -> Restrictions:
        """Restrictions from the options the CLI, the API and the maps share.

        One vocabulary everywhere: ``closed_road`` and ``closed_bridge`` (ids), ``hazard``
        (hazard area ids, e.g. a flood), ``closed_area`` (WKT, WKB, GeoJSON or shapely
        geometries in EPSG:4326), ``vehicle_tonnes`` and ``all_weather``. Ids may be given as
        numbers or as comma-separated text ("12,14").

        Raises
        ------
        ValidationError
            Naming the option and the value that is not a positive id or a geometry.
        """
        problems: list[tuple[str | int | None, str, str]] = []

        def ids(name: str, values: Iterable[int | str] | None) -> tuple[int, ...]:
            out = []
            for value in values or ():
                for token in str(value).split(","):
                    token = token.strip()
                    if token.isdigit() and 0 < int(token) < 2**31:
                        out.append(int(token))
                    elif token:
                        problems.append((None, name, f"'{token}' is not a positive id"))
            return tuple(out)

        areas = []
        if closed_area is not None:
            given = [closed_area] if isinstance(closed_area, (str, bytes, dict)) else closed_area
            if isinstance(given, shapely.Geometry):
                given = [given]
            # imported only for areas: validation pulls in GeoAlchemy2, a tenth of a cold CLI route
            from gis_registry.validation import parse_geometry

            for value in given:
                try:
                    geom = parse_geometry(value)
                except Exception as exc:  # shapely and json raise several types
                    geom, reason = None, f"neither WKT nor GeoJSON ({exc})"
                else:
                    reason = "is empty"
                if geom is None or geom.is_empty:
                    problems.append((None, "closed_area", reason))
                else:
                    areas.append(geom)
        roads = ids("closed_road", closed_road)
        bridges = ids("closed_bridge", closed_bridge)
        hazards = ids("hazard", hazard)
        if problems:
            raise ValidationError("restrictions", problems)
        return cls(
            closed_roads=roads,
            closed_bridges=bridges,
            hazard_ids=hazards,
            polygons=tuple(areas),
            vehicle_tonnes=vehicle_tonnes,
            all_weather=all_weather,
        )

    @property
    def empty(self) -> bool:
        """True when nothing is closed or forbidden."""
        return not (
            self.closed_roads
            or self.closed_bridges
            or self.hazard_ids
            or self.polygons
            or self.vehicle_tonnes
            or self.all_weather
        )

    def to_dict(self) -> dict:
        """The restrictions under the names of :data:`CLOSURE_OPTIONS` (areas counted)."""
        return {
            "closed_road": list(self.closed_roads),
            "closed_bridge": list(self.closed_bridges),
            "hazard": list(self.hazard_ids),
            "closed_area": len(self.polygons),
            "vehicle_tonnes": self.vehicle_tonnes,
            "all_weather": self.all_weather,
        }


CLOSURE_OPTIONS = (
    "closed_road",
    "closed_bridge",
    "hazard",
    "closed_area",
    "vehicle_tonnes",
    "all_weather",
)


def restrictions_from(options: Mapping[str, Any]) -> Restrictions:
    """:meth:`Restrictions.parse` of keyword options, refusing names it does not know (a typo
    such as ``closed_roads=`` must not silently close nothing)."""
    unknown = sorted(set(options) - set(CLOSURE_OPTIONS))
    if unknown:
        raise ValidationError(
            "restrictions",
            [(None, k, f"unknown option; use {', '.join(CLOSURE_OPTIONS)}") for k in unknown],
        )
    return Restrictions.parse(**options)


def closed_edges(
    conn: Connection, net: Network, restrictions: Restrictions | None
) -> np.ndarray | None:
    """Boolean mask of the edges ``restrictions`` close (None when nothing is closed).

    Raises
    ------
    NotFound
        For an unknown road, bridge or hazard id.
    """
    if restrictions is None or restrictions.empty:
        return None
    closed = np.zeros(net.topo.n_edges, dtype=bool)
    if restrictions.closed_roads:
        closed[net.topo.edges_of_roads(net.road_rows(restrictions.closed_roads))] = True
    if restrictions.closed_bridges:
        edges = net.bridge_edge[net.bridge_rows(restrictions.closed_bridges)]
        closed[edges[edges >= 0]] = True
    if restrictions.vehicle_tonnes:
        # NaN (no posted limit) compares False: such bridges stay open.
        weak = net.bridges.load_limit_t < restrictions.vehicle_tonnes
        edges = net.bridge_edge[weak]
        closed[edges[edges >= 0]] = True
    if restrictions.all_weather:
        all_weather = [domain.SURFACES.index(s) for s in domain.ALL_WEATHER_SURFACES]
        closed |= ~np.isin(net.roads.surface_idx[net.topo.road], all_weather)
    if restrictions.hazard_ids:
        ids = sorted(set(restrictions.hazard_ids))
        rows = conn.execute(_HAZARDS, {"ids": ids}).all()
        missing = sorted(set(ids) - {r[0] for r in rows})
        if missing:
            raise NotFound(f"no hazard area with id {', '.join(map(str, missing))}")
        area = shapely.union_all(shapely.from_wkb([bytes(r[1]) for r in rows]))
        road_ids = [r[0] for r in conn.execute(_ROADS_IN_HAZARDS, {"ids": ids})]
        _close_inside(net, closed, road_ids, area)
    for polygon in restrictions.polygons:
        road_ids = [r[0] for r in conn.execute(_ROADS_IN_POLYGON, {"wkb": shapely.to_wkb(polygon)})]
        _close_inside(net, closed, road_ids, polygon)
    return closed


def _close_inside(net: Network, closed: np.ndarray, road_ids: list[int], area) -> None:
    """Close the edges of ``road_ids`` that touch ``area`` (a long road may be only partly in)."""
    if not road_ids:
        return
    rows = net.roads.index_of(np.asarray(road_ids, dtype=np.int64))
    edges = net.topo.edges_of_roads(rows[rows >= 0])
    if len(edges):
        shapely.prepare(area)
        closed[edges[shapely.intersects(area, net.edge_lines(edges))]] = True
