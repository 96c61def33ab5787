"""Content negotiation (``f`` wins over ``Accept``) and the plain HTML views."""

from __future__ import annotations

import html
from decimal import Decimal
from enum import StrEnum
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

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


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;max-width:80em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}}
code{{font-size:90%}}</style></head>
<body><h1>{title}</h1>{body}</body></html>"""


def _value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = dumps(value).decode()
        return f"<code>{html.escape(text[:200])}{'…' if len(text) > 200 else ''}</code>"
    return html.escape("" if value is None else str(value))


def _links(links: list[dict[str, Any]]) -> str:
    def item(link: dict[str, Any]) -> str:
        href = html.escape(link["href"])
        title = html.escape(link.get("title") or link["rel"])
        kind = f"{html.escape(link['rel'])}, {html.escape(link.get('type', ''))}"
        return f'<li><a href="{href}">{title}</a> <small>({kind})</small></li>'

    items = "".join(item(link) for link in links)
    return f"<ul>{items}</ul>"


def _table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    columns = list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_value(row.get(c))}</td>" for c in columns) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_page(title: str, document: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """A generic HTML view of a JSON document: its links, features or collections as tables."""
    parts = []
    if document.get("description"):
        parts.append(f"<p>{html.escape(str(document['description']))}</p>")
    if "features" in document:
        rows = [
            {
                "id": f.get("id"),
                **(f.get("properties") or {}),
                "geometry": (f.get("geometry") or {}).get("type"),
            }
            for f in document["features"]
        ]
        if "numberMatched" in document:
            parts.append(f"<p>{document['numberMatched']} features match.</p>")
        parts.append(_table(rows))
    elif document.get("type") == "Feature":
        props = {"id": document.get("id"), **(document.get("properties") or {})}
        parts.append(_table([{"field": k, "value": v} for k, v in props.items()]))
        parts.append(f"<p>geometry: {_value(document.get('geometry'))}</p>")
    if "collections" in document:
        rows = [
            {"id": c["id"], "title": c.get("title"), "description": c.get("description")}
            for c in document["collections"]
        ]
        parts.append(_table(rows))
    if "conformsTo" in document:
        parts.append(
            "<ul>" + "".join(f"<li>{html.escape(c)}</li>" for c in document["conformsTo"]) + "</ul>"
        )
    if document.get("links"):
        parts.append("<h2>Links</h2>" + _links(document["links"]))
    body = "".join(parts)
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status_code)
