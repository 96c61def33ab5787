"""Routes between places or points, and the travel-time matrix among LGOs.

Answers say what they rest on: an endpoint farther than the attach limit from the network
(:data:`~gis_registry.network.attach.MAX_ATTACH_M`, 300 m unless ``max_attach_m`` says
otherwise) is refused with its distance; two places on one network node get 0 km *and* the
straight line between them; a route under closures first finds the usual route and reports
which closures lie on it (none: the usual route stands and "nothing changes"); and "no route"
says whether the ends lie on unconnected parts of the network, or which closures cut them
apart, or that one-way roads leave no way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from gis_registry import deadline, domain
from gis_registry.network.attach import (
    MAX_ATTACH_M,
    Anchor,
    TooFarFromRoad,
    Unreachable,
    check_attach_limit,
    far_from_node,
    format_metres,
    lgo_row,
    require_attached,
    resolve_endpoint,
    roads_beyond_nodes,
)
from gis_registry.network.connectivity import node_components
from gis_registry.network.graph import RoutingGraph, check_weight
from gis_registry.network.model import Network, NetworkConfig, load_network
from gis_registry.network.restrictions import (
    Closure,
    Restrictions,
    closed_edges,
    closure_items,
    union_of,
)

__all__ = [
    "MAX_ATTACH_M",
    "Matrix",
    "Route",
    "TooFarFromRoad",
    "Unreachable",
    "matrix",
    "road_runs",
    "route",
    "worst_surface",
]


# Names, owners and the latest inspection of the roads and bridges of a route, in one round
# trip; the latest inspections by one DISTINCT ON over the few inspections of those ids (much
# cheaper than a LATERAL sub-query per road on a long route).
_DETAILS = text(
    """
    WITH road_latest AS (
        SELECT DISTINCT ON (road_id) road_id, condition_score, condition_scale, inspected_on
        FROM inspections WHERE road_id = ANY(CAST(:roads AS int[]))
        ORDER BY road_id, inspected_on DESC, id DESC
    ), bridge_latest AS (
        SELECT DISTINCT ON (bridge_id) bridge_id, condition_score, condition_scale, inspected_on
        FROM inspections WHERE bridge_id = ANY(CAST(:bridges AS int[]))
        ORDER BY bridge_id, inspected_on DESC, id DESC
    )
    SELECT 'road' AS kind, r.id, r.code, r.name_th, r.name_en, r.road_class, r.surface,
           r.owner_agency, lb.code AS lgo_code, lb.name_th AS lgo_name_th,
           lb.name_en AS lgo_name_en, NULL AS structure_type, NULL::float8 AS length_m,
           i.condition_score, i.condition_scale, i.inspected_on
    FROM roads r
    LEFT JOIN local_bodies lb ON lb.id = r.owner_local_body_id
    LEFT JOIN road_latest i ON i.road_id = r.id
    WHERE r.id = ANY(CAST(:roads AS int[]))
    UNION ALL
    SELECT 'bridge', b.id, NULL, b.name_th, b.name_en, NULL, NULL, NULL, NULL, NULL, NULL,
           b.structure_type, b.length_m, i.condition_score, i.condition_scale, i.inspected_on
    FROM bridges b LEFT JOIN bridge_latest i ON i.bridge_id = b.id
    WHERE b.id = ANY(CAST(:bridges AS int[]))
    """
)


def _condition(row) -> dict | None:
    if row.condition_score is None:
        return None
    return {
        "score": float(row.condition_score),
        "scale": row.condition_scale,
        "inspected_on": row.inspected_on.isoformat(),
    }


def _badness(surface: str) -> tuple[bool, int]:
    """How bad a surface is to drive: one that is not all-weather (laterite, earth) is worse
    than any that is; within each, the domain's order (earth after laterite, crushed rock after
    concrete after asphalt)."""
    return surface not in domain.ALL_WEATHER_SURFACES, domain.SURFACES.index(surface)


def worst_surface(surfaces: Iterable[str | None]) -> str | None:
    """The worst of the surfaces driven.

    Parameters
    ----------
    surfaces
        Surface keys (:data:`gis_registry.domain.SURFACES`); None and unknown keys are ignored.

    Returns
    -------
    str or None
        The key of the worst surface: one that is not all-weather (laterite, then earth the
        worst of all) before any all-weather one (asphalt, concrete, then crushed rock); None
        when no known surface is given.
    """
    known = [s for s in surfaces if s in domain.SURFACES]
    return max(known, key=_badness) if known else None


def road_runs(segments: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Consecutive segments of one road (same code and Thai name) merged into one run.

    A road driven twice with another between is two runs: the runs follow the route.

    Parameters
    ----------
    segments
        A route's segments, in the order driven (:attr:`Route.segments`).

    Returns
    -------
    list of dict
        One per run: the road's ``code``, ``name_th``, ``name_en`` and ``road_class`` (of its
        first segment); ``surfaces`` (keys) and ``owners`` (as on the segments) in the order
        first driven, each once; the run's ``length_m`` and ``time_s`` (the sums of its
        segments'); ``n_segments`` and the segments' ``road_ids`` in order.
    """
    runs: list[dict[str, Any]] = []
    for s in segments:
        if not runs or (runs[-1]["code"], runs[-1]["name_th"]) != (s.get("code"), s.get("name_th")):
            runs.append(
                {
                    "code": s.get("code"),
                    "name_th": s.get("name_th"),
                    "name_en": s.get("name_en"),
                    "road_class": s.get("road_class"),
                    "surfaces": [],
                    "owners": [],
                    "length_m": 0.0,
                    "time_s": 0.0,
                    "n_segments": 0,
                    "road_ids": [],
                }
            )
        run = runs[-1]
        for value, seen in ((s.get("surface"), run["surfaces"]), (s.get("owner"), run["owners"])):
            if value is not None and value not in seen:
                seen.append(value)
        run["length_m"] += s.get("length_m") or 0.0
        run["time_s"] += s.get("time_s") or 0.0
        run["n_segments"] += 1
        run["road_ids"].append(s.get("road_id"))
    return runs


@dataclass
class Route:
    """A route: totals, GeoJSON geometry, the road segments driven and the bridges crossed.

    ``max_attach_m`` is the attach limit the endpoints met (their ``attach_m`` is in
    ``origin`` and ``destination``); ``straight_line_m`` the distance between the endpoints in
    the network's metric CRS; ``same_node`` whether both attach to one network node (the
    on-network length is then 0). ``closures`` lists each closure with ``on_route``: whether
    the usual (unrestricted) route uses it; ``closures_change_route`` whether any does (if
    none does, the usual route is the answer); ``usual`` the usual route's totals when there
    are closures. ``notes`` says all of this in sentences, which every shell prints as is.
    ``roads``, ``surfaces``, ``worst_surface`` and ``all_weather`` sum the segments up (the
    same summary for the CLI, the API and the maps).
    """

    origin: dict
    destination: dict
    by: str
    length_m: float
    time_s: float
    geometry: dict
    segments: list[dict]
    bridges: list[dict]
    restrictions: dict = field(default_factory=dict)
    max_attach_m: float = MAX_ATTACH_M
    straight_line_m: float = 0.0
    same_node: bool = False
    closures: list[dict] = field(default_factory=list)
    closures_change_route: bool = False
    usual: dict | None = None
    notes: list[str] = field(default_factory=list)
    edges: list[int] = field(default_factory=list, repr=False)

    @property
    def roads(self) -> list[dict[str, Any]]:
        """The roads driven, in order: consecutive segments of one road merged (a road driven
        twice with another between is two runs); see :func:`road_runs` for the fields."""
        return road_runs(self.segments)

    @property
    def surfaces(self) -> dict[str, float]:
        """Metres driven on each surface, best to worst (:func:`worst_surface`'s order);
        ``unknown`` for segments without a recorded surface. They sum to ``length_m``."""
        metres: dict[str, float] = {}
        for s in self.segments:
            surface = s.get("surface")
            key = surface if surface in domain.SURFACES else "unknown"
            metres[key] = metres.get(key, 0.0) + (s.get("length_m") or 0.0)
        order = [*sorted(domain.SURFACES, key=_badness), "unknown"]
        return {key: metres[key] for key in order if key in metres}

    @property
    def worst_surface(self) -> str | None:
        """The worst surface driven (:func:`worst_surface`), None when none is recorded."""
        return worst_surface(s.get("surface") for s in self.segments)

    @property
    def all_weather(self) -> bool | None:
        """Whether every surface driven is all-weather
        (:data:`~gis_registry.domain.ALL_WEATHER_SURFACES`); None when none is recorded."""
        worst = self.worst_surface
        return None if worst is None else worst in domain.ALL_WEATHER_SURFACES

    def to_dict(self) -> dict:
        """The route as JSON-ready values (``gis-registry route --json``), its summary
        (``roads``, ``surfaces``, ``worst_surface``, ``all_weather``) included."""
        return {
            "origin": self.origin,
            "destination": self.destination,
            "by": self.by,
            "length_m": self.length_m,
            "time_s": self.time_s,
            "geometry": self.geometry,
            "segments": self.segments,
            "bridges": self.bridges,
            "roads": self.roads,
            "surfaces": self.surfaces,
            "worst_surface": self.worst_surface,
            "all_weather": self.all_weather,
            "restrictions": self.restrictions,
            "max_attach_m": self.max_attach_m,
            "straight_line_m": self.straight_line_m,
            "same_node": self.same_node,
            "closures": self.closures,
            "closures_change_route": self.closures_change_route,
            "usual": self.usual,
            "notes": self.notes,
        }

    def to_feature(self) -> dict:
        """The route as a GeoJSON Feature: the geometry, and the rest of :meth:`to_dict` as
        properties (the API's answer)."""
        body = self.to_dict()
        return {"type": "Feature", "geometry": body.pop("geometry"), "properties": body}


def _network(conn: Connection, network: Network | None, config: NetworkConfig | None) -> Network:
    return network if network is not None else load_network(conn, config=config)


def route(
    conn: Connection,
    origin,
    destination,
    *,
    by: str = "time",
    restrictions: Restrictions | None = None,
    max_attach_m: float | None = None,
    network: Network | None = None,
    config: NetworkConfig | None = None,
) -> Route:
    """The fastest (or shortest) route between two endpoints.

    Parameters
    ----------
    conn
        Connection to the registry.
    origin, destination
        An LGO code (``local_bodies.code``) or a unique Thai or English name of an LGO
        (``lgo:NAME`` to say so), ``village:ID`` or an int village id,
        ``district:CODE``, a DOPA village code, or coordinates as ``"lon,lat"`` / ``(lon, lat)``.
    by
        ``"time"`` (fastest) or ``"distance"`` (shortest).
    restrictions
        Closures, vehicle weight, all-weather only.
    max_attach_m
        Farthest an endpoint may lie from the road network, in metres; None (the default)
        means :data:`~gis_registry.network.attach.MAX_ATTACH_M`, ``math.inf`` no limit.
    network, config
        A network already loaded, or the configuration to load one with.

    Returns
    -------
    Route
        ``length_m`` and ``time_s`` are on-network totals (attachment distances are reported
        with the endpoints, not added); ``closures``, ``same_node`` and ``notes`` say what the
        figures rest on.

    Raises
    ------
    NotFound
        Unknown endpoint (the closest LGO names suggested);
        :class:`~gis_registry.errors.AmbiguousName` for a name several LGOs answer to;
        :class:`Unreachable` when no route exists, saying why;
        :class:`TooFarFromRoad` (an :class:`Unreachable`) for an endpoint beyond the limit.
    ValidationError
        For a ``max_attach_m`` that is not a positive number of metres.
    """
    check_weight(by)  # before the network is loaded: a typo must not cost a build
    limit = check_attach_limit(max_attach_m)
    net = _network(conn, network, config)
    a = resolve_endpoint(net.places, net.topo.node_xy, origin)
    b = resolve_endpoint(net.places, net.topo.node_xy, destination)
    attach_notes = require_attached(conn, net.places, [a, b], limit)
    items = closure_items(conn, net, restrictions)
    states = _states(net, a, b, by, None)
    if states is None:
        raise _no_route(net, a, b, [], [])
    usual_edges = np.asarray(states, dtype=np.int64) // 2
    on = [bool(np.isin(item.edges, usual_edges).any()) for item in items]
    if any(on):
        # Only a closure the usual route uses can change it: closing edges never makes
        # another route cheaper, so otherwise the usual route is still the best one.
        states = _states(net, a, b, by, union_of(items, net))
        if states is None:
            raise _no_route(net, a, b, items, on)
    usual = None
    if items:
        usual = {
            "length_m": float(net.topo.length_m[usual_edges].sum()),
            "time_s": float(net.time_s[usual_edges].sum()),
        }
    r = _describe(conn, net, a, b, by, states, restrictions)
    r.max_attach_m = limit
    r.straight_line_m = _geodesic_m(conn, a.lonlat, b.lonlat)
    r.same_node = a.node == b.node
    r.closures = [{**item.to_dict(), "on_route": o} for item, o in zip(items, on, strict=True)]
    r.closures_change_route = any(on)
    r.usual = usual
    r.notes = attach_notes + _route_notes(net, a, b, r, items, on)
    return r


def _states(net: Network, a: Anchor, b: Anchor, by: str, closed) -> list[int] | None:
    """Arc states of the best route from ``a`` to ``b`` with ``closed`` edges, or None."""
    if closed is None and by == "time":
        cost, _, arcs = net.hierarchy("time").query(a.node, b.node)
        if not np.isfinite(cost):
            return None
        return net.hierarchy_states["time"][arcs].tolist()
    # Closures change costs, which a precomputed hierarchy cannot follow, and shortest
    # routes are rarer than fastest ones (not worth a second hierarchy): plain Dijkstra, on
    # the core (degree-2 chains contracted) when both ends are places.
    graph = net.core if a.place >= 0 and b.place >= 0 else net.full
    return _shortest_states(graph, a, b, by, graph.arc_mask(closed))


def _shortest_states(graph: RoutingGraph, a: Anchor, b: Anchor, by: str, mask) -> list[int] | None:
    s, t = int(graph.index_of[a.node]), int(graph.index_of[b.node])
    if s == t:
        return []
    dist, pred = graph.shortest(s, by, mask)
    if not np.isfinite(dist[t]):
        return None
    nodes = [t]
    while nodes[-1] != s:
        nodes.append(int(pred[nodes[-1]]))
    return graph.states(graph.path_arcs(np.array(nodes[::-1]), by, mask))


def _roads_in_part(net: Network, label: np.ndarray, part: int) -> int:
    """Road segments (registry rows) with an edge in connected part ``part``."""
    t = net.topo
    return int(np.unique(t.road[label[t.source] == part]).size)


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _no_route(
    net: Network, a: Anchor, b: Anchor, items: list[Closure], on: list[bool]
) -> Unreachable:
    """The Unreachable error for ``a`` -> ``b``, saying why there is no route."""
    fa, fb = a.label, b.label
    _, label = node_components(net, None)
    if label[a.node] != label[b.node]:
        na = _roads_in_part(net, label, label[a.node])
        nb = _roads_in_part(net, label, label[b.node])
        return Unreachable(
            f"no route from {fa} to {fb}: they lie on different, unconnected parts of the road "
            f"network ({fa}'s part has {na} road segment{'s' * (na != 1)}, {fb}'s {nb}); "
            "`gis-registry network check` lists the islands and near misses"
        )
    if not items:
        return Unreachable(
            f"no route from {fa} to {fb}: they lie on one part of the road network, but its "
            f"one-way roads allow no way from {fa} to {fb}"
        )
    closing = [i.label for i, o in zip(items, on, strict=True) if o]
    others = [i.label for i, o in zip(items, on, strict=True) if not o]
    verb = "is" if len(closing) == 1 else "are"
    _, cut = node_components(net, union_of(items, net))
    if cut[a.node] != cut[b.node]:
        why = f"{_and(closing)} {verb} on the usual route, and the closures cut {fb} off from {fa}"
    else:
        why = (
            f"{_and(closing)} {verb} on the usual route, and the one-way roads left open allow "
            "no way round"
        )
    if others:
        why += f" (not on the usual route: {', '.join(others)})"
    return Unreachable(f"no route from {fa} to {fb} under the closures: {why}")


def _route_notes(
    net: Network, a: Anchor, b: Anchor, r: Route, items: list[Closure], on: list[bool]
) -> list[str]:
    """What the figures of ``r`` rest on, in sentences."""
    notes = []
    if r.same_node:
        da, db = a.describe(net.places), b.describe(net.places)
        if r.straight_line_m > 0:
            notes.append(
                f"{da} and {db} both attach to the same road node; the on-network distance is "
                f"0 and the straight-line distance between them is "
                f"{format_metres(r.straight_line_m)}"
            )
        else:
            notes.append(f"{da} and {db} are the same place; the distance is 0")
    if items and not r.closures_change_route:
        labels = [i.label for i in items]
        verb = "is" if len(labels) == 1 else "are"
        notes.append(f"{_and(labels)} {verb} not on this route; nothing changes")
    elif items and r.usual is not None:
        usual = r.usual
        # one detour, however many closures it goes round: said once, naming them all
        closing = [i.label for i, o in zip(items, on, strict=True) if o]
        if closing:
            verb, it = ("is", "it") if len(closing) == 1 else ("are", "them")
            notes.append(
                f"{_and(closing)} {verb} on the usual route; the route goes round {it}: "
                f"{r.length_m / 1000:.2f} km, {r.time_s / 60:.1f} min instead of "
                f"{usual['length_m'] / 1000:.2f} km, {usual['time_s'] / 60:.1f} min"
            )
        notes.extend(
            f"{i.label} is not on the usual route" for i, o in zip(items, on, strict=True) if not o
        )
    return notes


def _describe(conn, net: Network, a: Anchor, b: Anchor, by: str, states, restrictions) -> Route:
    states = np.asarray(states, dtype=np.int64)
    edges = states // 2
    forward = states % 2 == 0
    topo, roads = net.topo, net.roads
    lengths, times = topo.length_m[edges], net.time_s[edges]
    road_ids = roads.ids[topo.road[edges]]
    coords = [
        roads.lonlat[topo.v0[e] : topo.v1[e] + 1][:: 1 if f else -1]
        for e, f in zip(edges, forward, strict=True)
    ]
    if coords:
        line = np.concatenate(coords)
        keep = np.r_[True, np.any(line[1:] != line[:-1], axis=1)]
        line = line[keep]
    else:
        line = np.array([a.lonlat, b.lonlat])
    segments, bridges = _details(conn, net, edges, road_ids, lengths, times)
    return Route(
        origin=a.to_dict(net.places),
        destination=b.to_dict(net.places),
        by=by,
        length_m=float(lengths.sum()),
        time_s=float(times.sum()),
        geometry={"type": "LineString", "coordinates": np.round(line, 7).tolist()},
        segments=segments,
        bridges=bridges,
        restrictions=(restrictions or Restrictions()).to_dict(),
        edges=edges.tolist(),
    )


def _details(conn, net: Network, edges, road_ids, lengths, times) -> tuple[list, list]:
    """The route's segments (consecutive edges of one road are one segment) and bridges."""
    if len(road_ids) == 0:
        return [], []
    starts = np.flatnonzero(np.r_[True, road_ids[1:] != road_ids[:-1]])
    seg_len = np.add.reduceat(lengths, starts).tolist()
    seg_time = np.add.reduceat(times, starts).tolist()
    ids = road_ids[starts].tolist()
    b = net.bridge_edge
    on_route = np.flatnonzero(np.isin(b, edges) & (b >= 0))
    position = {int(e): i for i, e in enumerate(edges.tolist())}
    in_order = sorted(on_route.tolist(), key=lambda i: position[int(b[i])])
    bridge_ids = [int(net.bridges.ids[i]) for i in in_order]
    rows = conn.execute(_DETAILS, {"roads": sorted(set(ids)), "bridges": bridge_ids}).all()
    road = {r.id: r for r in rows if r.kind == "road"}
    bridge = {r.id: r for r in rows if r.kind == "bridge"}
    segments = []
    for rid, length, time_s in zip(ids, seg_len, seg_time, strict=True):
        r = road[rid]
        if r.lgo_code is not None:
            owner = {
                "kind": "local_body",
                "code": r.lgo_code,
                "name_th": r.lgo_name_th,
                "name_en": r.lgo_name_en,
            }
        elif r.owner_agency is not None:
            owner = {"kind": "agency", "code": r.owner_agency}
        else:
            owner = None
        segments.append(
            {
                "road_id": rid,
                "code": r.code,
                "name_th": r.name_th,
                "name_en": r.name_en,
                "road_class": r.road_class,
                "surface": r.surface,
                "owner": owner,
                "length_m": length,
                "time_s": time_s,
                "condition": _condition(r),
            }
        )
    crossed = []
    for i, bid in zip(in_order, bridge_ids, strict=True):
        r = bridge[bid]
        limit = net.bridges.load_limit_t[i]
        crossed.append(
            {
                "bridge_id": bid,
                "name_th": r.name_th,
                "name_en": r.name_en,
                "road_id": int(net.bridges.road_id[i]),
                "structure_type": r.structure_type,
                "length_m": float(r.length_m),
                "load_limit_t": None if np.isnan(limit) else float(limit),
                "condition": _condition(r),
            }
        )
    return segments, crossed


# -- matrix -----------------------------------------------------------------------------------
@dataclass
class Matrix:
    """Travel time and distance among LGO offices, and reachability from the PAO office.

    ``time_s[i][j]`` is the time of the fastest route from ``codes[i]`` to ``codes[j]`` and
    ``length_m[i][j]`` that route's length; None when unreachable, for one of two reasons:
    the office is farther than ``max_attach_m`` from the road network (listed in
    ``beyond_attach_limit`` with ``road_m``, its distance to the nearest road, and ``attach_m``,
    to the nearest node: its whole row and column are None), or there is no
    path (the pair is in ``no_path``, [from, to]). ``same_node`` lists the groups of offices
    attached to one network node (0 between them). ``notes`` says it in sentences.
    """

    codes: list[str]
    names_th: list[str]
    time_s: list[list[float | None]]
    length_m: list[list[float | None]]
    pao_code: str | None
    from_pao_s: dict[str, float | None]
    unreachable_from_pao: list[str]
    restrictions: dict = field(default_factory=dict)
    max_attach_m: float = MAX_ATTACH_M
    beyond_attach_limit: list[dict] = field(default_factory=list)
    no_path: list[list[str]] = field(default_factory=list)
    same_node: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """The matrix as JSON-ready values (``gis-registry connectivity matrix --json``)."""
        return {
            "codes": self.codes,
            "names_th": self.names_th,
            "time_s": self.time_s,
            "length_m": self.length_m,
            "pao_code": self.pao_code,
            "from_pao_s": self.from_pao_s,
            "unreachable_from_pao": self.unreachable_from_pao,
            "restrictions": self.restrictions,
            "max_attach_m": self.max_attach_m,
            "beyond_attach_limit": self.beyond_attach_limit,
            "no_path": self.no_path,
            "same_node": self.same_node,
            "notes": self.notes,
        }


def _cell(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


def matrix(
    conn: Connection,
    *,
    codes: Sequence[str] | None = None,
    restrictions: Restrictions | None = None,
    max_attach_m: float | None = None,
    network: Network | None = None,
    config: NetworkConfig | None = None,
    chunk: int = 16,
) -> Matrix:
    """Fastest-route time and length among LGO offices (all of them, or ``codes``).

    Parameters
    ----------
    codes
        LGO codes or unique Thai or English names; default every local body (the PAO
        included).
    max_attach_m
        Offices farther than this from the road network, in metres, get no figures (None,
        listed in ``beyond_attach_limit``); None (the default) means
        :data:`~gis_registry.network.attach.MAX_ATTACH_M`.
    chunk
        Sources per Dijkstra call (memory grows with chunk x nodes of the core graph).

    Raises
    ------
    NotFound
        For an unknown LGO code or name (the closest names suggested);
        :class:`~gis_registry.errors.AmbiguousName` for a name several LGOs answer to.
    ValidationError
        For a ``max_attach_m`` that is not a positive number of metres.
    """
    limit = check_attach_limit(max_attach_m)
    net = _network(conn, network, config)
    places = net.places
    lgo_rows = places.rows_of("lgo")
    if codes is None:
        rows = lgo_rows
    else:
        # an LGO's code or its unique Thai or English name (lgo_row raises for the others)
        rows = np.array([lgo_row(places, str(c)) for c in codes], dtype=np.int64)
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[places.node[rows] >= 0]
    closed = closed_edges(conn, net, restrictions)
    pao = places.pao
    reach = lgo_rows[places.node[lgo_rows] >= 0]
    if closed is None:
        h = net.hierarchy("time")
        time_m, len_m = h.many_to_many(places.node[rows], places.node[rows])
        if pao >= 0 and places.node[pao] >= 0:
            from_pao_s, _ = h.many_to_many([places.node[pao]], places.node[reach])
    else:
        time_m, len_m = _matrix_dijkstra(
            net.core, net.core.arc_mask(closed), places.node[rows], chunk
        )
        if pao >= 0 and places.node[pao] >= 0:
            from_pao_s, _ = _matrix_dijkstra(
                net.core,
                net.core.arc_mask(closed),
                places.node[[pao]],
                chunk,
                targets=places.node[reach],
            )
    # An office beyond the attach limit is not on the network: no figure rather than the
    # figure of a road it is not on (offices 100 km apart once showed 0-10 min). Only offices
    # farther than the limit from their node are measured to the nearest road.
    # One rule (attach.roads_beyond_nodes) for the matrix and the figures from the PAO.
    offices = np.unique(np.r_[rows, reach, [pao] if pao >= 0 else []]).astype(np.int64)
    measured = roads_beyond_nodes(
        conn,
        places,
        [(tuple(places.lonlat[r]), float(places.attach_m[r])) for r in offices],
        limit,
    )
    road_m = {int(r): d for r, d in zip(offices, measured, strict=True) if d is not None}
    beyond_rows = [r for r, d in road_m.items() if d > limit]
    near_road = [r for r in rows.tolist() if r in road_m and road_m[r] <= limit]
    far = np.isin(rows, beyond_rows)
    time_m, len_m = np.array(time_m, dtype=np.float64), np.array(len_m, dtype=np.float64)
    time_m[far, :] = time_m[:, far] = np.inf
    len_m[far, :] = len_m[:, far] = np.inf
    from_pao: dict[str, float | None] = {}
    if pao >= 0 and places.node[pao] >= 0:
        from_pao_row = np.array(from_pao_s[0], dtype=np.float64)
        from_pao_row[np.isin(reach, beyond_rows)] = np.inf
        if pao in beyond_rows:
            from_pao_row[:] = np.inf
        from_pao = {places.key[r]: _cell(x) for r, x in zip(reach, from_pao_row, strict=True)}
    codes_out = [places.key[r] for r in rows]
    beyond = [
        {
            "code": places.key[r],
            "name_th": places.name_th[r],
            "attach_m": float(places.attach_m[r]),
            "road_m": road_m[int(r)],
        }
        for r in rows[far]
    ]
    no_path_at = ~np.isfinite(time_m) & ~far[:, None] & ~far[None, :]
    np.fill_diagonal(no_path_at, False)
    no_path = [[codes_out[i], codes_out[j]] for i, j in zip(*np.nonzero(no_path_at), strict=True)]
    groups: dict[int, list[str]] = {}
    for r, code in zip(rows[~far].tolist(), np.asarray(codes_out, dtype=object)[~far], strict=True):
        groups.setdefault(int(places.node[r]), []).append(code)
    same_node = [g for g in groups.values() if len(g) > 1]
    notes = [
        f"{places.describe(r, places.key[r])} is {format_metres(road_m[int(r)])} from the "
        f"nearest road; the limit is {limit:g} m: no figures for it"
        for r in rows[far]
    ]
    notes += [
        f"{places.describe(r, places.key[r])} {far_from_node(float(places.attach_m[r]), road_m[r])}"
        for r in near_road
    ]
    if no_path:
        notes.append(
            f"{len(no_path)} pairs have no path (unconnected parts of the road network, one-way "
            "roads or closures): `gis-registry route FROM TO` says why for a pair"
        )
    notes += [
        f"{_and(g)} attach to the same road node: 0 min between them on the network"
        for g in same_node
    ]
    return Matrix(
        codes=codes_out,
        names_th=[places.name_th[r] for r in rows],
        time_s=[[_cell(x) for x in row] for row in time_m],
        length_m=[[_cell(x) for x in row] for row in len_m],
        pao_code=places.key[pao] if pao >= 0 else None,
        from_pao_s=from_pao,
        unreachable_from_pao=[k for k, v in from_pao.items() if v is None],
        restrictions=(restrictions or Restrictions()).to_dict(),
        max_attach_m=limit,
        beyond_attach_limit=beyond,
        no_path=no_path,
        same_node=same_node,
        notes=notes,
    )


def _matrix_dijkstra(graph: RoutingGraph, mask, sources, chunk: int, targets=None):
    """Time and fastest-route length between topology nodes, by Dijkstra on ``graph``."""
    src = graph.index_of[np.asarray(sources)]
    dst = src if targets is None else graph.index_of[np.asarray(targets)]
    time_m = np.full((len(src), len(dst)), np.inf)
    len_m = np.full_like(time_m, np.inf)
    arc_len = _pair_lengths(graph, mask)
    for lo in range(0, len(src), chunk):
        deadline.check()
        dist, pred = graph.shortest(src[lo : lo + chunk], "time", mask)
        time_m[lo : lo + chunk] = dist[:, dst]
        for k, s in enumerate(src[lo : lo + chunk]):
            len_m[lo + k] = _tree_lengths(pred[k], arc_len, s)[dst]
    return time_m, len_m


def _pair_lengths(graph: RoutingGraph, mask) -> tuple[np.ndarray, np.ndarray]:
    """For each (tail, head) pair with an open arc: key and length of its fastest arc."""
    open_arcs = np.arange(len(graph.tail)) if mask is None else np.flatnonzero(mask)
    key = graph.tail[open_arcs] * graph.n + graph.head[open_arcs]
    order = np.lexsort((graph.time_s[open_arcs], key))
    key, arcs = key[order], open_arcs[order]
    first = np.r_[True, key[1:] != key[:-1]]
    return key[first], graph.length_m[arcs[first]]


_GEODESIC = text(
    "SELECT ST_Distance(ST_SetSRID(ST_MakePoint(:x0, :y0), 4326)::geography,"
    " ST_SetSRID(ST_MakePoint(:x1, :y1), 4326)::geography)"
)


def _geodesic_m(conn: Connection, a: tuple[float, float], b: tuple[float, float]) -> float:
    """The distance in metres between two lon/lat points on the ellipsoid (PostGIS geography:
    one round trip, where pyproj would cost a cold CLI route a tenth of a second to import)."""
    return float(
        conn.execute(_GEODESIC, {"x0": a[0], "y0": a[1], "x1": b[0], "y1": b[1]}).scalar_one()
    )


def _tree_lengths(pred: np.ndarray, arc_len, source: int) -> np.ndarray:
    """Length along the shortest-path tree ``pred`` from ``source`` to every node."""
    keys, lengths = arc_len
    n = len(pred)
    child = np.flatnonzero(pred >= 0)
    w = lengths[np.searchsorted(keys, pred[child].astype(np.int64) * n + child)]
    from scipy import sparse  # here: a cold CLI route between offices never needs scipy
    from scipy.sparse import csgraph

    tree = sparse.csr_matrix((w, (pred[child], child)), shape=(n, n))
    return csgraph.dijkstra(tree, directed=True, indices=source)
