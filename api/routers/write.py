"""Editing (OGC API - Features Part 4): create, replace, update and delete features.

Validation is the library's (``insert_features``/``update_feature``/``delete_feature``); every
change needs an editor (for their own local body's assets) or an admin, names its author in
the history, and update/delete need the feature's ETag in ``If-Match`` (no lost updates).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from sqlalchemy import Connection, select

from api.deps import Editor, ServiceState, State
from api.errors import InvalidBody, PreconditionFailed, PreconditionRequired, UnsupportedMediaType
from api.formats import GEOJSON
from api.links import base
from api.routers.collections import CollectionId
from api.routers.items import FeatureId, etag
from api.settings import ApiSettings
from gis_registry.auth import Principal, check_write
from gis_registry.catalog import Layer as Collection
from gis_registry.catalog import get_layer as get_collection
from gis_registry.errors import NotFound, ValidationError
from gis_registry.history import set_actor
from gis_registry.queries import geojson as q
from gis_registry.queries.features import delete_feature, insert_features, update_feature
from gis_registry.validation import parse_geometry, writable_columns

_FEATURE_SCHEMA = {
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "geometry": {"type": "object", "nullable": True},
        "properties": {"type": "object", "nullable": True},
    },
}
_COLLECTION_SCHEMA = {
    "type": "object",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {"type": "array", "items": _FEATURE_SCHEMA, "minItems": 1},
    },
}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            GEOJSON: {"schema": _FEATURE_SCHEMA},
            "application/json": {"schema": _FEATURE_SCHEMA},
        },
    }
}
_CREATE_SCHEMA = {"oneOf": [_FEATURE_SCHEMA, _COLLECTION_SCHEMA]}
_CREATE_BODY = {
    "requestBody": {
        "required": True,
        "description": "a Feature, or a FeatureCollection added all or nothing",
        "content": {
            GEOJSON: {"schema": _CREATE_SCHEMA},
            "application/json": {"schema": _CREATE_SCHEMA},
        },
    }
}
MAX_FEATURES = 10_000  # in one FeatureCollection
_PATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/merge-patch+json": {"schema": _FEATURE_SCHEMA},
            GEOJSON: {"schema": _FEATURE_SCHEMA},
            "application/json": {"schema": _FEATURE_SCHEMA},
        },
    }
}
_JSON_TYPES = ("application/json", GEOJSON, "application/merge-patch+json")
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="the ETag of the feature as last read", max_length=200),
]


async def json_body(request: Request) -> Any:
    """The request body as JSON (any JSON media type), or a 400/415 problem."""
    media = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if media not in _JSON_TYPES and not media.endswith("+json"):
        raise UnsupportedMediaType(f"send {GEOJSON} or application/json, not '{media}'")
    # its size is bounded as it is received, before this reads it (api.edge: 413 over
    # ApiSettings.max_body_bytes)
    raw = await request.body()
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidBody(f"the body is not valid JSON: {exc}") from None


Body = Annotated[Any, Depends(json_body)]


def record_from_body(c: Collection, body: Any, *, ref: Any = None) -> dict[str, Any]:
    """A layer record from a GeoJSON Feature (or, for a layer without geometry, a plain object
    of properties); read-only members (timestamps, computed measures) are ignored."""
    if not isinstance(body, Mapping):
        raise InvalidBody("expected a GeoJSON Feature object")
    if body.get("type") == "FeatureCollection":
        raise InvalidBody("send one Feature per request")
    feature_like = (
        "type" not in body
        and ("properties" in body or "geometry" in body)
        and not ("properties" in c.table.c or "geometry" in c.table.c)
    )
    if body.get("type") == "Feature" or feature_like:
        props = body.get("properties") or {}
        if not isinstance(props, Mapping):
            raise InvalidBody("'properties' must be an object")
        record = dict(props)
        geometry = body.get("geometry")
        if c.geometry and "geometry" in body:
            record[c.geometry] = geometry
        elif geometry is not None:
            raise InvalidBody(f"collection '{c.id}' has no geometry")
        if "id" in body and c.key not in record and not c.key_is_int:
            record[c.key] = body["id"]
    elif "type" in body:
        raise InvalidBody(f"expected a GeoJSON Feature, not '{body.get('type')}'")
    else:
        record = dict(body)
    writable = writable_columns(c.table)
    read_only = {col.name for col in c.table.columns if col.name not in writable}
    record = {k: v for k, v in record.items() if k not in read_only and k != "links"}
    problems = []
    for name in c.geometries:  # parse here: any bad geometry is a 400
        if record.get(name) is not None:
            try:
                record[name] = parse_geometry(record[name])
            except Exception as exc:  # shapely raises several unrelated types
                problems.append((ref, name, f"not a GeoJSON geometry: {exc}"))
    if problems:
        raise ValidationError(c.id, problems)
    return record


def records_from_post(c: Collection, body: Any) -> list[dict[str, Any]]:
    """The records of a POST: one Feature, or every Feature of a FeatureCollection. Every
    problem of every feature is reported at once; features are named #1, #2... in order."""
    if not (isinstance(body, Mapping) and body.get("type") == "FeatureCollection"):
        return [record_from_body(c, body, ref="(new)")]
    features = body.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidBody("a FeatureCollection needs a non-empty 'features' array")
    if len(features) > MAX_FEATURES:
        raise InvalidBody(f"at most {MAX_FEATURES:,} features per request, not {len(features):,}")
    records, problems = [], []
    for index, feature in enumerate(features, start=1):
        if isinstance(feature, Mapping) and feature.get("type") not in (None, "Feature"):
            raise InvalidBody(f"feature #{index}: expected a Feature, not '{feature['type']}'")
        try:
            records.append(record_from_body(c, feature, ref=f"#{index}"))
        except ValidationError as exc:
            problems.extend(exc.problems)
        except InvalidBody as exc:
            raise InvalidBody(f"feature #{index}: {exc}") from None
    if problems:
        raise ValidationError(c.id, problems)
    return records


def read_back(conn: Connection, c: Collection, key: Any) -> tuple[bytes, str]:
    """The feature as just written (GeoJSON bytes) and its version, for the response and ETag."""
    text, params = q.feature_query(c, key)
    row = conn.exec_driver_sql(text, tuple(params)).first()
    if row is None:  # pragma: no cover - just written
        raise NotFound(f"{c.id} feature {key} does not exist")
    return bytes(row[0]), row[1]


def current_row(conn: Connection, c: Collection, key: Any, if_match: str | None) -> dict:
    """The stored record, locked for this transaction, after checking ``If-Match``."""
    text, params = q.version_query(c, key, lock=True)
    row = conn.exec_driver_sql(text, tuple(params)).first()
    if row is None:
        raise NotFound(f"{c.id} feature {key} does not exist")
    tags = [t.strip() for t in (if_match or "").split(",") if t.strip()]
    if "*" not in tags and etag(row[0]) not in tags:
        raise PreconditionFailed(
            f"{c.id} feature {key} changed since it was read (its ETag is now {etag(row[0])}): "
            "read it again and reapply the change"
        )
    key_col = c.table.c[c.key]
    return dict(conn.execute(select(c.table).where(key_col == key)).mappings().one())


def require_if_match(if_match: str | None) -> None:
    """Refuse (428) a change sent without ``If-Match``: edits must name the version they read."""
    if not if_match:
        raise PreconditionRequired(
            "send If-Match with the ETag of the feature as you read it (no lost updates)"
        )


def _written(
    request: Request, c: Collection, key: Any, body: bytes, version: str, status: int
) -> Response:
    location = f"{base(request)}/collections/{c.id}/items/{key}"
    return Response(
        body,
        status_code=status,
        media_type=GEOJSON,
        headers={"ETag": etag(version), "Location": location},
    )


def make_router(settings: ApiSettings) -> APIRouter:
    """The editing routes (create, replace, update, delete features), for editors and admins."""
    router = APIRouter(tags=["Editing"])

    @router.post(
        "/collections/{collectionId}/items",
        summary="Add a feature, or the features of a FeatureCollection (all or nothing)",
        operation_id="createFeature",
        status_code=201,
        response_class=Response,
        openapi_extra=_CREATE_BODY,
        responses={201: {"content": {GEOJSON: {}}, "description": "created"}},
    )
    async def create(
        request: Request, state: State, principal: Editor, collectionId: CollectionId, body: Body
    ) -> Response:
        c = get_collection(collectionId)
        records = records_from_post(c, body)

        def work() -> list[tuple[Any, bytes, str]]:
            with state.engine.begin() as conn:
                set_actor(conn, principal.username)
                check_write(conn, principal, c.id, *records)
                keys = insert_features(conn, c.id, records)
                return [(key, *read_back(conn, c, key)) for key in keys]

        written = await run_in_threadpool(work)
        if body.get("type") != "FeatureCollection":
            key, feature, version = written[0]
            return _written(request, c, key, feature, version, 201)
        features = b",".join(feature for _, feature, _ in written)
        count = str(len(written)).encode()
        return Response(
            b'{"type":"FeatureCollection","features":['
            + features
            + b'],"numberReturned":'
            + count
            + b"}",
            status_code=201,
            media_type=GEOJSON,
        )

    def change(
        state: ServiceState,
        principal: Principal,
        c: Collection,
        key: Any,
        if_match: str | None,
        changes: dict[str, Any],
    ) -> tuple[bytes, str]:
        with state.engine.begin() as conn:
            set_actor(conn, principal.username)
            current = current_row(conn, c, key, if_match)
            after = {**current, **changes}
            check_write(conn, principal, c.id, current, after)
            update_feature(conn, c.id, key, changes)
            return read_back(conn, c, key)

    @router.put(
        "/collections/{collectionId}/items/{featureId}",
        summary="Replace a feature",
        operation_id="replaceFeature",
        response_class=Response,
        openapi_extra=_BODY,
        responses={200: {"content": {GEOJSON: {}}, "description": "replaced"}},
    )
    async def replace(
        request: Request,
        state: State,
        principal: Editor,
        collectionId: CollectionId,
        featureId: FeatureId,
        body: Body,
        if_match: IfMatch = None,
    ) -> Response:
        c = get_collection(collectionId)
        key = c.parse_key(featureId)
        require_if_match(if_match)
        record = record_from_body(c, body, ref=key)
        if c.key in record and str(record[c.key]) != str(key):
            raise InvalidBody(f"the body's {c.key} differs from the feature id in the path")
        record.pop(c.key, None)
        # a replacement: fields left out are cleared (or take their default)
        for name, column in writable_columns(c.table).items():
            if name not in record and name != c.key and column.server_default is None:
                record[name] = None
        feature, version = await run_in_threadpool(
            change, state, principal, c, key, if_match, record
        )
        return _written(request, c, key, feature, version, 200)

    @router.patch(
        "/collections/{collectionId}/items/{featureId}",
        summary="Change some properties (or the geometry) of a feature",
        operation_id="updateFeature",
        response_class=Response,
        openapi_extra=_PATCH_BODY,
        responses={200: {"content": {GEOJSON: {}}, "description": "updated"}},
    )
    async def patch(
        request: Request,
        state: State,
        principal: Editor,
        collectionId: CollectionId,
        featureId: FeatureId,
        body: Body,
        if_match: IfMatch = None,
    ) -> Response:
        c = get_collection(collectionId)
        key = c.parse_key(featureId)
        require_if_match(if_match)
        changes = record_from_body(c, body, ref=key)
        if c.key in changes and str(changes.pop(c.key)) != str(key):
            raise InvalidBody(f"{c.key} cannot be changed")
        feature, version = await run_in_threadpool(
            change, state, principal, c, key, if_match, changes
        )
        return _written(request, c, key, feature, version, 200)

    @router.delete(
        "/collections/{collectionId}/items/{featureId}",
        summary="Delete a feature",
        operation_id="deleteFeature",
        status_code=204,
        response_class=Response,
    )
    async def remove(
        state: State,
        principal: Editor,
        collectionId: CollectionId,
        featureId: FeatureId,
        if_match: IfMatch = None,
    ) -> Response:
        c = get_collection(collectionId)
        key = c.parse_key(featureId)
        require_if_match(if_match)

        def work() -> None:
            with state.engine.begin() as conn:
                set_actor(conn, principal.username)
                current = current_row(conn, c, key, if_match)
                check_write(conn, principal, c.id, current)
                delete_feature(conn, c.id, key)

        await run_in_threadpool(work)
        return Response(status_code=204)

    return router
