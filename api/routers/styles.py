"""Layer styles (OGC API - Styles-like): ``/collections/{id}/styles`` lists a layer's styles,
``/collections/{id}/styles/{styleId}`` serves one as SLD 1.0 or QGIS QML. The styles are the
library's (:mod:`gis_registry.styles`): the same colours as the maps and the QGIS project.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import Reader, State
from api.errors import NotAcceptable
from api.formats import JSON, json_response
from api.links import base, link
from gis_registry.catalog import get_layer
from gis_registry.errors import NotFound

router = APIRouter(tags=["Styles"])

SLD_TYPE = "application/vnd.ogc.sld+xml"
QML_TYPE = "application/vnd.qgis.qml"
STYLESHEET = "stylesheet"


class StyleFormat(StrEnum):
    """Values of ``f`` on a style: its encoding."""

    sld = "sld"
    qml = "qml"


MEDIA_TYPES = {StyleFormat.sld: SLD_TYPE, StyleFormat.qml: QML_TYPE}


def _styled(collection_id: str) -> tuple[str, ...]:
    """The styles of a collection; 404 naming the styled collections when it has none."""
    from gis_registry.styles.symbology import style_ids, styled_layers

    layer = get_layer(collection_id)  # 404 for an unknown collection
    ids = style_ids(layer.id)
    if not ids:
        raise NotFound(
            f"collection '{layer.id}' has no geometry, so no style "
            f"(styled collections: {', '.join(styled_layers())})"
        )
    return ids


def _format(request: Request, f: StyleFormat | None) -> StyleFormat:
    """``f`` wins; else the Accept header (QML when it names QML, SLD otherwise)."""
    if f is not None:
        return f
    accept = request.headers.get("accept", "")
    if "qml" in accept:
        return StyleFormat.qml
    if accept and not any(t in accept for t in ("sld", "xml", "*/*")):
        raise NotAcceptable(f"a style is served as {SLD_TYPE} or {QML_TYPE}, not '{accept}'")
    return StyleFormat.sld


@router.get(
    "/collections/{collectionId}/styles",
    summary="The styles of a collection",
    operation_id="getStyles",
)
async def styles(request: Request, _: Reader, collectionId: str) -> Response:
    """The styles of a layer with geometry, each with links to its SLD and QML encodings."""
    ids = _styled(collectionId)
    root = f"{base(request)}/collections/{collectionId}/styles"
    doc: dict[str, Any] = {
        "default": ids[0],
        "styles": [
            {
                "id": style_id,
                "title": f"{style_id} ({collectionId})",
                "links": [
                    link(f"{root}/{style_id}?f=sld", STYLESHEET, SLD_TYPE, "SLD 1.0"),
                    link(f"{root}/{style_id}?f=qml", STYLESHEET, QML_TYPE, "QGIS QML"),
                ],
            }
            for style_id in ids
        ],
        "links": [link(root, "self", JSON, "this document")],
    }
    return json_response(doc)


@router.get(
    "/collections/{collectionId}/styles/{styleId}",
    summary="One style of a collection, as SLD 1.0 or QGIS QML",
    operation_id="getStyle",
    responses={200: {"content": {SLD_TYPE: {}, QML_TYPE: {}}}},
)
async def style(
    request: Request,
    state: State,
    _: Reader,
    collectionId: str,
    styleId: str,
    f: Annotated[
        StyleFormat | None, Query(description="sld or qml (default: by Accept, else sld)")
    ] = None,
) -> Response:
    """The style (colours as the maps', Thai and English labels), UTF-8."""
    from gis_registry.styles.qml import qml_document
    from gis_registry.styles.sld import sld_document
    from gis_registry.styles.symbology import layer_style

    ids = _styled(collectionId)
    if styleId not in ids:
        raise NotFound(
            f"no style '{styleId}' for collection '{collectionId}' (styles: {', '.join(ids)})"
        )
    encoding = _format(request, f)

    def build() -> bytes:
        with state.engine.connect() as conn:
            found = layer_style(conn, collectionId, styleId)
        return sld_document(found) if encoding is StyleFormat.sld else qml_document(found)

    body = await run_in_threadpool(build)
    extension = encoding.value
    return Response(
        body,
        media_type=f"{MEDIA_TYPES[encoding]}; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{collectionId}.{extension}"',
        },
    )
