"""The API's pages for browsers, built from the same documents the JSON answers carry
(:mod:`api.html` holds the pieces: escaping, the value rule, the map, the tables)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute

from api.html import (
    a,
    as_html,
    esc,
    feature_table,
    features_table,
    link_list,
    map_block,
    page,
)
from api.links import base
from gis_registry.catalog import CATALOG, Layer

# A working example of each analysis (operation id -> query): the landing page links it.
# Coordinates are in Lampang; the route runs from the city to Ko Kha.
ANALYSIS_EXAMPLES: dict[str, str] = {
    "waterCoverage": "distance_m=2000",
    "roadCoverage": "distance_m=2000",
    "siteWaterSources": "n=5&distance_m=1000",
    "zoneAt": "lon=99.49&lat=18.29",
    "parcelZones": "geom=POLYGON((99.45 18.29,99.46 18.29,99.46 18.30,99.45 18.30,99.45 18.29))",
    "zoningAreas": "by=plan",
    "zoningCompliance": "asset=landfill&geom=POINT(99.455 18.295)",
    "hazardExposure": "",
    "assetCondition": "by=local_body",
    "overdueInspections": "",
    "workProgramme": "fiscal_year=2569&budget_thb=10000000",
    "budgetCoordination": "fiscal_year=2569",
    "maintenanceHistory": "by=total",
    "route": "from=99.49,18.29&to=99.42,18.21",
    "travelTimeMatrix": "",
    "networkComponents": "",
    "networkCriticality": "",
    "networkCheck": "",
}


def asset_root(request: Request) -> str:
    """Where the map libraries are served (root-relative: any host name the client used)."""
    return f"{request.scope.get('root_path', '')}/maps/assets/"


def analyses(request: Request) -> list[tuple[str, str, str | None]]:
    """(summary, path, example URL or None) of every analysis route."""
    from api.routers import analysis, network

    root = base(request)
    out = []
    for route in (*analysis.router.routes, *network.router.routes):
        if not isinstance(route, APIRoute) or "GET" not in (route.methods or ()):
            continue
        example = ANALYSIS_EXAMPLES.get(route.operation_id or "")
        href = None
        if example is not None:
            href = f"{root}{route.path}" + (f"?{example}" if example else "")
        out.append((route.summary or route.path, route.path, href))
    return out


def map_items(root: str) -> str:
    """The maps as ``<li>`` items: a link to each, and the query the route map needs (the
    landing page and ``/maps`` list them)."""
    from gis_registry.maps.catalog import MAPS

    items = "".join(
        f"<li>{a(f'{root}/maps/{k}', f'{m.title_th} · {m.title_en}')}</li>"
        for k, m in MAPS.items()
        if k != "route"
    )
    route = MAPS["route"]
    return items + (
        f"<li>{esc(route.title_th)} · {esc(route.title_en)}: <code>{esc(root)}"
        "/maps/route?from=LGO_CODE&amp;to=LGO_CODE&amp;closed_bridge=ID</code></li>"
    )


def landing_page(request: Request, doc: dict[str, Any]) -> HTMLResponse:
    """The landing page: the collections, maps, analyses, vector tiles and API docs."""
    root = base(request)
    layers = "".join(
        f"<li>{a(f'{root}/collections/{c.id}?f=html', f'{c.title_th} · {c.title}')}"
        f" — {a(f'{root}/collections/{c.id}/items?f=html', 'features')}</li>"
        for c in CATALOG.values()
    )
    rows = "".join(
        f"<tr><td>{esc(summary)}</td><td><code>{esc(path)}</code></td>"
        f"<td>{a(href, 'example') if href else ''}</td></tr>"
        for summary, path, href in analyses(request)
    )
    tiled = "".join(
        f"<li>{esc(c.title_th)} · {esc(c.title)}: "
        f"{a(f'{root}/tiles/{c.id}/tilejson.json', 'TileJSON')} "
        f"<code>{esc(root)}/tiles/{esc(c.id)}/{{z}}/{{x}}/{{y}}.mvt</code></li>"
        for c in CATALOG.values()
        if c.tiled
    )
    body = (
        f"<p>{esc(doc.get('description'))}</p>"
        f"<section><h2>ชั้นข้อมูล · Collections</h2>"
        f"<p>{a(f'{root}/collections?f=html', 'All collections')} (OGC API - Features)</p>"
        f"<ul>{layers}</ul></section>"
        f"<section><h2>แผนที่ · Maps</h2><p>{a(f'{root}/maps', 'All maps')}</p>"
        f"<ul>{map_items(root)}</ul></section>"
        "<section><h2>การวิเคราะห์ · Analyses</h2><p>JSON answers; each example runs "
        "the analysis with sample parameters.</p><table><thead><tr><th>analysis</th>"
        f"<th>path</th><th></th></tr></thead><tbody>{rows}</tbody></table></section>"
        f"<section><h2>ไทล์เวกเตอร์ · Vector tiles</h2><ul>{tiled}</ul></section>"
        "<section><h2>เอกสาร API · API documentation</h2><ul>"
        f"<li>{a(f'{root}/api.html', 'Swagger UI')} (interactive)</li>"
        f"<li>{a(f'{root}/api', 'OpenAPI 3.0 definition')} (JSON)</li>"
        f"<li>{a(f'{root}/conformance?f=html', 'Conformance classes')}</li>"
        "</ul></section>"
        f"<section><h2>Links</h2>{link_list(doc.get('links', []))}</section>"
    )
    return page(str(doc.get("title") or "GIS registry"), body, root=root)


def _crumbs(root: str, c: Layer | None = None) -> list[tuple[str, str]]:
    """The trail to the collections page and, given ``c``, on to that collection's page."""
    trail = [(f"{root}/collections?f=html", "ชั้นข้อมูล · Collections")]
    if c is not None:
        trail.append((f"{root}/collections/{c.id}?f=html", f"{c.title_th} · {c.title}"))
    return trail


def collections_page(request: Request, doc: dict[str, Any]) -> HTMLResponse:
    """Every collection as a row linking its page, its features, queryables and tiles."""
    root = base(request)
    rows = []
    for entry in doc["collections"]:
        c = CATALOG[entry["id"]]
        here = f"{root}/collections/{c.id}"
        links = [
            a(f"{here}/items?f=html", "features"),
            a(f"{here}/items", "GeoJSON"),
            a(f"{here}/queryables?f=html", "queryables"),
        ]
        if c.tiled:
            links.append(a(f"{root}/tiles/{c.id}/tilejson.json", "tiles"))
        rows.append(
            f"<tr><td>{a(f'{here}?f=html', c.id)}</td><td>{esc(c.title_th)}</td>"
            f"<td>{esc(c.title)}</td><td>{esc((c.geometry_type or '–').title())}</td>"
            f"<td>{esc(c.description)}</td><td>{' · '.join(links)}</td></tr>"
        )
    body = (
        "<table><thead><tr><th>id</th><th>ชื่อ</th><th>title</th><th>geometry</th>"
        f"<th>description</th><th>links</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<h2>Links</h2>{link_list(doc['links'])}"
    )
    return page("ชั้นข้อมูล · Collections", body, root=root)


def collection_page(request: Request, c: Layer, doc: dict[str, Any]) -> HTMLResponse:
    """One collection: titles, description, extent and every link (items, queryables, tiles,
    styles when served)."""
    root = base(request)
    here = f"{root}/collections/{c.id}"
    facts = [("id", c.id), ("geometry", (c.geometry_type or "–").title())]
    extent = doc.get("extent") or {}
    bbox = (extent.get("spatial") or {}).get("bbox")
    if bbox:
        facts.append(("bbox (CRS84)", ", ".join(f"{v:.6f}" for v in bbox[0])))
    interval = (extent.get("temporal") or {}).get("interval")
    if interval:
        facts.append(("time", " – ".join(str(v or "..") for v in interval[0])))
    facts.append(("CRS", ", ".join(doc.get("crs", []))))
    items = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    main = [
        a(f"{here}/items?f=html", "features (HTML)"),
        a(f"{here}/items", "features (GeoJSON)"),
        a(f"{here}/queryables?f=html", "queryables (schema)"),
    ]
    if c.tiled:
        main.append(a(f"{root}/tiles/{c.id}/tilejson.json", "vector tiles (TileJSON)"))
    main += [  # styles (SLD, QML) when the API serves them for this layer
        a(link["href"], "styles")
        for link in doc["links"]
        if link["rel"].endswith("/styles") or link["rel"] == "styles"
    ]
    body = (
        f"<p>{esc(c.description)}</p><p>{' · '.join(main)}</p><dl>{items}</dl>"
        f"<h2>Links</h2>{link_list(doc['links'])}"
    )
    return page(f"{c.title_th} · {c.title}", body, root=root, crumbs=_crumbs(root))


def queryables_page(request: Request, c: Layer, props: dict[str, Any]) -> HTMLResponse:
    """The properties a filter may name, with their types."""
    root = base(request)
    rows = "".join(
        f"<tr><td><code>{esc(name)}</code></td>"
        f"<td>{esc(p.get('format') or p.get('type') or p.get('$ref', ''))}</td>"
        f"<td>{esc(p.get('description', ''))}</td></tr>"
        for name, p in props.items()
    )
    body = (
        f"<table><thead><tr><th>property</th><th>type</th><th>description</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )
    return page(f"Queryables · {c.title}", body, root=root, crumbs=_crumbs(root, c))


def _paging(doc: dict[str, Any]) -> str:
    """prev/next links of a page of features, as HTML pages."""
    names = {"prev": "‹ ก่อนหน้า · previous", "next": "ถัดไป · next ›"}
    found = {link["rel"]: link["href"] for link in doc.get("links", []) if link["rel"] in names}
    parts = [a(as_html(found[rel]), text) for rel, text in names.items() if rel in found]
    return f'<nav class="pages">{"".join(parts)}</nav>' if parts else ""


def items_page(request: Request, c: Layer, doc: dict[str, Any], *, mapped: bool) -> HTMLResponse:
    """A page of features: a map of them (when ``mapped``: CRS84 coordinates), the table, and
    prev/next links."""
    root = base(request)
    features = doc.get("features", [])
    count = f"{doc.get('numberReturned', len(features))} features"
    if doc.get("numberMatched") is not None:
        count += f" of {doc['numberMatched']}"
    item_url = f"{root}/collections/{c.id}/items/{{id}}?f=html"
    drawn = map_block(features, asset_root=asset_root(request), item_url=item_url) if mapped else ""
    paging = _paging(doc)
    geojson = next(link["href"] for link in doc["links"] if link["rel"] == "self")  # no f
    body = (
        f"<p>{esc(count)} · {a(geojson, 'GeoJSON')}</p>{drawn}{paging}"
        f"{features_table(c, features, root)}{paging}"
    )
    return page(f"{c.title_th} · {c.title}", body, root=root, crumbs=_crumbs(root, c))


def item_page(
    request: Request, c: Layer, feature_id: str, doc: dict[str, Any], *, mapped: bool
) -> HTMLResponse:
    """One feature: a map of it (when ``mapped``), its properties, its links."""
    root = base(request)
    drawn = map_block([doc], asset_root=asset_root(request), item_url=None) if mapped else ""
    props = doc.get("properties") or {}
    name = " · ".join(str(props[k]) for k in ("name_th", "name_en") if props.get(k))
    title = f"{c.title_th} · {c.title} {feature_id}" + (f": {name}" if name else "")
    body = f"{drawn}{feature_table(c, doc, root)}<h2>Links</h2>{link_list(doc.get('links', []))}"
    crumbs = [*_crumbs(root, c), (f"{root}/collections/{c.id}/items?f=html", "features")]
    return page(title, body, root=root, crumbs=crumbs)


def history_page(request: Request, c: Layer, feature_id: str, doc: dict[str, Any]) -> HTMLResponse:
    """The recorded changes of one feature (id, operation, when, by whom) and the links."""
    root = base(request)
    columns = ("id", "operation", "changed_at", "changed_by")
    rows = "".join(
        "<tr>" + "".join(f"<td>{esc(ch.get(k))}</td>" for k in columns) + "</tr>"
        for ch in doc["changes"]
    )
    head = "".join(f"<th>{esc(k)}</th>" for k in columns)
    table = (
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
        if rows
        else "<p>(none)</p>"
    )
    body = f"{table}<h2>Links</h2>{link_list(doc['links'])}"
    return page(f"History of {c.id} {feature_id}", body, root=root, crumbs=_crumbs(root, c))


def conformance_page(request: Request, classes: list[str]) -> HTMLResponse:
    """The conformance classes, each a link to its definition."""
    items = "".join(f"<li>{a(uri, uri)}</li>" for uri in classes)
    return page("Conformance", f"<ul>{items}</ul>", root=base(request))
