"""Landing page and conformance declaration."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import Reader, State
from api.formats import HTML, JSON, F, json_response, wants_html
from api.html_pages import conformance_page, landing_page
from api.links import base, link

router = APIRouter(tags=["Capabilities"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
]


@router.get("/", summary="Landing page", operation_id="getLandingPage")
async def landing(request: Request, state: State, _: Reader, f: F | None = None) -> Response:
    """The service's title and description, with links to the API definition, the conformance
    classes and the collections. `f=json` or `f=html` overrides the `Accept` header."""
    root = base(request)
    doc = {
        "title": state.settings.title,
        "description": state.settings.description,
        "links": [
            link(f"{root}/?f=json", "self", JSON, "this document"),
            link(f"{root}/?f=html", "alternate", HTML, "this document as HTML"),
            link(
                f"{root}/api",
                "service-desc",
                "application/vnd.oai.openapi+json;version=3.0",
                "the API definition",
            ),
            link(f"{root}/api.html", "service-doc", HTML, "the API documentation"),
            link(f"{root}/conformance", "conformance", JSON, "conformance classes"),
            link(f"{root}/collections", "data", JSON, "the collections (layers)"),
        ],
    }
    if wants_html(request, f):
        return landing_page(request, doc)
    return json_response(doc)


@router.get("/conformance", summary="Conformance classes", operation_id="getConformance")
async def conformance(request: Request, _: Reader, f: F | None = None) -> Response:
    """The OGC API conformance classes this service implements (Features Parts 1-4, CQL2)."""
    doc = {"conformsTo": CONFORMANCE}
    if wants_html(request, f):
        return conformance_page(request, CONFORMANCE)
    return json_response(doc)
