"""The collections (one per layer), their metadata and queryables."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import Reader, ServiceState, State
from api.formats import GEOJSON, HTML, JSON, F, json_response, wants_html
from api.html_pages import collection_page, collections_page, queryables_page
from api.links import base, link
from api.stats import layer_stats
from gis_registry.catalog import CATALOG, LAYER_IDS, Layer, get_layer
from gis_registry.queries.crs import CRS84, CRS_LIST

router = APIRouter(tags=["Collections"])

CollectionId = Annotated[
    str,
    Path(
        description="a layer of the registry",
        json_schema_extra={"enum": list(LAYER_IDS)},
    ),
]


async def describe(request: Request, state: ServiceState, c: Layer) -> dict[str, Any]:
    """The collection document of a layer (links, CRSs, extent)."""
    root = f"{base(request)}/collections/{c.id}"
    stats = await layer_stats(state, c)
    doc: dict[str, Any] = {
        "id": c.id,
        "title": c.title,
        "title_th": c.title_th,
        "description": c.description,
        "itemType": "feature",
        "links": [
            link(root, "self", JSON, "this collection"),
            link(f"{root}?f=html", "alternate", HTML, "this collection as HTML"),
            link(f"{root}/items", "items", GEOJSON, "the features"),
            link(f"{root}/items?f=html", "items", HTML, "the features as HTML"),
            link(
                f"{root}/queryables",
                "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "application/schema+json",
                "queryable properties",
            ),
        ],
        "crs": CRS_LIST if c.spatial else [CRS84],
        "storageCrs": CRS84,
    }
    extent: dict[str, Any] = {}
    if stats.bbox:
        extent["spatial"] = {"bbox": [list(stats.bbox)], "crs": CRS84}
    if c.temporal:
        extent["temporal"] = {
            "interval": [list(stats.interval) if stats.interval else [None, None]],
            "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
        }
    if extent:
        doc["extent"] = extent
    if c.tiled:
        doc["links"].append(
            link(
                f"{base(request)}/tiles/{c.id}/tilejson.json",
                "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
                JSON,
                "vector tiles (TileJSON)",
            )
        )
    if c.spatial:  # styles as the maps draw the layer (SLD, QML): api.routers.styles
        doc["links"].append(
            link(
                f"{root}/styles",
                "http://www.opengis.net/def/rel/ogc/1.0/styles",
                JSON,
                "styles (SLD 1.0, QGIS QML)",
            )
        )
    return doc


@router.get("/collections", summary="The collections", operation_id="getCollections")
async def collections(request: Request, state: State, _: Reader, f: F | None = None) -> Response:
    """Every layer of the registry with its metadata and links, as JSON or (`f=html`) HTML."""
    root = base(request)
    doc = {
        "links": [
            link(f"{root}/collections", "self", JSON, "this document"),
            link(f"{root}/collections?f=html", "alternate", HTML, "this document as HTML"),
        ],
        "collections": [await describe(request, state, c) for c in CATALOG.values()],
    }
    if wants_html(request, f):
        return collections_page(request, doc)
    return json_response(doc)


@router.get(
    "/collections/{collectionId}", summary="One collection", operation_id="describeCollection"
)
async def collection(
    request: Request, state: State, _: Reader, collectionId: CollectionId, f: F | None = None
) -> Response:
    """One layer's metadata: title (English and Thai), description, spatial and temporal extent,
    supported CRSs, and links to its features, queryables and (if tiled) vector tiles."""
    c = get_layer(collectionId)
    doc = await describe(request, state, c)
    if wants_html(request, f):
        return collection_page(request, c, doc)
    return json_response(doc)


@router.get(
    "/collections/{collectionId}/queryables",
    summary="Properties a client may filter on",
    operation_id="getQueryables",
)
async def queryables(
    request: Request, _: Reader, collectionId: CollectionId, f: F | None = None
) -> Response:
    """A JSON Schema of the properties usable in `filter` (CQL2) and as query parameters on
    `/collections/{collectionId}/items`, with the layer's geometry."""
    c = get_layer(collectionId)
    props = c.queryables()
    if c.geometry:
        props[c.geometry] = {"title": c.geometry, "x-ogc-role": "primary-geometry"} | {
            k: v for k, v in (("format", f"geometry-{(c.geometry_type or 'any').lower()}"),)
        }
    doc = {
        "$schema": "https://json-schema.org/draft/2019-09/schema",
        "$id": f"{base(request)}/collections/{c.id}/queryables",
        "type": "object",
        "title": c.title,
        "properties": props,
        "additionalProperties": False,
    }
    if wants_html(request, f):
        return queryables_page(request, c, props)
    return json_response(doc, media_type="application/schema+json")
