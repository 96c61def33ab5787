"""The OpenAPI document served at ``/api``, in OpenAPI 3.0 (the OGC ``oas30`` class).

FastAPI writes 3.1; the differences that matter here are mechanical: ``anyOf`` with a null
type becomes ``nullable``, ``examples`` becomes ``example``, ``const`` an ``enum``, numeric
``exclusiveMinimum``/``Maximum`` the 3.0 booleans.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, Response


def to_oas30(node: Any) -> Any:
    """A copy of an OpenAPI 3.1 document (or any part of one) rewritten as OpenAPI 3.0.

    Recurses through dicts and lists; the input is not modified.
    """
    if isinstance(node, list):
        return [to_oas30(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_oas30(v) for k, v in node.items()}
    for key in ("anyOf", "oneOf"):
        options = out.get(key)
        nulls = ({"type": "null"}, {"nullable": True})
        if isinstance(options, list) and any(o in nulls for o in options):
            rest = [o for o in options if o not in nulls]
            del out[key]
            if len(rest) == 1:
                out.update(rest[0] if "$ref" not in rest[0] else {"allOf": rest})
            else:
                out[key] = rest
            out["nullable"] = True
    if out.get("type") == "null":
        out.pop("type")
        out["nullable"] = True
    if isinstance(out.get("type"), list):
        types = [t for t in out["type"] if t != "null"]
        if len(types) < len(out["type"]):
            out["nullable"] = True
        out["type"] = types[0] if types else "string"
    if "examples" in out and isinstance(out["examples"], list) and "in" not in out:
        examples = out.pop("examples")
        if examples:
            out["example"] = examples[0]
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for bound, base in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        value = out.get(bound)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[base] = value
            out[bound] = True
    return out


def install(app: FastAPI) -> None:
    """Make ``app`` serve its OpenAPI document as 3.0.3, built once, when first asked for."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            document = to_oas30(document)
            document["openapi"] = "3.0.3"
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# -- the interactive documentation ----------------------------------------------------------
SWAGGER_UI = "swagger-ui-dist"
# the files of Swagger UI the page loads (an allow-list: nothing else is served)
SWAGGER_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def read_docs_asset(name: str) -> tuple[bytes, str]:
    """Bytes and media type of a Swagger UI file installed with the map libraries
    (``scripts/install-map-assets.sh``); NotFound for any other name, ServiceUnavailable (503)
    when Swagger UI is not installed."""
    from api.errors import ServiceUnavailable
    from gis_registry.errors import NotFound
    from gis_registry.maps.offline import asset_bytes
    from gis_registry.maps.settings import MapSettings

    if name not in SWAGGER_FILES:
        raise NotFound(f"no documentation asset '{name}'")
    path = MapSettings().assets_dir / SWAGGER_UI / name
    if not path.is_file():
        raise ServiceUnavailable(
            f"Swagger UI is not installed ({path} is missing); run "
            "scripts/install-map-assets.sh (part of `make setup`)"
        )
    # as the map libraries are served: source-map comments cut (no 404s in devtools)
    return asset_bytes(path.parent, name), SWAGGER_FILES[name]


def install_docs(app: FastAPI, *, path: str = "/api.html") -> None:
    """Serve Swagger UI at ``path`` from this API's own copy (``/api/assets/...``), so the
    documentation works with no internet access; the validator badge (an outside request) is
    off."""

    @app.get(path, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        assets = f"{root}/api/assets"
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} · API",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get("/api/assets/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        data, media_type = await run_in_threadpool(read_docs_asset, name)
        return Response(
            data, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
        )
