"""Absolute links, as OGC clients (GDAL, OWSLib) follow them."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.types import Scope


def base(request: Request) -> str:
    """scheme://host[:port][/root_path] of the request, as the client addressed the server."""
    return base_of(request.scope, request.headers.get("host"))


def base_of(scope: Scope, host: str | None) -> str:
    """:func:`base` from an ASGI scope and its Host header (for raw ASGI code)."""
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, Any]:
    """An OGC API link object (``href``, ``rel``, ``type`` and, if given, ``title``)."""
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out
