"""``gis-registry map ...``: the contract (a map file is self-contained by default: it loads
nothing from outside the machine, nor from beside the file; ``--shared-assets DIR`` opts into
one shared copy of the libraries) and the demo set."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from gis_registry.cli import app
from gis_registry.maps.offline import check_offline
from tests.fixtures.servers import database_url

pytestmark = pytest.mark.db

LOADS = re.compile(
    r"""<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*["']([^"']*)""", re.IGNORECASE
)


@pytest.fixture()
def registry_env(maps_engine, monkeypatch):
    """Point the CLI (which builds its own engine from Settings) at the maps test database."""
    url = database_url(maps_engine)
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    assert make_url(url).database.endswith(tuple("0123456789"))  # a test database


def self_contained(page: str) -> None:
    """Nothing is loaded from anywhere, not even beside the file: everything is inline."""
    check_offline(page)
    refs = [m.group(3) for m in LOADS.finditer(page)]
    assert all(ref.startswith("data:") for ref in refs), refs


def test_map_zoning_is_self_contained_by_default(registry_env, tmp_path):
    out = tmp_path / "zoning.html"
    result = CliRunner().invoke(app, ["map", "zoning", "-o", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    self_contained(page)
    assert not (tmp_path / "zoning_files").exists() and not (tmp_path / "lib").exists()
    assert "ผังเมืองรวม" in page and "ก.1-ก.3" in page
    assert "inline" in result.output


def test_offline_flag_is_kept_as_a_no_op(registry_env, tmp_path):
    """Scripts written for the old flag still run; it says it is the default now."""
    out = tmp_path / "zoning.html"
    result = CliRunner().invoke(app, ["map", "zoning", "-o", str(out), "--offline"])
    assert result.exit_code == 0, result.output
    self_contained(out.read_text(encoding="utf-8"))
    assert "--offline is the default now" in result.output


def test_shared_assets_and_options(registry_env, tmp_path):
    out = tmp_path / "maps" / "east.html"
    lib = tmp_path / "lib"
    result = CliRunner().invoke(
        app,
        ["map", "zoning", "-o", str(out), "--lgo", "521099", "--as-of", "2026-01-01"]
        + ["--shared-assets", str(lib)],
    )
    assert result.exit_code == 0, result.output
    assert (lib / "leaflet" / "dist" / "leaflet.js").is_file()
    page = out.read_text(encoding="utf-8")
    assert '<script src="../lib/leaflet/dist/leaflet.js"></script>' in page  # relative
    assert "เทศบาลตำบลตะวันออก" in page
    assert "shared in" in result.output
    files = CliRunner().invoke(app, ["map", "zoning", "-o", str(out), "--assets", "files"])
    assert files.exit_code == 0, files.output
    assert (tmp_path / "maps" / "east_files" / "leaflet" / "dist" / "leaflet.js").is_file()
    bad = CliRunner().invoke(app, ["map", "zoning", "-o", str(out), "--lgo", "nowhere"])
    assert bad.exit_code == 1 and "no local body" in bad.output
    bad = CliRunner().invoke(app, ["map", "zoning", "-o", str(out), "--assets", "url"])
    assert bad.exit_code == 1 and "--assets must be one of" in bad.output
    both = ["--assets", "inline", "--shared-assets", str(lib)]
    bad = CliRunner().invoke(app, ["map", "zoning", "-o", str(out), *both])
    assert bad.exit_code == 1 and "--shared-assets" in bad.output


def test_map_all_writes_the_demo_set(registry_env, tmp_path):
    result = CliRunner().invoke(app, ["map", "all", "-o", str(tmp_path / "maps")])
    assert result.exit_code == 0, result.output
    for name in ("zoning", "condition", "water", "route", "critical", "hazard", "index"):
        assert (tmp_path / "maps" / f"{name}.html").is_file(), name
    for name in ("zoning", "condition", "water", "route", "critical", "hazard"):
        self_contained((tmp_path / "maps" / f"{name}.html").read_text(encoding="utf-8"))
    assert [p.name for p in (tmp_path / "maps").iterdir() if p.is_dir()] == []
    assert str((tmp_path / "maps").resolve()) in result.output
    shared = CliRunner().invoke(
        app,
        ["map", "all", "-o", str(tmp_path / "shared"), "--shared-assets", str(tmp_path / "lib")],
    )
    assert shared.exit_code == 0, shared.output
    assert (tmp_path / "lib" / "leaflet" / "dist" / "leaflet.js").is_file()
    page = (tmp_path / "shared" / "zoning.html").read_text(encoding="utf-8")
    assert 'src="../lib/leaflet/dist/leaflet.js"' in page
