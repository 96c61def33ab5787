"""Vector tiles (``/tiles/{collection}/{z}/{x}/{y}.mvt``) and their TileJSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from api.deps import Reader, State
from api.errors import InvalidParameter
from api.formats import json_response
from api.links import base
from api.stats import layer_stats
from api.tiles_sql import tile_sql
from gis_registry.catalog import CATALOG, Layer, get_layer
from gis_registry.errors import NotFound

router = APIRouter(tags=["Tiles"])
MVT = "application/vnd.mapbox-vector-tile"
MAX_ZOOM = 22
TiledId = Annotated[
    str,
    Path(
        description="a layer served as vector tiles",
        json_schema_extra={"enum": [c.id for c in CATALOG.values() if c.tiled]},
    ),
]


def tiled(collection_id: str) -> Layer:
    """A layer served as vector tiles, else NotFound."""
    c = get_layer(collection_id)
    if not c.tiled:
        raise NotFound(f"collection '{c.id}' is not served as vector tiles")
    return c


@router.get(
    "/tiles/{collectionId}/tilejson.json",
    summary="TileJSON of a layer's vector tiles",
    operation_id="getTileJSON",
)
async def tilejson(request: Request, state: State, _: Reader, collectionId: TiledId) -> Response:
    """A TileJSON 3.0 document for the layer's vector tiles: tile URL template, zoom range,
    bounds, centre and the fields each feature carries (for MapLibre, QGIS and similar)."""
    c = tiled(collectionId)
    stats = await layer_stats(state, c)
    doc = {
        "tilejson": "3.0.0",
        "name": c.title,
        "description": c.description,
        "tiles": [f"{base(request)}/tiles/{c.id}/{{z}}/{{x}}/{{y}}.mvt"],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "bounds": list(stats.bbox) if stats.bbox else [-180, -85.05, 180, 85.05],
        "vector_layers": [
            {
                "id": c.id,
                "description": c.description,
                "fields": {
                    name: schema.get("type", "string")
                    for name, schema in c.queryables().items()
                    if name not in ("created_at", "updated_at")
                },
            }
        ],
    }
    if stats.bbox:
        minx, miny, maxx, maxy = stats.bbox
        doc["center"] = [(minx + maxx) / 2, (miny + maxy) / 2, 8]
    return json_response(doc)


@router.get(
    "/tiles/{collectionId}/{z}/{x}/{y}.mvt",
    summary="A vector tile (Web Mercator, XYZ scheme)",
    operation_id="getTile",
    response_class=Response,
    responses={200: {"content": {MVT: {}}, "description": "the tile"}},
)
async def tile(
    state: State,
    _: Reader,
    collectionId: TiledId,
    z: Annotated[int, Path(ge=0, le=MAX_ZOOM)],
    x: Annotated[int, Path(ge=0)],
    y: Annotated[int, Path(ge=0)],
) -> Response:
    """One Mapbox Vector Tile of the layer (EPSG:3857, XYZ numbering), with at most a
    configured number of features; an empty body where the tile has none."""
    c = tiled(collectionId)
    if x >= 2**z or y >= 2**z:
        raise InvalidParameter("x" if x >= 2**z else "y", f"must be below {2**z} at zoom {z}")
    params = [z, x, y, z, x, y, state.settings.tile_max_features]
    async with state.pool.connection() as conn:
        cur = await conn.execute(tile_sql(c), params, binary=True)
        row = await cur.fetchone()
    data = bytes(row[0]) if row and row[0] is not None else b""
    return Response(data, media_type=MVT, headers={"Cache-Control": "public, max-age=60"})
