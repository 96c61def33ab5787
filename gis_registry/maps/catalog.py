"""The maps by name (for the CLI, the API and ``make demo``) and the demo set of maps."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import folium
from sqlalchemy import Connection, text

from gis_registry.errors import GisRegistryError, NotFound
from gis_registry.maps.condition import condition_map
from gis_registry.maps.coordination import coordination_map
from gis_registry.maps.hazard import hazard_map
from gis_registry.maps.network import network_map
from gis_registry.maps.offline import AssetMode, MapAssetsMissing, save_map
from gis_registry.maps.route import criticality_map, route_map
from gis_registry.maps.settings import MapSettings
from gis_registry.maps.water import water_map
from gis_registry.maps.zoning import zoning_map
from gis_registry.network.restrictions import restrictions_from


@dataclass(frozen=True)
class MapKind:
    """A map by name: the function that builds it and its Thai and English titles."""

    name: str
    builder: Callable[..., folium.Map]
    title_th: str
    title_en: str


MAPS: dict[str, MapKind] = {
    k.name: k
    for k in (
        MapKind("zoning", zoning_map, "ผังเมืองรวม", "Zoning"),
        MapKind("condition", condition_map, "สภาพทางและสะพาน", "Road and bridge condition"),
        MapKind("water", water_map, "ความครอบคลุมแหล่งน้ำ", "Water coverage"),
        MapKind("route", route_map, "เส้นทางและการปิดทาง", "Route and closures"),
        MapKind("critical", criticality_map, "สะพานและทางวิกฤต", "Critical bridges and roads"),
        MapKind("hazard", hazard_map, "พื้นที่เสี่ยงภัย", "Hazards"),
        MapKind(
            "coordination",
            coordination_map,
            "ประสานงบประมาณซ่อมบำรุง",
            "Maintenance budget coordination",
        ),
        MapKind("network", network_map, "ตรวจสอบโครงข่ายถนน", "Road network check"),
    )
}


# The closures of a route map under the names ``route()`` and the analyses take (the CLI, the
# API and ``Registry.map`` pass these), and the route map's own option for each.
ROUTE_CLOSURES = {
    "closed_road": "closed_roads",
    "closed_bridge": "closed_bridges",
    "hazard": "hazard_ids",
}


def build_map(conn: Connection, kind: str, **options: Any) -> folium.Map:
    """The map named ``kind`` (zoning, condition, water, route, critical, hazard, network).

    A ``route`` map takes ``origin``, ``destination`` and the closures as :func:`route` names
    them (``closed_road``, ``closed_bridge``, ``hazard``: checked as the analyses check them).
    """
    try:
        entry = MAPS[kind]
    except KeyError:
        raise NotFound(f"no map '{kind}' (maps: {', '.join(MAPS)})") from None
    if kind == "route":
        named = {k: v for k in ROUTE_CLOSURES if (v := options.pop(k, None)) is not None}
        if named:
            closed = restrictions_from(named).to_dict()
            for name, builder_name in ROUTE_CLOSURES.items():
                options.setdefault(builder_name, closed[name])
        return entry.builder(conn, options.pop("origin"), options.pop("destination"), **options)
    return entry.builder(conn, **options)


def demo_route(conn: Connection) -> dict[str, Any] | None:
    """A route worth showing: from the PAO's seat (the city LGO, else the LGO nearest the PAO
    office) to the farthest LGO office, with its first bridge closed."""
    row = conn.execute(
        text(
            """
            WITH pao AS (SELECT office FROM local_bodies WHERE kind = 'pao' LIMIT 1),
            lgo AS (SELECT lb.code, lb.kind, lb.office,
                           ST_Distance(lb.office::geography, pao.office::geography) AS d
                    FROM local_bodies lb, pao WHERE lb.kind <> 'pao')
            SELECT (SELECT code FROM lgo ORDER BY (kind = 'city_municipality') DESC, d LIMIT 1),
                   (SELECT code FROM lgo ORDER BY d DESC LIMIT 1)
            """
        )
    ).one()
    if row[0] is None or row[1] is None or row[0] == row[1]:
        return None
    return {"origin": row[0], "destination": row[1]}


@dataclass
class MapSet:
    """Maps written (name -> path, with ``index``) and maps left out (name -> why)."""

    paths: dict[str, Path]
    skipped: dict[str, str]


def write_demo_maps(
    conn: Connection,
    out_dir: str | Path,
    *,
    mode: AssetMode | str = AssetMode.INLINE,
    shared_assets: str | Path | None = None,
    settings: MapSettings | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    on_map: Callable[[str, Path | None, str | None], None] | None = None,
) -> MapSet:
    """Write every map of the registry into ``out_dir`` plus an ``index.html``.

    Each map is one self-contained file by default (``mode="inline"``: it works copied alone
    to a machine with no network); ``shared_assets`` (e.g. ``"lib"``, relative to ``out_dir``)
    writes the libraries once into that folder instead, which the maps then need beside them.

    A map the registry cannot support (no road network for a route, no PAO office for the
    criticality...) is left out and its reason listed in the index and in ``skipped``.
    ``progress(name, done, total)`` is called before each map (and with ``done == total`` at
    the end), ``on_map(name, path, why_left_out)`` after each, so a shell can show them as
    they come.
    """
    from gis_registry.network.routing import route

    out = Path(out_dir)
    written: dict[str, Path] = {}
    timings: dict[str, float] = {}
    skipped: dict[str, str] = {}
    for done, name in enumerate(MAPS):
        if progress is not None:
            progress(name, done, len(MAPS))
        started = time.perf_counter()
        options: dict[str, Any] = {"settings": settings}
        try:
            if name == "route":
                ends = demo_route(conn)
                if ends is None:
                    skipped[name] = "fewer than two LGOs"
                    continue
                first = route(conn, ends["origin"], ends["destination"]).bridges
                if first:
                    options["closed_bridges"] = [int(first[0]["bridge_id"])]
                options.update(ends)
            written[name] = save_map(
                build_map(conn, name, **options),
                out / f"{name}.html",
                mode=mode,
                shared_assets=shared_assets,
                settings=settings,
            )
        except MapAssetsMissing:
            raise
        except GisRegistryError as exc:
            skipped[name] = str(exc)
            continue
        finally:
            if on_map is not None:
                on_map(name, written.get(name), skipped.get(name))
        timings[name] = time.perf_counter() - started
    if progress is not None:
        progress("index", len(MAPS), len(MAPS))
    links = "".join(
        f'<li><a href="{p.name}">{MAPS[n].title_th} · {MAPS[n].title_en}</a> '
        f"({p.stat().st_size / 1e6:.2f} MB, {timings[n]:.1f} s)</li>"
        for n, p in written.items()
    ) + "".join(
        f"<li>{MAPS[n].title_th} · {MAPS[n].title_en}: {html.escape(why)}</li>"
        for n, why in skipped.items()
    )
    index = out / "index.html"
    index.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>gis-registry maps</title>"
        "<style>body{font-family:'Noto Sans Thai','TH Sarabun New','Loma','Garuda',sans-serif;"
        "margin:2em}</style></head><body><h1>แผนที่ อบจ.ลำปาง · Lampang PAO maps</h1>"
        f"<ul>{links}</ul></body></html>",
        encoding="utf-8",
    )
    written["index"] = index
    return MapSet(paths=written, skipped=skipped)
