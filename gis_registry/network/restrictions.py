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
        if closed_area:  # None or empty (the CLI passes [] when no --closed-area is given)
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


@dataclass(frozen=True)
class Closure:
    """One item of :class:`Restrictions` and the edges it closes.

    ``kind`` is its option name (:data:`CLOSURE_OPTIONS`), ``id`` the road, bridge or hazard
    id (the 1-based position of a closed area; None for vehicle weight and all-weather),
    ``label`` how a sentence names it ("bridge 5"), ``edges`` the indices of the edges it
    closes (indices, not a mask per item: a long list of closed roads on a million-edge
    network must not cost a million booleans each).
    """

    kind: str
    id: int | None
    label: str
    edges: np.ndarray

    def to_dict(self) -> dict:
        """The item as JSON-ready values (without its edges)."""
        out: dict[str, Any] = {"kind": self.kind}
        if self.id is not None:
            out["id"] = self.id
        out["label"] = self.label
        return out


def closure_items(
    conn: Connection, net: Network, restrictions: Restrictions | None
) -> list[Closure]:
    """Each closure of ``restrictions`` with the edges it closes, in :data:`CLOSURE_OPTIONS`
    order (so an answer can say which of them a route meets).

    Raises
    ------
    NotFound
        For an unknown road, bridge or hazard id.
    """
    if restrictions is None or restrictions.empty:
        return []
    items: list[Closure] = []
    if restrictions.closed_roads:
        road_ids = list(dict.fromkeys(restrictions.closed_roads))
        road_rows = net.road_rows(road_ids)  # NotFound for an unknown id
        for road_id, row in zip(road_ids, road_rows, strict=True):
            edges = net.topo.edges_of_roads(np.atleast_1d(row))
            items.append(Closure("closed_road", road_id, f"road {road_id}", edges))
    if restrictions.closed_bridges:
        bridge_ids = list(dict.fromkeys(restrictions.closed_bridges))
        edges = net.bridge_edge[net.bridge_rows(bridge_ids)]
        for bridge_id, edge in zip(bridge_ids, edges, strict=True):
            on = np.array([edge] if edge >= 0 else [], dtype=np.int64)
            items.append(Closure("closed_bridge", bridge_id, f"bridge {bridge_id}", on))
    if restrictions.hazard_ids:
        ids = sorted(set(restrictions.hazard_ids))
        hazards = sorted(conn.execute(_HAZARDS, {"ids": ids}).all(), key=lambda r: r[0])
        missing = sorted(set(ids) - {r[0] for r in hazards})
        if missing:
            raise NotFound(f"no hazard area with id {', '.join(map(str, missing))}")
        for hazard_id, wkb in hazards:
            road_ids = [r[0] for r in conn.execute(_ROADS_IN_HAZARDS, {"ids": [hazard_id]})]
            edges = _edges_inside(net, road_ids, shapely.from_wkb(bytes(wkb)))
            items.append(Closure("hazard", hazard_id, f"hazard area {hazard_id}", edges))
    for i, polygon in enumerate(restrictions.polygons, start=1):
        road_ids = [r[0] for r in conn.execute(_ROADS_IN_POLYGON, {"wkb": shapely.to_wkb(polygon)})]
        edges = _edges_inside(net, road_ids, polygon)
        items.append(Closure("closed_area", i, f"closed area {i}", edges))
    if restrictions.vehicle_tonnes:
        # NaN (no posted limit) compares False: such bridges stay open.
        weak = net.bridges.load_limit_t < restrictions.vehicle_tonnes
        edges = net.bridge_edge[weak]
        label = f"bridges rated below {restrictions.vehicle_tonnes:g} t"
        items.append(Closure("vehicle_tonnes", None, label, edges[edges >= 0]))
    if restrictions.all_weather:
        all_weather = [domain.SURFACES.index(s) for s in domain.ALL_WEATHER_SURFACES]
        edges = np.flatnonzero(~np.isin(net.roads.surface_idx[net.topo.road], all_weather))
        items.append(Closure("all_weather", None, "roads that are not all-weather", edges))
    return items


def closed_edges(
    conn: Connection, net: Network, restrictions: Restrictions | None
) -> np.ndarray | None:
    """Boolean mask of the edges ``restrictions`` close (None when nothing is closed).

    Raises
    ------
    NotFound
        For an unknown road, bridge or hazard id.
    """
    return union_of(closure_items(conn, net, restrictions), net)


def union_of(items: list[Closure], net: Network) -> np.ndarray | None:
    """The edges any of ``items`` closes (None when there are no items)."""
    if not items:
        return None
    closed = np.zeros(net.topo.n_edges, dtype=bool)
    for item in items:
        closed[item.edges] = True
    return closed


def _edges_inside(net: Network, road_ids: list[int], area) -> np.ndarray:
    """The edges of ``road_ids`` that touch ``area`` (a long road may be only partly in)."""
    if not road_ids:
        return np.zeros(0, dtype=np.int64)
    rows = net.roads.index_of(np.asarray(road_ids, dtype=np.int64))
    edges = net.topo.edges_of_roads(rows[rows >= 0])
    if not len(edges):
        return edges
    shapely.prepare(area)
    return edges[shapely.intersects(area, net.edge_lines(edges))]
