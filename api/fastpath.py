"""The two hottest reads (a page of features, a feature by id) without FastAPI's routing,
dependency and validation machinery, which costs more than the database on small answers.

This is an ASGI wrapper in front of the app. It answers only what it fully recognises (public
GET requests whose parameters are all well-formed) by calling the same functions the routes
call (:func:`api.routers.items.serve_items` / ``serve_item``), so the answers are identical. For
anything else, including every error, it steps aside and the app answers: the routes stay the
reference, documented in the OpenAPI document and validated there.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.collections import COLLECTIONS
from api.deps import ServiceState
from api.formats import F
from api.routers.items import MAX_OFFSET, serve_item, serve_items

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


class FastReads:
    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            parts = scope["path"].split("/")
            if (
                4 <= len(parts) <= 5
                and parts[1] == "collections"
                and parts[3] == "items"
                and parts[2] in COLLECTIONS
                and self._public(scope)
            ):
                response = await self._try(scope, receive, parts)
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _public(self, scope: Scope) -> bool:
        if not self.state.settings.public_read:
            return False
        return not any(name in (b"authorization", b"x-api-key") for name, _ in scope["headers"])

    async def _try(self, scope: Scope, receive: Receive, parts: list[str]) -> Any:
        query = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        args: dict[str, Any] = {}
        settings = self.state.settings
        for name, value in query:
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
        request = Request(scope, receive)
        try:
            if len(parts) == 4:
                return await serve_items(
                    request,
                    self.state,
                    parts[2],
                    bbox=args.get("bbox"),
                    bbox_crs=args.get("bbox-crs"),
                    crs=args.get("crs"),
                    limit=args.get("limit", settings.default_limit),
                    offset=args.get("offset", 0),
                    datetime=args.get("datetime"),
                    at=args.get("at"),
                    filter=args.get("filter"),
                    filter_lang=args.get("filter-lang"),
                    filter_crs=args.get("filter-crs"),
                    f=args.get("f"),
                )
            if len(parts[4]) > 200 or not parts[4]:
                return None
            if set(args) - {"crs", "f"}:  # nothing else applies to one feature
                return None
            return await serve_item(
                request, self.state, parts[2], parts[4], crs=args.get("crs"), f=args.get("f")
            )
        except Exception:  # the route answers errors (with the one error handler)
            return None
