"""``gis-registry qgis``: the QGIS project file (what QGIS opens is checked with PyQGIS in
tests/qgis; here the file itself: layers, sources, groups, CRS, extent, styles, passwords)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from gis_registry.catalog import CATALOG
from gis_registry.cli import app
from gis_registry.geodesy import metric_srid
from gis_registry.styles.project import PROJECT_FILE, project_layer_id
from gis_registry.styles.qml import rgba

pytestmark = pytest.mark.db

GROUPS = {"Boundaries", "Network", "Water", "Planning", "Hazards", "Villages", "Condition"}
SPATIAL = [layer.id for layer in CATALOG.values() if layer.spatial]


def _url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def _write(tmp_path: Path, url: str, monkeypatch, *args: str) -> tuple[ET.Element, str]:
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    tmp_path.mkdir(parents=True, exist_ok=True)
    out = tmp_path / "province.qgz"
    result = CliRunner().invoke(app, ["qgis", "-o", str(out), *args])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert archive.namelist() == [PROJECT_FILE]
        raw = archive.read(PROJECT_FILE)
    assert raw.startswith(b"<!DOCTYPE qgis")
    return ET.fromstring(raw), result.output


def _layers(root: ET.Element, *, snapshot: bool = False) -> dict[str, ET.Element]:
    """The catalogue's layers (read from the database or the API), or the condition
    snapshot's (``snapshot``: read from the GeoPackage beside the project)."""
    return {
        m.findtext("id") or "": m
        for m in root.iter("maplayer")
        if (m.findtext("provider") == "ogr") == snapshot
    }


def test_postgis_project_has_every_layer_styled_grouped_on_the_province(
    demo_engine, tmp_path, monkeypatch
):
    root, output = _write(tmp_path, _url(demo_engine), monkeypatch)
    with demo_engine.connect() as conn:
        srid = metric_srid(conn)
        box = conn.execute(
            text(
                "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT "
                "ST_Extent(ST_Transform(boundary, :s))::box2d AS b FROM local_bodies "
                "WHERE kind = 'pao') AS x"
            ),
            {"s": srid},
        ).one()
        palette = dict(conn.execute(text("SELECT key, fill FROM zoning_categories")).all())
    assert srid == 32647  # Lampang: derived from the data, not written in
    assert root.findtext("projectCrs/spatialrefsys/authid") == f"EPSG:{srid}"
    extent = [
        float(root.findtext(f"mapcanvas/extent/{k}") or "nan")
        for k in ("xmin", "ymin", "xmax", "ymax")
    ]
    assert extent == pytest.approx(list(box), abs=1)
    layers = _layers(root)
    assert set(layers) == {project_layer_id(layer) for layer in SPATIAL}
    assert len(list(root.iter("maplayer"))) == len(SPATIAL) + 2  # + the condition snapshot
    for layer_id in SPATIAL:
        layer = CATALOG[layer_id]
        maplayer = layers[project_layer_id(layer_id)]
        assert maplayer.findtext("provider") == "postgres"
        source = maplayer.findtext("datasource") or ""
        assert f'table="public"."{layer_id}" ({layer.geometry})' in source
        assert f"key='{layer.key}'" in source and "srid=4326" in source
        assert "password" not in source  # a superuser's password never goes into a project
        assert maplayer.find("renderer-v2") is not None
        assert layer.title_th in (maplayer.findtext("layername") or "")
    assert "QGIS asks for it" in output
    tree = root.find("layer-tree-group")
    assert tree is not None
    groups = {g.get("name", ""): g for g in tree.findall("layer-tree-group")}
    assert {name.split(" · ")[-1] for name in groups} == GROUPS
    water = next(g for n, g in groups.items() if n.endswith("Water"))
    in_water = {x.get("id") for x in water.findall("layer-tree-layer")}
    assert {project_layer_id(t) for t in ("water_points", "water_areas", "water_lines")} <= in_water
    zoning = layers[project_layer_id("zoning_zones")]
    qml = ET.tostring(zoning, encoding="unicode")
    for key, fill in palette.items():
        assert f"&quot;category&quot; = '{key}'" in qml or f"\"category\" = '{key}'" in qml
        assert rgba(fill, 0.75) in qml or rgba(fill, 0.9) in qml
    assert zoning.get("labelsEnabled") == "1"


def test_ogcapi_project_points_at_the_collections(demo_engine, tmp_path, monkeypatch):
    root, _ = _write(
        tmp_path,
        _url(demo_engine),
        monkeypatch,
        "--source",
        "ogcapi",
        "--api-url",
        "http://gis.example:8080/",
    )
    same, _ = _write(
        tmp_path,
        _url(demo_engine),
        monkeypatch,
        "--source",
        "ogcapi",
        "--url",
        "http://gis.example:8080",
    )
    assert ET.tostring(same) == ET.tostring(root)  # --url names the API as --api-url does
    layers = _layers(root)
    for layer_id in SPATIAL:
        maplayer = layers[project_layer_id(layer_id)]
        assert maplayer.findtext("provider") == "OAPIF"
        assert maplayer.findtext("datasource", "").startswith(
            f"url='http://gis.example:8080' typename='{layer_id}'"
        )
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:32647"


def test_a_login_role_password_is_embedded_a_superusers_never(engine, tmp_path, monkeypatch):
    from gis_registry.db.roles import add_role, remove_role, role_url

    name = f"qgis_t{os.getpid()}"
    with engine.begin() as conn:
        password = add_role(conn, name, "viewer")
    try:
        viewer = role_url(_url(engine), name, password)
        root, output = _write(tmp_path, _url(engine), monkeypatch, "--url", viewer)
        sources = [m.findtext("datasource") or "" for m in _layers(root).values()]
        assert all(f"user='{name}' password='{password}'" in s for s in sources)
        assert "note" not in output
        root, _ = _write(tmp_path, _url(engine), monkeypatch, "--url", viewer, "--no-password")
        assert not any(
            "password" in (m.findtext("datasource") or "") for m in _layers(root).values()
        )
        root, _ = _write(tmp_path, _url(engine), monkeypatch, "--service", "lampang")
        assert all(
            (m.findtext("datasource") or "").startswith("service='lampang' key=")
            for m in _layers(root).values()
        )
    finally:
        with engine.begin() as conn:
            remove_role(conn, name)
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", _url(engine))
    refused = CliRunner().invoke(app, ["qgis", "-o", str(tmp_path / "p.qgz"), "--password"])
    assert refused.exit_code == 1 and "superuser" in refused.output


def test_bad_output_is_one_line(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", _url(engine))
    r = CliRunner().invoke(app, ["qgis", "-o", str(tmp_path / "p.qgs")])
    assert r.exit_code == 1 and ".qgz" in r.output and "Traceback" not in r.output
    r = CliRunner().invoke(app, ["qgis", "-o", str(tmp_path / "nowhere" / "p.qgz")])
    assert r.exit_code == 1 and "does not exist" in r.output
    r = CliRunner().invoke(app, ["qgis", "-o", str(tmp_path / "p.qgz"), "--source", "wfs"])
    assert r.exit_code == 2
    r = CliRunner().invoke(
        app, ["qgis", "-o", str(tmp_path / "p.qgz"), "--source", "ogcapi", "--url", _url(engine)]
    )
    assert r.exit_code == 1 and "http(s) address" in r.output
    r = CliRunner().invoke(app, ["qgis", "-o", str(tmp_path / "p.qgz"), "--url", "http://x"])
    assert r.exit_code == 1 and "postgresql://" in r.output


def _rule_colours(maplayer: ET.Element) -> dict[str, str]:
    """Each rule's filter and the colour its symbol draws the features with."""
    renderer = maplayer.find("renderer-v2")
    assert renderer is not None
    symbols = {s.get("name"): s for s in renderer.findall("symbols/symbol")}
    out = {}
    for rule in renderer.iter("rule"):
        layer = symbols[rule.get("symbol")].find("layer")
        assert layer is not None
        options = {o.get("name"): o.get("value") for o in layer.findall("Option/Option")}
        out[rule.get("filter", "")] = options.get("line_color") or options.get("color") or ""
    return out


@pytest.mark.parametrize("source", ["postgis", "ogcapi"])
def test_condition_snapshot_beside_the_project_holds_the_librarys_classes(
    demo_engine, tmp_path, monkeypatch, source
):
    import geopandas as gpd
    import pyogrio

    from gis_registry.analysis.condition import CLASS_TERMS, UNKNOWN, UNKNOWN_TERM, latest_condition
    from gis_registry.fiscal import format_thai_date

    args = ["--source", "ogcapi", "--url", "http://gis.example:8080"] if source == "ogcapi" else []
    root, output = _write(tmp_path, _url(demo_engine), monkeypatch, *args)
    gpkg = tmp_path / "province_condition.gpkg"
    assert gpkg.is_file()
    today = date.today()
    said = [line for line in output.splitlines() if "condition snapshot" in line]
    assert len(said) == 1 and str(gpkg) in said[0] and today.isoformat() in said[0]
    assert format_thai_date(today) in said[0]

    snapshot = _layers(root, snapshot=True)
    assert len(snapshot) == 2
    tree = root.find("layer-tree-group")
    assert tree is not None
    condition = next(
        g for g in tree.findall("layer-tree-group") if g.get("name", "").endswith("Condition")
    )
    assert {x.get("id") for x in condition.findall("layer-tree-layer")} == set(snapshot)
    colours = {k: rgba(t.colour or "") for k, t in {**CLASS_TERMS, UNKNOWN: UNKNOWN_TERM}.items()}
    be = f"be{today.year + 543}-{today.month:02d}-{today.day:02d}_{today.isoformat()}"
    tables = {}
    for maplayer in snapshot.values():
        source_text = maplayer.findtext("datasource") or ""
        # relative: the project and its snapshot travel together
        assert source_text.startswith("./province_condition.gpkg|layername=")
        table = source_text.split("layername=", 1)[1]
        assert table.endswith(be)
        asset_type = table.split("_condition_", 1)[0]
        tables[asset_type] = table
        name = maplayer.findtext("layername") or ""
        assert format_thai_date(today) in name and today.isoformat() in name
        assert "re-run gis-registry qgis to refresh" in (maplayer.findtext("abstract") or "")
        assert _rule_colours(maplayer) == {f"\"condition\" = '{k}'": c for k, c in colours.items()}
    assert set(tables) == {"road", "bridge"}
    assert set(pyogrio.list_layers(gpkg)[:, 0]) == set(tables.values())

    with demo_engine.connect() as conn:
        latest = latest_condition(conn, asset_types=["road", "bridge"], as_of=today)
        names = {
            ("road", i): n for i, n in conn.execute(text("SELECT id, name_th FROM roads")).all()
        } | {("bridge", i): n for i, n in conn.execute(text("SELECT id, name_th FROM bridges"))}
    expected = {
        (t, int(i)): c if isinstance(c, str) else UNKNOWN
        for t, i, c in latest[["asset_type", "asset_id", "condition_class"]].itertuples(index=False)
    }
    assert UNKNOWN in expected.values() and len(set(expected.values())) >= 3
    written = {}
    for asset_type, table in tables.items():
        frame = gpd.read_file(gpkg, layer=table, engine="pyogrio")
        assert frame["asset_id"].is_unique
        for r in frame.itertuples(index=False):
            written[(asset_type, int(r.asset_id))] = r.condition
            assert r.name_th == names[(asset_type, int(r.asset_id))]  # Thai text intact
        assert frame.crs.to_epsg() == 4326
    assert written == expected  # one feature per asset, inspected or not, the library's class


def test_no_condition_leaves_the_snapshot_out(demo_engine, tmp_path, monkeypatch):
    root, output = _write(tmp_path, _url(demo_engine), monkeypatch, "--no-condition")
    assert not _layers(root, snapshot=True)
    assert not (tmp_path / "province_condition.gpkg").exists()
    assert "condition snapshot" not in output
