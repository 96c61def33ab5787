"""A QGIS project (``.qgz``, QGIS 3.22) of every spatial layer of the catalogue, styled as the
maps draw them (:mod:`gis_registry.styles.symbology`), grouped, in the province's metric CRS
and opening on the province.

Layers come from the database (PostGIS provider) or from this registry's OGC API - Features
(OAPIF provider). Passwords: a project file travels (e-mail, a shared drive), so it never holds
a superuser's password. A login role's own password (``gis-registry db role add``: a viewer
reads only, an editor writes only its LGO's assets) may be embedded when asked for; otherwise
the datasource names host, port, database and user, and QGIS asks for the password once (or
libpq finds it in ``~/.pgpass``/``PGPASSWORD``), or a ``pg_service.conf`` entry is referenced.
"""

from __future__ import annotations

import io
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import Connection, text

from gis_registry.catalog import CATALOG
from gis_registry.db.tables import SRID
from gis_registry.errors import InvalidParameter
from gis_registry.geodesy import metric_srid
from gis_registry.styles.qml import QGIS_VERSION, style_elements
from gis_registry.styles.symbology import GROUPS, OTHER_GROUP, LayerStyle, all_styles

if TYPE_CHECKING:
    from gis_registry.styles.condition import SnapshotLayer

Source = Literal["postgis", "ogcapi"]
SOURCES: tuple[str, ...] = ("postgis", "ogcapi")
PROJECT_FILE = "project.qgs"  # the one file inside the .qgz
_WKB = {"point": "Point", "line": "LineString", "polygon": "MultiPolygon"}
_GEOMETRY = {"point": "Point", "line": "Line", "polygon": "Polygon"}
_POSTGIS_TYPE = {"POINT": "Point", "LINESTRING": "LineString", "MULTIPOLYGON": "MultiPolygon"}


@dataclass(frozen=True)
class PostgisSource:
    """Where QGIS reads tables: a libpq connection (password only when ``password``)."""

    host: str
    port: int
    dbname: str
    user: str | None = None
    password: str | None = None
    sslmode: str | None = None
    service: str | None = None

    @classmethod
    def from_url(
        cls, url: str, *, with_password: bool = False, service: str | None = None
    ) -> PostgisSource:
        """The connection of a ``postgresql://user:pw@host:port/db?sslmode=...`` URL.

        Raises
        ------
        InvalidParameter
            ``url`` is not a PostgreSQL URL with a database name.
        """
        parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
        if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
            raise InvalidParameter(
                "url", f"'{_hide_password(url)}' is not a postgresql://user@host:port/db URL"
            )
        query = parse_qs(parts.query)
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or 5432,
            dbname=unquote(parts.path.strip("/")),
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if with_password and parts.password else None,
            sslmode=query["sslmode"][0] if query.get("sslmode") else None,
            service=service,
        )

    def uri(self, table: str, key: str, geometry: str, geometry_type: str) -> str:
        """The QGIS ``postgres`` provider's datasource of one table."""
        if self.service:
            conn = f"service='{_q(self.service)}'"
        else:
            conn = f"dbname='{_q(self.dbname)}' host={self.host} port={self.port}"
            if self.user:
                conn += f" user='{_q(self.user)}'"
            if self.password:
                conn += f" password='{_q(self.password)}'"
            if self.sslmode:
                conn += f" sslmode={self.sslmode}"
        return (
            f"{conn} key='{_q(key)}' srid={SRID} type={geometry_type} "
            f'checkPrimaryKeyUnicity=\'0\' table="public"."{table}" ({geometry})'
        )


def _q(value: str) -> str:
    """A value inside '...' of a QGIS datasource URI."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _hide_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        return url.replace(f":{parts.password}@", ":***@", 1)
    return url


def ogcapi_uri(api_url: str, collection: str) -> str:
    """The QGIS ``OAPIF`` provider's datasource of one collection of the API at ``api_url``."""
    return (
        f"url='{_q(api_url.rstrip('/'))}' typename='{_q(collection)}' "
        "restrictToRequestBBOX='1' pagingEnabled='true'"
    )


def is_superuser(conn: Connection) -> bool:
    """Whether the connection's role is a PostgreSQL superuser."""
    return bool(
        conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    )


def province_extent_metric(conn: Connection, srid: int) -> tuple[float, float, float, float] | None:
    """The province's box in ``srid`` (the PAO's boundary; without it, every layer's)."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
            "ST_Extent(ST_Transform(boundary, :srid))::box2d AS b FROM local_bodies "
            "WHERE kind = 'pao') AS box"
        ),
        {"srid": srid},
    ).one()
    if row[0] is None:
        row = conn.execute(
            text(
                "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
                "ST_Extent(ST_Transform(boundary, :srid))::box2d AS b FROM local_bodies) AS box"
            ),
            {"srid": srid},
        ).one()
    if row[0] is None:
        return None
    return (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def _srs(parent: ET.Element, epsg: int) -> None:
    """A ``<spatialrefsys>`` QGIS reads without its own CRS database entry: WKT and authid."""
    from pyproj import CRS  # here: only the project needs it

    crs = CRS.from_epsg(epsg)
    srs = ET.SubElement(parent, "spatialrefsys")
    ET.SubElement(srs, "wkt").text = crs.to_wkt()
    ET.SubElement(srs, "srid").text = str(epsg)
    ET.SubElement(srs, "authid").text = f"EPSG:{epsg}"
    ET.SubElement(srs, "description").text = crs.name
    ET.SubElement(srs, "geographicflag").text = "true" if crs.is_geographic else "false"


def _extent(parent: ET.Element, tag: str, box: tuple[float, float, float, float]) -> None:
    ext = ET.SubElement(parent, tag)
    for name, value in zip(("xmin", "ymin", "xmax", "ymax"), box, strict=True):
        ET.SubElement(ext, name).text = repr(value)


def project_document(
    styles: list[LayerStyle],
    *,
    source: Source,
    title: str,
    srid: int,
    extent: tuple[float, float, float, float] | None,
    postgis: PostgisSource | None = None,
    api_url: str | None = None,
    snapshot: tuple[str, Sequence[SnapshotLayer]] | None = None,
) -> bytes:
    """The ``.qgs`` XML of a project showing ``styles``' layers.

    Parameters
    ----------
    styles : the layers, each with its style (:func:`gis_registry.styles.symbology.all_styles`)
    source : ``postgis`` (tables, through ``postgis``) or ``ogcapi`` (collections at ``api_url``)
    title : the project's title
    srid : the project CRS (EPSG code)
    extent : the view it opens on, in ``srid`` (None: QGIS's default)
    postgis : the connection, for ``source='postgis'``
    api_url : the API's address, for ``source='ogcapi'``
    snapshot : a GeoPackage's path relative to the project and its layers (the condition
        snapshot of :mod:`gis_registry.styles.condition`), drawn over the others

    Returns
    -------
    bytes
        UTF-8 XML.
    """
    if source == "postgis" and postgis is None:
        raise InvalidParameter("source", "a PostGIS project needs a database connection")
    if source == "ogcapi" and not api_url:
        raise InvalidParameter("api_url", "an OGC API project needs the API's address")
    root = ET.Element("qgis", {"version": QGIS_VERSION, "projectname": title})
    ET.SubElement(root, "homePath", path="")
    ET.SubElement(root, "title").text = title
    _srs(ET.SubElement(root, "projectCrs"), srid)

    tree = ET.SubElement(root, "layer-tree-group")
    ET.SubElement(tree, "customproperties")
    file, snapshot_layers = snapshot or ("", ())
    groups: dict[str, ET.Element] = {}
    used = {s.group.key for s in styles} | {x.style.group.key for x in snapshot_layers}
    for group in (*GROUPS.values(), OTHER_GROUP):
        if group.key in used:
            groups[group.key] = ET.SubElement(
                tree,
                "layer-tree-group",
                {"name": group.title, "expanded": "1", "checked": "Qt::Checked"},
            )
    canvas = ET.SubElement(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
    ET.SubElement(canvas, "units").text = "meters"
    if extent is not None:
        _extent(canvas, "extent", extent)
    ET.SubElement(canvas, "rotation").text = "0"
    _srs(ET.SubElement(canvas, "destinationsrs"), srid)

    layers = ET.SubElement(root, "projectlayers")
    order = ET.SubElement(root, "layerorder")
    for x in snapshot_layers:
        # relative ("./"): QGIS resolves it beside the project file (Paths/Absolute false)
        datasource = f"./{file}|layername={x.table}"
        maplayer = _layer(
            tree=groups[x.style.group.key],
            layers=layers,
            order=order,
            layer_id=project_layer_id(x.style.layer),
            style=x.style,
            provider="ogr",
            datasource=datasource,
            wkb_type=x.wkb_type,
        )
        metadata = ET.SubElement(maplayer, "resourceMetadata")
        ET.SubElement(metadata, "title").text = x.style.title
        ET.SubElement(metadata, "abstract").text = x.abstract
        ET.SubElement(maplayer, "abstract").text = x.abstract
    for style in _drawing_order(styles):
        layer = CATALOG[style.layer]
        layer_id = project_layer_id(layer.id)
        wkb_type = _POSTGIS_TYPE.get(layer.geometry_type or "", _WKB[style.geometry])
        if source == "postgis":
            assert postgis is not None and layer.geometry is not None
            datasource = postgis.uri(layer.id, layer.key, layer.geometry, wkb_type)
            provider = "postgres"
        else:
            assert api_url is not None
            datasource = ogcapi_uri(api_url, layer.id)
            provider = "OAPIF"
        _layer(
            tree=groups[style.group.key],
            layers=layers,
            order=order,
            layer_id=layer_id,
            style=style,
            provider=provider,
            datasource=datasource,
            wkb_type=wkb_type,
        )
    properties = ET.SubElement(root, "properties")
    # QGIS reads <projectCrs> only when the project says it uses one (it always does now)
    srs_props = ET.SubElement(properties, "SpatialRefSys")
    ET.SubElement(srs_props, "ProjectionsEnabled", type="int").text = "1"
    paths = ET.SubElement(properties, "Paths")
    ET.SubElement(paths, "Absolute", type="bool").text = "false"
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n").encode()


def _layer(
    *,
    tree: ET.Element,
    layers: ET.Element,
    order: ET.Element,
    layer_id: str,
    style: LayerStyle,
    provider: str,
    datasource: str,
    wkb_type: str,
) -> ET.Element:
    """One layer: its node in the layer tree, its place in the drawing order, its
    ``<maplayer>`` (source and style), which is returned."""
    ET.SubElement(
        tree,
        "layer-tree-layer",
        {
            "id": layer_id,
            "name": style.title,
            "checked": "Qt::Checked",
            "expanded": "0",
            "providerKey": provider,
            "source": datasource,
        },
    )
    ET.SubElement(order, "layer", id=layer_id)
    maplayer = ET.SubElement(
        layers,
        "maplayer",
        {
            "type": "vector",
            "geometry": _GEOMETRY[style.geometry],
            "wkbType": wkb_type,
            "labelsEnabled": "1" if style.label_fields else "0",
            "readOnly": "0",
            "styleCategories": "AllStyleCategories",
        },
    )
    ET.SubElement(maplayer, "id").text = layer_id
    ET.SubElement(maplayer, "datasource").text = datasource
    ET.SubElement(maplayer, "layername").text = style.title
    _srs(ET.SubElement(maplayer, "srs"), SRID)
    ET.SubElement(maplayer, "provider", encoding="UTF-8").text = provider
    maplayer.extend(style_elements(style))
    return maplayer


def project_layer_id(layer: str) -> str:
    """The id of a catalogue layer in the project: ``roads_`` and a stable suffix, as QGIS
    names its layers (it replaces an id it finds too plain), the same in every project."""
    return f"{layer}_{uuid.uuid5(uuid.NAMESPACE_URL, f'gis-registry:{layer}').hex}"


def _drawing_order(styles: list[LayerStyle]) -> list[LayerStyle]:
    """Layers top first: by group (points over lines over areas), catalogue order within."""
    rank = {key: i for i, key in enumerate((*GROUPS, OTHER_GROUP.key))}
    order = {"point": 0, "line": 1, "polygon": 2}
    return sorted(styles, key=lambda s: (rank[s.group.key], order[s.geometry]))


def write_qgz(path: Path, document: bytes) -> Path:
    """Write ``document`` as a ``.qgz`` (a zip holding the ``.qgs``), atomically."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(PROJECT_FILE, document)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)
    return path


def build_project(
    conn: Connection,
    *,
    source: Source,
    postgis: PostgisSource | None = None,
    api_url: str | None = None,
    snapshot: tuple[str, Sequence[SnapshotLayer]] | None = None,
    title: str = "ทะเบียนทรัพย์สิน อบจ. · PAO asset registry",
) -> bytes:
    """The ``.qgs`` of every spatial layer of the catalogue, read through ``conn``.

    Parameters
    ----------
    conn : an open connection (the zoning palette, the province's extent and metric zone)
    source, postgis, api_url, snapshot, title : as :func:`project_document`

    Raises
    ------
    InvalidParameter
        An unknown ``source``, or the connection or address it needs is missing.
    """
    if source not in SOURCES:
        raise InvalidParameter("source", f"'{source}' is not one of {', '.join(SOURCES)}")
    srid = metric_srid(conn)
    return project_document(
        all_styles(conn),
        source=source,
        title=title,
        srid=srid,
        extent=province_extent_metric(conn, srid),
        postgis=postgis,
        api_url=api_url,
        snapshot=snapshot,
    )


__all__ = [
    "SOURCES",
    "PostgisSource",
    "build_project",
    "is_superuser",
    "ogcapi_uri",
    "project_document",
    "write_qgz",
]
