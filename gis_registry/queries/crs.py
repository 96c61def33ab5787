"""Coordinate reference systems the registry reads in and answers in (OGC API - Features
Part 2): CRS84 (the storage CRS, longitude first), EPSG:4326 (latitude first), UTM 47N and Web
Mercator."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from gis_registry.errors import InvalidParameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# how far (degrees) a box may reach beyond its projected CRS's area of use: UTM is often used a
# little past its zone's edges; far beyond, its coordinates stop meaning places
AREA_TOLERANCE = 3.0


@dataclass(frozen=True)
class Crs:
    """A supported CRS: its URI, SRID, axis order and the decimals written in GeoJSON."""

    uri: str
    srid: int
    flip: bool  # axis order latitude, longitude (EPSG:4326 as the EPSG register defines it)
    digits: int  # decimals written in GeoJSON


SUPPORTED: dict[str, Crs] = {
    CRS84: Crs(CRS84, 4326, False, 7),
    "http://www.opengis.net/def/crs/EPSG/0/4326": Crs(
        "http://www.opengis.net/def/crs/EPSG/0/4326", 4326, True, 7
    ),
    "http://www.opengis.net/def/crs/EPSG/0/32647": Crs(
        "http://www.opengis.net/def/crs/EPSG/0/32647", 32647, False, 2
    ),
    "http://www.opengis.net/def/crs/EPSG/0/3857": Crs(
        "http://www.opengis.net/def/crs/EPSG/0/3857", 3857, False, 2
    ),
}
_ALIASES = {
    "CRS84": CRS84,
    "OGC:CRS84": CRS84,
    "[OGC:CRS84]": CRS84,
    "EPSG:4326": "http://www.opengis.net/def/crs/EPSG/0/4326",
    "[EPSG:4326]": "http://www.opengis.net/def/crs/EPSG/0/4326",
    "EPSG:32647": "http://www.opengis.net/def/crs/EPSG/0/32647",
    "[EPSG:32647]": "http://www.opengis.net/def/crs/EPSG/0/32647",
    "EPSG:3857": "http://www.opengis.net/def/crs/EPSG/0/3857",
    "[EPSG:3857]": "http://www.opengis.net/def/crs/EPSG/0/3857",
}
DEFAULT = SUPPORTED[CRS84]
CRS_LIST = list(SUPPORTED)


def parse_crs(value: str | int | Crs | None, parameter: str = "crs") -> Crs:
    """A CRS from its URI, ``EPSG:n``/``OGC:CRS84`` (bracketed or not) or EPSG code.

    Parameters
    ----------
    value : the CRS; None or "" is CRS84
    parameter : the argument's name in the error

    Raises
    ------
    InvalidParameter
        naming ``parameter`` and the supported CRSs.
    """
    if isinstance(value, Crs):
        return value
    if value is None or value == "":
        return DEFAULT
    text = f"EPSG:{value}" if isinstance(value, int) else value.strip()
    uri = _ALIASES.get(text, text)
    try:
        return SUPPORTED[uri]
    except KeyError:
        raise InvalidParameter(
            parameter, f"'{value}' is not supported (supported: {', '.join(CRS_LIST)})"
        ) from None


@cache
def area_of_use(srid: int) -> tuple[float, float, float, float]:
    """The bounds (minx, miny, maxx, maxy), in the CRS's own units, of its area of use in the
    EPSG register widened by :data:`AREA_TOLERANCE` degrees (pyproj's database)."""
    from pyproj import CRS, Transformer

    crs = CRS.from_epsg(srid)
    if crs.area_of_use is None:  # every CRS in SUPPORTED has one; the world otherwise
        west, south, east, north = -180.0, -90.0, 180.0, 90.0
    else:
        west, south, east, north = crs.area_of_use.bounds
    west, east = max(-180.0, west - AREA_TOLERANCE), min(180.0, east + AREA_TOLERANCE)
    # the poles themselves are off a Mercator's map: stop a degree short of them
    south, north = max(-89.0, south - AREA_TOLERANCE), min(89.0, north + AREA_TOLERANCE)
    to_crs = Transformer.from_crs(4326, srid, always_xy=True)
    minx, miny, maxx, maxy = to_crs.transform_bounds(west, south, east, north, densify_pts=21)
    return float(minx), float(miny), float(maxx), float(maxy)


def check_box(crs: Crs, box: tuple[float, float, float, float], parameter: str = "bbox") -> None:
    """Refuse a box (finite minx, miny, maxx, maxy in a projected ``crs``, axis order x, y)
    that reaches outside the CRS's area of use (see :func:`area_of_use`): there its
    coordinates name no place, or none PostGIS can transform. Boxes in degrees are checked
    against their own ranges by :func:`gis_registry.queries.filters.envelope`.

    Parameters
    ----------
    crs : the box's CRS
    box : minx, miny, maxx, maxy
    parameter : the argument's name in the error

    Raises
    ------
    InvalidParameter
        naming ``parameter``, the CRS and its bounds.
    """
    minx, miny, maxx, maxy = area_of_use(crs.srid)
    if not (minx <= box[0] <= box[2] <= maxx and miny <= box[1] <= box[3] <= maxy):
        raise InvalidParameter(
            parameter,
            f"the box reaches outside the area of use of EPSG:{crs.srid}: "
            f"x in [{minx:.0f}, {maxx:.0f}], y in [{miny:.0f}, {maxy:.0f}]",
        )
