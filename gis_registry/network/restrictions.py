"""Closures and vehicle restrictions, turned into the set of closed edges of a network."""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def empty(self) -> bool:
        return not (
            self.closed_roads
            or self.closed_bridges
            or self.hazard_ids
            or self.polygons
            or self.vehicle_tonnes
            or self.all_weather
        )

    def to_dict(self) -> dict:
        return {
            "closed_roads": list(self.closed_roads),
            "closed_bridges": list(self.closed_bridges),
            "hazard_ids": list(self.hazard_ids),
            "polygons": len(self.polygons),
            "vehicle_tonnes": self.vehicle_tonnes,
            "all_weather": self.all_weather,
        }


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
