"""Coordinate reference systems the registry reads in and answers in (OGC API - Features
Part 2): CRS84 (the storage CRS, longitude first), EPSG:4326 (latitude first), UTM 47N and Web
Mercator."""

from __future__ import annotations

from dataclasses import dataclass

from gis_registry.errors import InvalidParameter

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


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
