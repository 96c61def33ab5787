"""The two hottest reads (a page of features, a feature by id) in front of FastAPI: no routing,
dependency injection, validation or middleware, which cost more than the database on small
answers.

:class:`FastReads` wraps the whole application (:class:`api.app.Service` puts it outside
FastAPI's middleware stack). It answers only what it fully recognises (public GET requests for
JSON whose parameters are all well-formed) by calling the same functions the routes call
(:func:`api.routers.items.serve_items` and ``feature_answer``), so the answers are identical.
For anything else, including every error, it steps aside before sending a byte and the app
answers: the routes stay the reference, documented in the OpenAPI document and validated there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from api.compression import MINIMUM_SIZE, Compression
from api.deps import ServiceState
from api.formats import GEOJSON, F, prefers_html
from api.links import base_of
from api.routers.items import MAX_OFFSET, feature_answer, serve_items
from gis_registry.catalog import CATALOG

_STRINGS = {
    "bbox": 400,
    "bbox-crs": 200,
    "crs": 200,
    "datetime": 100,
    "at": 100,
    "filter": 4000,
    "filter-lang": 50,
    "filter-crs": 200,
}
_CREDENTIALS = (b"authorization", b"x-api-key")
_GEOJSON = GEOJSON.encode()


class FastReads:
    """ASGI entry answering the hot public reads before FastAPI (see the module)."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a recognised read, or hand the request to the application."""
        if scope["type"] == "http" and scope["method"] == "GET":
            parts = scope["path"].split("/")
            if (
                4 <= len(parts) <= 5
                and parts[1] == "collections"
                and parts[3] == "items"
                and parts[2] in CATALOG
                and self.state.settings.public_read
            ):
                headers = _headers(scope)
                if headers is not None and await self._try(scope, receive, send, parts, headers):
                    return
        await self.app(scope, receive, send)

    async def _try(
        self, scope: Scope, receive: Receive, send: Send, parts: list[str], headers: dict
    ) -> bool:
        args = self._arguments(scope["query_string"])
        if args is None or args.get("f") == F.html:
            return False
        if "f" not in args and prefers_html(headers.get(b"accept", b"").decode("latin-1")):
            return False
        try:
            if len(parts) == 4:
                response = await serve_items(
                    Request(scope, receive),
                    self.state,
                    parts[2],
                    bbox=args.get("bbox"),
                    bbox_crs=args.get("bbox-crs"),
                    crs=args.get("crs"),
                    limit=args.get("limit", self.state.settings.default_limit),
                    offset=args.get("offset", 0),
                    datetime=args.get("datetime"),
                    at=args.get("at"),
                    filter=args.get("filter"),
                    filter_lang=args.get("filter-lang"),
                    filter_crs=args.get("filter-crs"),
                    f=args.get("f"),
                )
            else:
                if not parts[4] or len(parts[4]) > 200 or set(args) - {"crs", "f"}:
                    return False  # other parameters do not apply to one feature: the route says so
                host = headers.get(b"host")
                body, extra = await feature_answer(
                    self.state,
                    base_of(scope, host.decode("latin-1") if host else None),
                    parts[2],
                    parts[4],
                    args.get("crs"),
                )
                response = None
        except Exception:  # the route answers errors (with the one error handler)
            return False
        if (
            response is None
            and len(body) >= MINIMUM_SIZE
            and b"gzip" in headers.get(b"accept-encoding", b"")
        ):  # a big feature (a district's boundary, say) for a client that takes gzip
            response = Response(body, media_type=GEOJSON, headers=extra)
        if response is not None:
            await Compression(response)(scope, receive, send)
            return True
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", _GEOJSON),
                    (b"content-length", str(len(body)).encode()),
                    *((k.lower().encode(), v.encode()) for k, v in extra.items()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
        return True

    def _arguments(self, query_string: bytes) -> dict[str, Any] | None:
        """The standard parameters, or None when any is repeated, malformed or out of range."""
        args: dict[str, Any] = {}
        if not query_string:
            return args
        settings = self.state.settings
        for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
            if name in args:
                return None  # repeated standard parameter: let the route decide
            if name in _STRINGS:
                if len(value) > _STRINGS[name]:
                    return None
                args[name] = value
            elif name in ("limit", "offset"):
                if not value.isdigit():
                    return None
                number = int(value)
                top = settings.max_limit if name == "limit" else MAX_OFFSET
                if not (1 if name == "limit" else 0) <= number <= top:
                    return None
                args[name] = number
            elif name == "f":
                if value not in ("json", "html"):
                    return None
                args["f"] = F(value)
        return args


def _headers(scope: Scope) -> dict[bytes, bytes] | None:
    """The request headers, or None when the caller sent credentials (the route checks them)."""
    headers = {}
    for name, value in scope["headers"]:
        if name in _CREDENTIALS:
            return None
        headers[name] = value
    return headers
