"""Absolute links, as OGC clients (GDAL, OWSLib) follow them.

Links start from the service's public URL when one is configured (``GIS_REGISTRY_API_PUBLIC_URL``,
put in each request's scope by :class:`api.edge.Edge`), so a forged Host header cannot point
them elsewhere. Without one they follow the Host header the client sent, as long as it is a
valid ``host[:port]``; anything else (a path, a quote, a port beyond 65535) is ignored for the
server's own address.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from starlette.datastructures import URL
from starlette.types import Scope

PUBLIC_BASE = "gis_registry.public_base"  # the scope key of the configured public URL

# a DNS name or IPv4 address, or a bracketed IPv6 address; then an optional port
_HOST = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}"
    r"[A-Za-z0-9])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?"
)


def public_base(url: str | None) -> str | None:
    """The configured public URL as links start with it (no trailing slash), or None.

    Raises ValueError naming ``public_url`` when it is not an absolute http(s) URL with a valid
    host, or carries a query or fragment.
    """
    if not url:
        return None
    parts = urlsplit(url.strip())
    if (
        parts.scheme not in ("http", "https")
        or not valid_host(parts.netloc)
        or parts.query
        or parts.fragment
    ):
        raise ValueError(
            f"public_url (GIS_REGISTRY_API_PUBLIC_URL) must be http(s)://host[:port][/path], "
            f"not {url!r}"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


@functools.lru_cache(maxsize=1024)  # clients send a handful of hosts; the regex costs ~1 us
def valid_host(host: str) -> bool:
    """Whether ``host`` is a ``host[:port]`` a link may carry (a Host header's value)."""
    match = _HOST.fullmatch(host)
    return match is not None and (match[1] is None or 0 < int(match[1]) <= 65535)


def base(request: Request) -> str:
    """scheme://host[:port][/root_path] of the service: its public URL when configured, else
    as the client addressed the server."""
    return base_of(request.scope, request.headers.get("host"))


def base_of(scope: Scope, host: str | None) -> str:
    """:func:`base` from an ASGI scope and its Host header (for raw ASGI code)."""
    public = scope.get(PUBLIC_BASE)
    if public is not None:
        return public
    if not host or not valid_host(host):
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}".rstrip("/")


def here(request: Request) -> URL:
    """The URL of this request (path and query) under :func:`base`: the ``self`` of a page."""
    scope = request.scope
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):  # uvicorn's path includes the root path; base has it
        path = path[len(root) :]
    path = path.replace("?", "%3F").replace("#", "%23")  # as Starlette's request.url has it
    query = scope.get("query_string", b"").decode("latin-1")
    return URL(f"{base(request)}{path}" + (f"?{query}" if query else ""))


def link(href: str, rel: str, type_: str, title: str | None = None) -> dict[str, Any]:
    """An OGC API link object (``href``, ``rel``, ``type`` and, if given, ``title``)."""
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out
