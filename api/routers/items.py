"""Features of a collection (OGC API - Features Part 1, 2 and 3 query parameters) and their
history. The database writes the GeoJSON; these routes only splice links around the bytes.

(No ``from __future__ import annotations`` here: the route signatures refer to the settings
given to :func:`make_router`, which FastAPI must see as values, not strings.)"""

import datetime as dt
import math
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import Reader, ServiceState, State, sends_credentials
from api.errors import InvalidParameter, NotFound
from api.formats import GEOJSON, HTML, JSON, F, json_response, wants_html
from api.html_pages import history_page, item_page, items_page
from api.links import base, here, link
from api.routers.collections import CollectionId
from api.settings import ApiSettings
from api.stats import layer_stats
from gis_registry.catalog import Layer, get_layer
from gis_registry.history import layer_as_of_sql, redact_authors, require_feature_history
from gis_registry.queries import filters as q
from gis_registry.queries import geojson
from gis_registry.queries.cql2 import LANGUAGES, cql2_filter
from gis_registry.queries.crs import DEFAULT, Crs, parse_crs

FeatureId = Annotated[str, Path(description="the feature's id", max_length=200)]
MAX_OFFSET = 10_000_000
QUERY_PARAMETERS = {
    "bbox",
    "bbox-crs",
    "crs",
    "limit",
    "offset",
    "datetime",
    "f",
    "at",
    "filter",
    "filter-lang",
    "filter-crs",
}


def parse_bbox(value: str) -> tuple[float, ...]:
    """The numbers of a ``bbox`` query parameter."""
    try:
        numbers = tuple(float(v) for v in value.split(","))
    except ValueError:
        raise InvalidParameter("bbox", "expected 4 (or 6) comma-separated numbers") from None
    if len(numbers) not in (4, 6) or not all(math.isfinite(v) for v in numbers):
        raise InvalidParameter("bbox", "expected 4 (or 6) comma-separated finite numbers")
    return numbers


def property_filters(request: Request, c: Layer, f: q.Filter) -> None:
    """Every other query parameter must name a property: ``?surface=laterite&owner_agency=DRR``;
    a repeated parameter means 'any of'."""
    params = request.query_params
    for name in dict.fromkeys(params.keys()):
        if name in QUERY_PARAMETERS:
            continue
        if name not in c.properties:
            raise InvalidParameter(
                name,
                f"unknown parameter or property of '{c.id}' "
                f"(properties: {', '.join(c.properties)})",
            )
        values = [c.parse_value(name, raw) for raw in params.getlist(name)]
        q.property_filter(f, c, name, values)


async def count_cap(state: ServiceState, c: Layer, filtered: bool) -> int | None:
    """How far to count numberMatched: filtered pages are counted up to ``count_limit``;
    a whole layer only when it is known to be small (never a full count of a big table)."""
    cap = state.settings.count_limit
    if cap <= 0:
        return None
    if filtered:
        return cap
    stats = await layer_stats(state, c)
    return cap if stats.estimate < cap else None


def page_links(
    request: Request, c: Layer, *, limit: int, offset: int, returned: int, matched: int | None
) -> list[dict[str, Any]]:
    """self, alternate, collection, next and prev links of a page."""
    url = here(request)  # under the public URL, not the Host header
    links = [
        link(str(url.remove_query_params("f")), "self", GEOJSON, "this page"),
        link(str(url.include_query_params(f="html")), "alternate", HTML, "this page as HTML"),
        link(f"{base(request)}/collections/{c.id}", "collection", JSON, c.title),
    ]
    more = returned == limit and (matched is None or offset + limit < matched)
    if more:
        links.append(
            link(
                str(url.include_query_params(offset=offset + limit, limit=limit)),
                "next",
                GEOJSON,
                "next page",
            )
        )
    if offset > 0:
        links.append(
            link(
                str(url.include_query_params(offset=max(0, offset - limit), limit=limit)),
                "prev",
                GEOJSON,
                "previous page",
            )
        )
    return links


def feature_collection(
    features: bytes, *, returned: int, matched: int | None, links: list[dict[str, Any]]
) -> bytes:
    """A FeatureCollection around the database's features (bytes spliced, not re-encoded)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    parts = [
        b'{"type":"FeatureCollection","features":[',
        features,
        b'],"numberReturned":',
        str(returned).encode(),
    ]
    if matched is not None:
        parts += [b',"numberMatched":', str(matched).encode()]
    parts += [b',"timeStamp":"', stamp, b'","links":', orjson.dumps(links), b"}"]
    return b"".join(parts)


def check_filter_lang(value: str | None) -> None:
    """Refuse a ``filter-lang`` other than the CQL2 encodings."""
    if value not in (None, *LANGUAGES):
        raise InvalidParameter(
            "filter-lang", f"'{value}' is not supported (supported: {', '.join(LANGUAGES)})"
        )


def parse_instant(value: str, parameter: str) -> dt.datetime:
    """One RFC 3339 instant (no interval)."""
    start, end = q.parse_datetime(value)
    if start is None or start != end:
        raise InvalidParameter(parameter, "expected one RFC 3339 date-time")
    return start


async def serve_items(
    request: Request,
    state: ServiceState,
    collection_id: str,
    *,
    bbox: str | None = None,
    bbox_crs: str | None = None,
    crs: str | None = None,
    limit: int,
    offset: int = 0,
    datetime: str | None = None,
    at: str | None = None,
    filter: str | None = None,
    filter_lang: str | None = None,
    filter_crs: str | None = None,
    f: F | None = None,
) -> Response:
    """A page of features (the route and the fast path both answer with this)."""
    c = get_layer(collection_id)
    out_crs = parse_crs(crs)
    flt = q.Filter()
    if bbox is not None:
        q.bbox_filter(flt, c, parse_bbox(bbox), parse_crs(bbox_crs, "bbox-crs"))
    elif bbox_crs is not None:
        parse_crs(bbox_crs, "bbox-crs")
    if datetime is not None:
        q.datetime_filter(flt, c, datetime)
    property_filters(request, c, flt)
    if filter is not None:
        check_filter_lang(filter_lang)
        if parse_crs(filter_crs, "filter-crs") != DEFAULT:
            raise InvalidParameter("filter-crs", "filters are read in CRS84")
        where, where_params = cql2_filter(c, filter, filter_lang or "cql2-text")
        flt.add(where, *where_params)
    elif filter_lang is not None or filter_crs is not None:
        parse_crs(filter_crs, "filter-crs")
        check_filter_lang(filter_lang)
    cap = None
    params: Any  # named (a past state) or positional (a page)
    if at is not None:
        moment = parse_instant(at, "at")
        if out_crs != DEFAULT:
            raise InvalidParameter("at", "a past state is served in CRS84 only")
        text, params = geojson.as_of_query(
            c, moment, flt, limit=limit, offset=offset, records_sql=layer_as_of_sql(c.id)
        )
    else:
        cap = await count_cap(state, c, bool(flt))
        text, params = geojson.page_query(
            c, flt, limit=limit, offset=offset, crs=out_crs, count_cap=cap
        )
    # a past state, or a caller with credentials, reads the primary (never a lagging standby)
    pool = state.read_pool(primary=at is not None or sends_credentials(request))
    async with pool.connection() as conn:
        # Planned for its values, never prepared: a page's best plan depends on them (a small
        # bbox wants the spatial index, the whole province the key order), which a generic
        # plan, chosen after a few executions of a prepared statement, cannot know.
        cur = await conn.execute(text, params, binary=True, prepare=False)
        row = await cur.fetchone()
    assert row is not None  # an aggregate over the page: always exactly one row
    matched, returned, features = row
    if matched is not None and (cap is None or matched > cap):
        matched = None  # more than the cap: unknown, rather than a full count
    links = page_links(request, c, limit=limit, offset=offset, returned=returned, matched=matched)
    body = feature_collection(features, returned=returned, matched=matched, links=links)
    if wants_html(request, f):
        return items_page(request, c, orjson.loads(body), mapped=out_crs == DEFAULT)
    return Response(body, media_type=GEOJSON, headers={"Content-Crs": f"<{out_crs.uri}>"})


async def feature_answer(
    state: ServiceState,
    base_url: str,
    collection_id: str,
    feature_id: str,
    crs: str | None,
    *,
    primary: bool = False,
) -> tuple[bytes, dict[str, str]]:
    """One feature with its links (GeoJSON bytes) and its headers (ETag, Content-Crs); read
    from the primary when ``primary`` (an editor's ETag must be the latest), else from the
    read pool (the standby, when there is one)."""
    c = get_layer(collection_id)
    out_crs: Crs = parse_crs(crs)
    key = c.parse_key(feature_id)
    row = await state.feature_reader(primary=primary).get(c, out_crs, key)
    if row is None:
        raise NotFound(f"{c.id} feature {feature_id} does not exist")
    feature, version = row
    root = f"{base_url}/collections/{c.id}"
    links = [
        link(f"{root}/items/{feature_id}", "self", GEOJSON, "this feature"),
        link(f"{root}/items/{feature_id}?f=html", "alternate", HTML, "this feature as HTML"),
        link(root, "collection", JSON, c.title),
        link(f"{root}/items/{feature_id}/history", "version-history", JSON, "its changes"),
    ]
    body = feature[:-1] + b',"links":' + orjson.dumps(links) + b"}"
    return body, {"ETag": etag(version), "Content-Crs": f"<{out_crs.uri}>"}


async def serve_item(
    request: Request,
    state: ServiceState,
    collection_id: str,
    feature_id: str,
    *,
    crs: str | None = None,
    f: F | None = None,
) -> Response:
    """One feature with its ETag."""
    body, headers = await feature_answer(
        state, base(request), collection_id, feature_id, crs, primary=sends_credentials(request)
    )
    if wants_html(request, f):
        return item_page(
            request,
            get_layer(collection_id),
            feature_id,
            orjson.loads(body),
            mapped=parse_crs(crs) == DEFAULT,
        )
    return Response(body, media_type=GEOJSON, headers=headers)


def make_router(settings: ApiSettings) -> APIRouter:
    """The feature routes, with ``limit`` bounds from ``settings``."""
    router = APIRouter(tags=["Features"])

    @router.get(
        "/collections/{collectionId}/items",
        summary="Features of a collection",
        operation_id="getFeatures",
        response_class=Response,
        responses={200: {"content": {GEOJSON: {}, HTML: {}}, "description": "the features"}},
    )
    async def items(
        request: Request,
        state: State,
        _: Reader,
        collectionId: CollectionId,
        bbox: Annotated[
            str | None,
            Query(
                description="minx,miny,maxx,maxy (in bbox-crs, CRS84 by default)", max_length=400
            ),
        ] = None,
        bbox_crs: Annotated[str | None, Query(alias="bbox-crs", max_length=200)] = None,
        crs: Annotated[str | None, Query(description="CRS of the answer", max_length=200)] = None,
        limit: Annotated[
            int, Query(ge=1, le=settings.max_limit, description="features per page")
        ] = settings.default_limit,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
        datetime: Annotated[
            str | None,
            Query(description="instant or interval (a/b, ../b, a/..)", max_length=100),
        ] = None,
        at: Annotated[
            str | None,
            Query(description="read the layer as it was at this date-time", max_length=100),
        ] = None,
        filter: Annotated[
            str | None,
            Query(description="a CQL2 filter (Basic CQL2, spatial functions)", max_length=4000),
        ] = None,
        filter_lang: Annotated[
            str | None,
            Query(alias="filter-lang", description="cql2-text or cql2-json", max_length=50),
        ] = None,
        filter_crs: Annotated[str | None, Query(alias="filter-crs", max_length=200)] = None,
        f: F | None = None,
    ) -> Response:
        return await serve_items(
            request,
            state,
            collectionId,
            filter=filter,
            filter_lang=filter_lang,
            filter_crs=filter_crs,
            bbox=bbox,
            bbox_crs=bbox_crs,
            crs=crs,
            limit=limit,
            offset=offset,
            datetime=datetime,
            at=at,
            f=f,
        )

    @router.get(
        "/collections/{collectionId}/items/{featureId}",
        summary="One feature",
        operation_id="getFeature",
        response_class=Response,
        responses={200: {"content": {GEOJSON: {}, HTML: {}}, "description": "the feature"}},
    )
    async def item(
        request: Request,
        state: State,
        _: Reader,
        collectionId: CollectionId,
        featureId: FeatureId,
        crs: Annotated[str | None, Query(max_length=200)] = None,
        f: F | None = None,
    ) -> Response:
        return await serve_item(request, state, collectionId, featureId, crs=crs, f=f)

    @router.get(
        "/collections/{collectionId}/items/{featureId}/history",
        summary="Every recorded change of a feature: who, when, before and after",
        operation_id="getFeatureHistory",
    )
    async def history(
        request: Request,
        state: State,
        principal: Reader,
        collectionId: CollectionId,
        featureId: FeatureId,
        f: F | None = None,
    ) -> Response:
        c = get_layer(collectionId)
        key = c.parse_key(featureId)

        def read() -> list[dict[str, Any]]:
            with state.engine.connect() as conn:
                return require_feature_history(conn, c.id, key)

        changes = await run_in_threadpool(read)
        if principal is None:  # anonymous: what changed and when, not which user changed it
            changes = redact_authors(changes)
        root = f"{base(request)}/collections/{c.id}/items/{featureId}"
        doc = {
            "collection": c.id,
            "featureId": featureId,
            "changes": changes,
            "links": [link(f"{root}/history", "self", JSON), link(root, "about", GEOJSON)],
        }
        if wants_html(request, f):
            return history_page(request, c, featureId, doc)
        return json_response(doc)

    return router


def etag(version: str) -> str:
    """The ETag of a row version."""
    return f'"v{version}"'
