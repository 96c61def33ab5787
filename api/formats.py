"""Content negotiation (``f`` wins over ``Accept``) and JSON answers; the HTML pages are
:mod:`api.html_pages`."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"


class F(StrEnum):
    """Values of the ``f`` query parameter, which overrides the ``Accept`` header."""

    json = "json"
    html = "html"


def wants_html(request: Request, f: F | None) -> bool:
    """HTML for browsers (Accept names text/html and no JSON), JSON/GeoJSON otherwise."""
    if f is not None:
        return f == F.html
    return prefers_html(request.headers.get("accept", ""))


def prefers_html(accept: str) -> bool:
    """An Accept header naming text/html and no JSON: a browser."""
    return "text/html" in accept and "json" not in accept


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value).__name__)


def dumps(body: Any) -> bytes:
    """JSON bytes; SQLAlchemy's column names (str subclasses) are fine as keys."""
    return orjson.dumps(body, default=_default, option=orjson.OPT_NON_STR_KEYS)


def json_response(body: Any, media_type: str = JSON, **kwargs: Any) -> Response:
    """A response whose body is ``body`` as JSON (:func:`dumps`), of type ``media_type``.

    ``kwargs`` (``status_code``, ``headers``...) go to :class:`~fastapi.responses.Response`.
    """
    return Response(dumps(body), media_type=media_type, **kwargs)
