"""Places on the network: LGO offices, villages and district offices, each attached to its
nearest network node, and the parsing of route endpoints (LGO code or name, village id,
lon,lat).

A place attaches to the nearest node of the whole network (a KD-tree in the network's metric
CRS, the province's UTM zone: :attr:`.RoadArrays.metric_srid`), whatever
component that node is in: a village next to an isolated track is reported as cut off rather
than quietly attached to a farther road. ``attach_m`` says how far the node is.

Routes and the matrix refuse a place farther than :data:`MAX_ATTACH_M` from the road network
(the ``max_attach_m`` option changes it): without a limit an office 115 km from any road
"attached" to that road and got a 6.67 km route. Every place of the scale-1 demo province (103
offices, 928 villages, 13 district offices) attaches at 0 m, its generator having put them on
road nodes; a village point of real data (DOPA) is usually within a hundred metres or two of a
road it is reached by. 300 m keeps those and refuses what is plainly off the map.

The limit is on the distance to the nearest *road*, not node: a village 20 m from a rural road
whose nearest junction is 1.5 km away is on the network (the answer then says the route starts
at that junction and leaves those metres out). Only a place farther than the limit from its
node costs that check, one indexed query (:func:`road_distance_m`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, text

from gis_registry.errors import NotFound, ValidationError
from gis_registry.network.topology import to_metric
from gis_registry.queries.places import LIST_HINT, match_local_body

PLACE_KINDS = ("lgo", "village", "district")
# Farthest a route endpoint may lie from its network node, in metres (see the module docstring).
MAX_ATTACH_M = 300.0
# A point this far outside the PAO's boundary is not in the province (a typo, or lat/lon swapped).
PROVINCE_MARGIN_M = 2_000.0

_LGOS = text(
    """
    SELECT lb.id, lb.code, lb.kind, lb.name_th, lb.name_en, lb.district_code,
           ST_X(lb.office), ST_Y(lb.office),
           coalesce((SELECT sum(s.population) FROM settlements s WHERE s.local_body_id = lb.id), 0)
    FROM local_bodies lb ORDER BY lb.id
    """
)
_VILLAGES = text(
    """
    SELECT s.id, s.village_code, s.name_th, s.name_en, s.population, lb.code, lb.district_code,
           ST_X(s.geom), ST_Y(s.geom)
    FROM settlements s JOIN local_bodies lb ON lb.id = s.local_body_id ORDER BY s.id
    """
)
_DISTRICTS = text(
    """
    SELECT d.code, d.name_th, d.name_en, ST_X(d.office), ST_Y(d.office),
           coalesce((SELECT sum(s.population) FROM settlements s
                     JOIN local_bodies lb ON lb.id = s.local_body_id
                     WHERE lb.district_code = d.code), 0)
    FROM districts d ORDER BY d.code
    """
)
_PROVINCE = text(
    "SELECT ST_AsBinary(boundary) FROM local_bodies WHERE kind = 'pao' ORDER BY id LIMIT 1"
)


class Unreachable(NotFound):
    """No route joins the two endpoints (on the network as restricted)."""


class TooFarFromRoad(Unreachable):
    """An endpoint lies farther from the road network than the attach limit.

    ``too_far`` lists (endpoint, distance to the nearest road in metres); ``max_attach_m`` is
    the limit.
    """

    def __init__(self, too_far: list[tuple[str, float]], max_attach_m: float):
        self.too_far = too_far
        self.max_attach_m = max_attach_m
        ends = " and ".join(
            f"{label} is {format_metres(m)}" if i == 0 else f"{label} {format_metres(m)}"
            for i, (label, m) in enumerate(too_far)
        )
        super().__init__(
            f"{ends} from the nearest road; the limit is {max_attach_m:g} m "
            "(max_attach_m, --max-attach-m on the command line)"
        )


def format_metres(metres: float) -> str:
    """A distance for a sentence: "412 m" below a kilometre, "115.2 km" above."""
    return f"{metres:.0f} m" if metres < 1000 else f"{metres / 1000:.1f} km"


def check_attach_limit(max_attach_m: object) -> float:
    """``max_attach_m`` as a float (None: :data:`MAX_ATTACH_M`), or a ValidationError naming
    the field.

    Raises
    ------
    ValidationError
        Unless it is a number of metres greater than 0 (``math.inf`` lifts the limit).
    """
    if max_attach_m is None:
        return MAX_ATTACH_M
    try:
        value = float(max_attach_m)  # type: ignore[arg-type]  # anything a caller passed
    except (TypeError, ValueError):
        value = math.nan
    if isinstance(max_attach_m, bool) or not value > 0:
        raise ValidationError(
            "route",
            [(None, "max_attach_m", f"{max_attach_m!r} is not a number of metres greater than 0")],
        )
    return value


@dataclass(frozen=True)
class Places:
    """Every place, one row each, attached to the network.

    ``key`` is the LGO code, the village id (as text) or the district code. ``district`` is the
    row of the place's district office (-1 when none); ``pao`` the row of the PAO office.
    ``province_xy`` (the PAO boundary) and the nodes places attach to are in metres in
    EPSG:``metric_srid``, the network's metric CRS.
    """

    kind: list[str]
    key: list[str]
    ids: np.ndarray
    name_th: list[str]
    name_en: list[str]
    population: np.ndarray
    lgo_code: list[str | None]
    district_code: list[str | None]
    lonlat: np.ndarray
    node: np.ndarray
    attach_m: np.ndarray
    district: np.ndarray
    pao: int
    province_xy: shapely.Geometry | None
    index: Mapping[tuple[str, str], int]
    metric_srid: int

    def __len__(self) -> int:
        return len(self.kind)

    def __getstate__(self) -> dict[str, Any]:
        # In a network snapshot the index, one (kind, key) tuple per place and village code
        # (190,000 at scale 100), took a third of a cold CLI route to unpickle: it travels as
        # one joined string and one row array per kind, and is unpacked a kind at a time.
        state = dict(self.__dict__)
        state["index"] = _PackedIndex.pack(self.index)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    def row(self, kind: str, key: str) -> int:
        """Row of the place of ``kind`` ('lgo', 'village', 'village_code', 'district'), or -1."""
        return self.index.get((kind, key), -1)

    def rows_of(self, kind: str) -> np.ndarray:
        """Rows of every place of ``kind`` ('lgo', 'village' or 'district'), in row order."""
        return np.flatnonzero(np.asarray(self.kind) == kind)

    def describe(self, i: int, label: str) -> str:
        """``label`` with the place's name, for a sentence: "520901 (อบต.แม่พริก)"."""
        name = self.name_th[i] or self.name_en[i]
        return f"{label} ({name})" if name else label

    def to_dict(self, i: int) -> dict[str, Any]:
        """A place as JSON-ready values."""
        out: dict[str, Any] = {"kind": self.kind[i]}
        if self.kind[i] == "village":
            out["id"] = int(self.ids[i])
        else:
            out["code"] = self.key[i]
        out |= {
            "name_th": self.name_th[i],
            "name_en": self.name_en[i],
            "population": int(self.population[i]),
            "lgo_code": self.lgo_code[i],
            "district_code": self.district_code[i],
            "attach_m": float(self.attach_m[i]),
        }
        return out


def read_places(conn: Connection, node_xy: np.ndarray, *, metric_srid: int) -> Places:
    """Read LGOs, villages and districts and attach each to its nearest node of ``node_xy``.

    Parameters
    ----------
    conn : an open connection
    node_xy : the network's nodes, in metres in EPSG:``metric_srid``
    metric_srid : the network's metric CRS (:attr:`.RoadArrays.metric_srid`)
    """
    lgos = _columns(conn.execute(_LGOS).all(), 9)
    villages = _columns(conn.execute(_VILLAGES).all(), 9)
    districts = _columns(conn.execute(_DISTRICTS).all(), 6)
    n_l, n_v, n_d = len(lgos[0]), len(villages[0]), len(districts[0])
    kind = ["lgo"] * n_l + ["village"] * n_v + ["district"] * n_d
    key = [*lgos[1], *map(str, villages[0]), *districts[0]]
    ll = np.column_stack(
        [
            np.array([*lgos[6], *villages[7], *districts[3]], dtype=np.float64),
            np.array([*lgos[7], *villages[8], *districts[4]], dtype=np.float64),
        ]
    )
    node, attach_m = nearest_nodes(node_xy, to_metric(ll, metric_srid) if len(ll) else ll)
    district = [*lgos[5], *villages[6], *districts[0]]
    office = {code: n_l + n_v + i for i, code in enumerate(districts[0])}
    pao = next((i for i, k in enumerate(lgos[2]) if k == "pao"), -1)
    wkb = conn.execute(_PROVINCE).scalar()
    province = None
    if wkb is not None:
        province = shapely.transform(
            shapely.from_wkb(bytes(wkb)), lambda lonlat: to_metric(lonlat, metric_srid)
        )
        shapely.prepare(province)
    index = {("lgo", code): i for i, code in enumerate(lgos[1])}
    index |= {("village", k): n_l + i for i, k in enumerate(key[n_l : n_l + n_v])}
    index |= {("village_code", c): n_l + i for i, c in enumerate(villages[1]) if c}
    index |= {("district", code): i for code, i in office.items()}
    return Places(
        kind=kind,
        key=key,
        ids=np.array([*lgos[0], *villages[0], *([0] * n_d)], dtype=np.int64),
        name_th=[*lgos[3], *villages[2], *districts[1]],
        name_en=[*lgos[4], *villages[3], *districts[2]],
        population=np.array([*lgos[8], *villages[4], *districts[5]], dtype=np.int64),
        lgo_code=[*lgos[1], *villages[5], *([None] * n_d)],
        district_code=district,
        lonlat=ll,
        node=node,
        attach_m=attach_m,
        district=np.array([office.get(d, -1) if d else -1 for d in district], dtype=np.int64),
        pao=pao,
        province_xy=province,
        index=index,
        metric_srid=int(metric_srid),
    )


class _PackedIndex(Mapping[tuple[str, str], int]):
    """``Places.index`` as unpickled from a snapshot: per kind, the keys joined by a separator
    no key holds and their rows; a kind's dict is built on its first lookup (a route between two
    LGOs unpacks 100 keys, not the 190,000 of every village)."""

    SEP = "\x1f"  # ASCII unit separator: never in a code or an id

    def __init__(self, packed: dict[str, tuple[str, np.ndarray]]):
        self._packed = packed
        self._kinds: dict[str, dict[str, int]] = {}

    @classmethod
    def pack(cls, index: Mapping[tuple[str, str], int]) -> _PackedIndex:
        """The packed form of an index (itself, when already packed)."""
        if isinstance(index, cls):
            return index
        groups: dict[str, tuple[list[str], list[int]]] = {}
        for (kind, key), row in index.items():
            keys, rows = groups.setdefault(kind, ([], []))
            keys.append(key)
            rows.append(row)
        return cls(
            {
                k: (cls.SEP.join(keys), np.asarray(rows, np.int64))
                for k, (keys, rows) in groups.items()
            }
        )

    def __getstate__(self) -> dict[str, Any]:
        return {"_packed": self._packed, "_kinds": {}}

    def _kind(self, kind: str) -> dict[str, int]:
        found = self._kinds.get(kind)
        if found is None:
            joined, rows = self._packed.get(kind, ("", np.zeros(0, np.int64)))
            keys = joined.split(self.SEP) if len(rows) else []
            found = self._kinds[kind] = dict(zip(keys, rows.tolist(), strict=True))
        return found

    def __getitem__(self, item: tuple[str, str]) -> int:
        return self._kind(item[0])[item[1]]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return ((kind, key) for kind in self._packed for key in self._kind(kind))

    def __len__(self) -> int:
        return sum(len(rows) for _, rows in self._packed.values())


def _columns(rows, width: int) -> list[tuple]:
    """Rows transposed to columns (empty columns when there are no rows)."""
    return list(zip(*rows, strict=True)) if rows else [()] * width


def nearest_nodes(node_xy: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node of each point and its distance in metres (-1 and inf without nodes)."""
    if len(node_xy) == 0 or len(xy) == 0:
        return np.full(len(xy), -1, dtype=np.int64), np.full(len(xy), np.inf)
    from scipy.spatial import cKDTree

    dist, node = cKDTree(node_xy).query(xy)
    return node.astype(np.int64), dist


@dataclass(frozen=True)
class Anchor:
    """A resolved route endpoint: a place row, or a point; with its network node."""

    label: str
    place: int
    node: int
    attach_m: float
    lonlat: tuple[float, float]

    def describe(self, places: Places) -> str:
        """The endpoint for a sentence: its label, and the place's name when it is a place."""
        return places.describe(self.place, self.label) if self.place >= 0 else self.label

    def to_dict(self, places: Places) -> dict:
        """The endpoint as JSON-ready values: its place, or the point with its attach distance."""
        if self.place >= 0:
            return places.to_dict(self.place)
        return {
            "kind": "point",
            "lon": self.lonlat[0],
            "lat": self.lonlat[1],
            "attach_m": self.attach_m,
        }


# The nearest roads by the index's own (degree) distance, then the exact distance in metres in
# the metric CRS among those candidates: the degree ranking only picks candidates, 32 of them
# leaving a wide margin for the few percent a degree of longitude differs from one of latitude.
_ROAD_DISTANCE = text(
    """
    SELECT min(ST_Distance(ST_Transform(r.geom, CAST(:srid AS integer)),
                           ST_Transform(q.p, CAST(:srid AS integer))))
    FROM (SELECT ST_SetSRID(ST_MakePoint(:lon, :lat), 4326) AS p) q
    CROSS JOIN LATERAL (SELECT geom FROM roads ORDER BY geom <-> q.p LIMIT 32) r
    """
)


def road_distance_m(conn: Connection, lonlat: tuple[float, float], metric_srid: int) -> float:
    """Distance in metres (EPSG:``metric_srid``) from a lon/lat point to the nearest road."""
    lon, lat = lonlat
    d = conn.execute(_ROAD_DISTANCE, {"lon": lon, "lat": lat, "srid": int(metric_srid)}).scalar()
    return math.inf if d is None else float(d)


def far_from_node(attach_m: float, road_m: float) -> str:
    """The sentence for a place near a road but farther than the limit from the road's nodes."""
    return (
        f"lies {format_metres(road_m)} from a road but {format_metres(attach_m)} from the "
        "nearest junction or road end, where the route starts: the totals leave that out"
    )


def roads_beyond_nodes(
    conn: Connection, places: Places, points: list[tuple[tuple[float, float], float]], limit: float
) -> list[float | None]:
    """The attach limit's one rule: a place is on the network when its node, or else a road,
    lies within ``limit`` metres.

    Parameters
    ----------
    points : (lon/lat, distance to the node in metres) of each place or endpoint
    limit : the attach limit in metres

    Returns
    -------
    list
        Per point, None when its node is within the limit (the node is a point of a road: near
        enough, and nothing is queried); else its distance to the nearest road, to compare with
        the limit (one indexed query each).
    """
    return [
        None if attach_m <= limit else road_distance_m(conn, lonlat, places.metric_srid)
        for lonlat, attach_m in points
    ]


def require_attached(
    conn: Connection, places: Places, anchors: list[Anchor], max_attach_m: float
) -> list[str]:
    """Refuse endpoints farther than ``max_attach_m`` metres from the road network.

    Returns
    -------
    list[str]
        Notes for endpoints near a road but farther than the limit from its nodes.

    Raises
    ------
    TooFarFromRoad
        Naming every endpoint beyond the limit, its distance to the nearest road, and the limit.
    """
    too_far, notes = [], []
    points = [(a.lonlat, a.attach_m) for a in anchors]
    for a, road_m in zip(
        anchors, roads_beyond_nodes(conn, places, points, max_attach_m), strict=True
    ):
        if road_m is None:
            continue
        if road_m > max_attach_m:
            too_far.append((a.describe(places), road_m))
        else:
            notes.append(f"{a.describe(places)} {far_from_node(a.attach_m, road_m)}")
    if too_far:
        raise TooFarFromRoad(too_far, max_attach_m)
    return notes


_NUMBER = r"[-+]?\d+(?:\.\d*)?"
_COORDS = re.compile(rf"^\s*({_NUMBER})\s*[, ]\s*({_NUMBER})\s*$")
ENDPOINT_HINT = (
    "an endpoint is an LGO code or name, village:ID, district:CODE or lon,lat; "
    "`gis-registry lgo list` lists the LGOs"
)
_PREFIXED = re.compile(r"^(village|v|district|lgo):(.+)$", re.IGNORECASE)


def lgo_row(places: Places, value: str, *, hint: str = LIST_HINT) -> int:
    """The row of the local body ``value`` names: its code, or a unique Thai or English name
    (:func:`~gis_registry.queries.places.match_local_body`).

    Raises
    ------
    AmbiguousName
        Several local bodies answer to the name (a :class:`NotFound`); it lists them.
    NotFound
        None does; the message suggests the closest names and ends with ``hint``.
    """
    row = places.row("lgo", str(value).strip())
    if row >= 0:
        return row
    lgos = places.rows_of("lgo").tolist()
    names = ((places.key[i], places.name_th[i], places.name_en[i]) for i in lgos)
    return places.row("lgo", match_local_body(value, names, hint=hint))


def resolve_endpoint(places: Places, node_xy: np.ndarray, value) -> Anchor:
    """Turn an LGO code or name, ``village:ID`` (or an int), ``district:CODE``, a village
    code, ``"lon,lat"`` or a ``(lon, lat)`` pair into an :class:`Anchor`.

    A bare string is tried as an LGO code, then a DOPA village code, then a village id, then
    coordinates, and last as the Thai or English name of an LGO (:func:`lgo_row`: a code
    never loses to a name); ``village:ID`` and ``lgo:CODE`` (or ``lgo:NAME``) say which when
    codes could be mistaken.

    Raises
    ------
    AmbiguousName
        A name several LGOs answer to (a :class:`NotFound`); it lists them.
    NotFound
        When no place has that code, id or name (the closest LGO names suggested).
    ValidationError
        When coordinates are not in the province.
    """
    if isinstance(value, tuple | list) and len(value) == 2:
        return _point(places, node_xy, float(value[0]), float(value[1]))
    if isinstance(value, int | np.integer):
        return _place(places, "village", str(int(value)), f"no village with id {value}")
    s = str(value).strip()
    row = places.row("lgo", s)
    if row >= 0:
        return _anchor(places, row, s)
    m = _PREFIXED.match(s)
    if m:
        kind = {"v": "village"}.get(m.group(1).lower(), m.group(1).lower())
        if kind == "lgo":
            row = lgo_row(places, m.group(2).strip(), hint=ENDPOINT_HINT)
            return _anchor(places, row, places.key[row])
        what = {"village": "village with id", "district": "district with code"}[kind]
        return _place(places, kind, m.group(2).strip(), f"no {what} '{m.group(2).strip()}'")
    row = places.row("village_code", s)
    if row < 0 and s.isdigit():  # a bare number that is no LGO code: a village id
        row = places.row("village", s)
    if row >= 0:
        return _anchor(places, row, s)
    m = _COORDS.match(s)
    if m:
        return _point(places, node_xy, float(m.group(1)), float(m.group(2)))
    row = lgo_row(places, s, hint=ENDPOINT_HINT)
    return _anchor(places, row, places.key[row])


def _place(places: Places, kind: str, key: str, message: str) -> Anchor:
    row = places.row(kind, key)
    if row < 0:
        raise NotFound(message)
    return _anchor(places, row, f"{kind}:{key}" if kind != "lgo" else key)


def _anchor(places: Places, row: int, label: str) -> Anchor:
    if places.node[row] < 0:
        raise NotFound("the road network is empty: no road to attach to")
    return Anchor(
        label=label,
        place=row,
        node=int(places.node[row]),
        attach_m=float(places.attach_m[row]),
        lonlat=(float(places.lonlat[row, 0]), float(places.lonlat[row, 1])),
    )


def _point(places: Places, node_xy: np.ndarray, lon: float, lat: float) -> Anchor:
    label = f"{lon:g},{lat:g}"
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError("route", [(None, "coordinates", f"{label} is not a lon,lat pair")])
    xy = to_metric(np.array([[lon, lat]]), places.metric_srid)
    if places.province_xy is not None and not shapely.dwithin(
        places.province_xy, shapely.points(xy[0]), PROVINCE_MARGIN_M
    ):
        raise ValidationError(
            "route",
            [(None, "coordinates", f"{label} is outside the province (give lon,lat, in WGS 84)")],
        )
    node, dist = nearest_nodes(node_xy, xy)
    if node[0] < 0:
        raise NotFound("the road network is empty: no road to attach to")
    return Anchor(
        label=label, place=-1, node=int(node[0]), attach_m=float(dist[0]), lonlat=(lon, lat)
    )
