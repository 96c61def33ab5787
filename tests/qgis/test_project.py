"""The QGIS project ``gis-registry qgis -o FILE.qgz`` writes, opened in QGIS 3.22 (headless
PyQGIS): it reads, every layer of the registry is in it and valid, and the zoning layer draws
each zone in its DPT colour (pixels read from a PNG of the layer at known zone locations).

The colours expected come from the ``zoning_categories`` table, the palette the styles are
computed from; a zone's fill may be drawn see-through, so a pixel is compared with the fill
blended over the white background at whatever opacity fits best.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from gis_registry.catalog import CATALOG
from tests.fixtures.servers import database_url

pytestmark = [pytest.mark.db, pytest.mark.qgis]

ROOT = Path(__file__).resolve().parents[2]
SPATIAL = {layer.id for layer in CATALOG.values() if layer.spatial}
SIZE = (800, 800)
# A sampled point lies this far inside its zone and from any zone of another category, so
# that the pixels read around it (RADIUS_PX, about 30 m a pixel here) are the zone's own.
INSET_M = 300
RADIUS_PX = 6  # a window wider than the hatch spacing: lines and gaps both in it
WHITE = (255, 255, 255)

# One point per land-use category, inside a zone of the latest plan and away from zones of
# other categories (the project may draw every plan, or the plan in force only).
ZONE_POINTS = text(
    """
    WITH plan AS (SELECT id FROM zoning_plans ORDER BY effective_date DESC LIMIT 1),
    inside AS (
        SELECT z.category, z.land_use_code, ST_Area(z.geom::geography) AS area,
               ST_PointOnSurface(ST_Buffer(z.geom::geography, -:inset)::geometry) AS p
        FROM zoning_zones z JOIN plan ON z.plan_id = plan.id
    )
    SELECT DISTINCT ON (i.category) i.category, i.land_use_code, ST_X(i.p) AS lon,
           ST_Y(i.p) AS lat, c.fill, c.hatch
    FROM inside i JOIN zoning_categories c ON c.key = i.category
    WHERE i.p IS NOT NULL AND NOT ST_IsEmpty(i.p)
      AND NOT EXISTS (
          SELECT 1 FROM zoning_zones o
          WHERE o.category <> i.category AND ST_DWithin(o.geom::geography, i.p::geography, :inset)
      )
    ORDER BY i.category, i.area DESC
    """
)


def rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def blend_fit(pixel: tuple[int, ...], colour: tuple[int, ...]) -> tuple[float, float]:
    """(opacity, distance): how well ``pixel`` is ``colour`` drawn over white at some opacity
    (least squares), and how far the pixel is from that blend (RGB units)."""
    towards = [c - w for c, w in zip(colour, WHITE, strict=True)]
    seen = [p - w for p, w in zip(pixel, WHITE, strict=True)]
    norm = sum(t * t for t in towards)
    alpha = sum(s * t for s, t in zip(seen, towards, strict=True)) / norm if norm else 1.0
    alpha = max(0.0, min(1.0, alpha))
    blend = [w + alpha * t for w, t in zip(WHITE, towards, strict=True)]
    distance = sum((p - b) ** 2 for p, b in zip(pixel, blend, strict=True)) ** 0.5
    return alpha, distance


def is_drawn_in(pixel: tuple[int, ...], colour: tuple[int, ...], *, tolerance: float) -> bool:
    """Whether ``pixel`` is ``colour`` at an opacity of 40 % or more (white: the pixel is)."""
    alpha, distance = blend_fit(pixel, colour)
    return distance <= tolerance and (alpha >= 0.4 or colour == WHITE)


@pytest.fixture(scope="module")
def zone_points(demo_engine: Engine) -> list[dict[str, Any]]:
    with demo_engine.connect() as conn:
        rows = conn.execute(ZONE_POINTS, {"inset": INSET_M}).mappings().all()
    points = [dict(r) for r in rows]
    assert len(points) >= 8, f"too few land-use categories to check: {points}"
    return points


@pytest.fixture(scope="module")
def palette(demo_engine: Engine) -> dict[str, str]:
    with demo_engine.connect() as conn:
        return dict(conn.execute(text("SELECT key, fill FROM zoning_categories")).all())


def cli(demo_engine: Engine, *args: str) -> str:
    """``gis-registry ARGS`` on the demo database, as a user runs it; its stdout."""
    env = {**os.environ, "GIS_REGISTRY_DATABASE_URL": database_url(demo_engine)}
    command = [sys.executable, "-m", "gis_registry.cli", *args]
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    said = f"{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, f"gis-registry {' '.join(args)} failed:\n{said}"
    return done.stdout


@pytest.fixture(scope="module")
def viewer_url(demo_engine: Engine) -> str:
    """A viewer's connection URL, as a GIS officer is given one (``db role add --viewer``).

    Roles belong to the cluster, not to the test database: the name is the process's, and the
    role is removed after the module."""
    name = f"qgis_viewer_{os.getpid()}"
    url = cli(demo_engine, "db", "role", "add", name, "--viewer").strip().splitlines()[-1]
    yield url
    cli(demo_engine, "db", "role", "remove", name)


@pytest.fixture(scope="module", params=["postgis", "ogcapi"])
def opened(
    request,
    tmp_path_factory,
    demo_engine: Engine,
    zone_points,
    pyqgis: Callable[..., Any],
) -> dict[str, Any]:
    """The project written for one source, as PyQGIS opened it (and the zoning PNG): over
    PostGIS as a viewer (the project holds a login role's password), over the OGC API of the
    real server."""
    source = request.param
    where = request.getfixturevalue("demo_api" if source == "ogcapi" else "viewer_url")
    folder = tmp_path_factory.mktemp(f"qgis-{source}")
    project = folder / f"registry-{source}.qgz"
    cli(demo_engine, "qgis", "-o", str(project), "--source", source, "--url", where)
    assert project.is_file()
    # the project and its condition snapshot travel together: QGIS opens them moved
    moved = folder / "moved"
    moved.mkdir()
    snapshot = folder / f"{project.stem}_condition.gpkg"
    project = Path(shutil.move(project, moved / project.name))
    snapshot = Path(shutil.move(snapshot, moved / snapshot.name))
    lons = [p["lon"] for p in zone_points]
    lats = [p["lat"] for p in zone_points]
    margin = 0.01
    extent = [min(lons) - margin, min(lats) - margin, max(lons) + margin, max(lats) + margin]
    png = folder / "zoning.png"
    answer = pyqgis(
        "project",
        {
            "project": str(project),
            "render": {
                "table": "zoning_zones",
                "extent": extent,
                "size": list(SIZE),
                "png": str(png),
                "points": [[p["lon"], p["lat"]] for p in zone_points],
                "radius": RADIUS_PX,
            },
        },
    )
    answer["png"] = png
    answer["snapshot"] = snapshot
    return answer


def test_project_opens_with_every_layer_valid(opened):
    assert opened["read"], f"QGIS cannot read the project: {opened['error']}"
    invalid = [f"{x['name']} ({x['table']})" for x in opened["layers"] if not x["valid"]]
    assert not invalid, f"layers QGIS cannot open: {invalid}; QGIS said:\n{opened['log']}"
    tables = sorted(x["table"] for x in opened["layers"] if x["provider"] != "ogr")
    assert tables == sorted(SPATIAL), "one layer per spatial layer of the registry"
    assert all(x["group"] for x in opened["layers"]), "every layer is in a group"


def test_condition_snapshot_layers_open_with_the_snapshots_features(opened):
    import pyogrio

    snapshot = [x for x in opened["layers"] if x["provider"] == "ogr"]
    written = {row[0] for row in pyogrio.list_layers(opened["snapshot"])}
    assert {x["table"] for x in snapshot} == written and len(written) == 2
    for layer in snapshot:
        assert layer["valid"], f"{layer['name']}: QGIS said:\n{opened['log']}"
        assert layer["group"].endswith("Condition")
        expected = "Point" if layer["table"].startswith("bridge") else "Line"
        assert layer["geometry_type"] == expected
        count = pyogrio.read_info(opened["snapshot"], layer=layer["table"])["features"]
        assert count > 0 and layer["feature_count"] == count
        assert layer["renderer"] == "RuleRenderer"


def test_zoning_is_drawn_in_dpt_colours(opened, zone_points, palette):
    render = opened["render"]
    assert not render["errors"], render["errors"]
    fills = {rgb(c) for c in palette.values()}
    wrong = []
    for point, seen in zip(zone_points, render["pixels"], strict=True):
        fill = rgb(point["fill"])
        where = f"{point['category']} ({point['land_use_code']}) at pixel {seen['pixel']}"
        colours = {rgb(c): n for c, n in seen["colours"].items()}
        if point["hatch"]:  # lines of the hatch colour over the fill: both in the window
            hatch, total = rgb(point["hatch"]), sum(colours.values())
            in_fill = sum(n for c, n in colours.items() if is_drawn_in(c, fill, tolerance=20))
            in_hatch = sum(n for c, n in colours.items() if is_drawn_in(c, hatch, tolerance=40))
            if in_fill < 0.1 * total or in_hatch < 0.1 * total:
                wrong.append(f"{where}: {in_fill} fill and {in_hatch} hatch of {total} pixels")
            continue
        # the most frequent colour near the point (an outline or antialiasing is rarer)
        drawn = max(seen["colours"], key=seen["colours"].get)
        best = min(fills, key=lambda f: blend_fit(rgb(drawn), f)[1])
        if best != fill or not is_drawn_in(rgb(drawn), fill, tolerance=20):
            wrong.append(f"{where}: drawn {drawn}, fill {point['fill']}")
    assert not wrong, f"zones not in their DPT colours (PNG: {opened['png']}): {wrong}"
