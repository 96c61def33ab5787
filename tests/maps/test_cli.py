"""``gis-registry map ...``: the contract (``--offline`` writes a file that loads nothing from
outside the machine) and the demo set."""

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


def test_map_zoning_offline_is_self_contained(registry_env, tmp_path):
    out = tmp_path / "zoning.html"
    result = CliRunner().invoke(app, ["map", "zoning", "-o", str(out), "--offline"])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    check_offline(page)
    # nothing is loaded from anywhere, not even beside the file: everything is inline
    refs = [m.group(3) for m in LOADS.finditer(page)]
    assert all(ref.startswith("data:") for ref in refs), refs
    assert not (tmp_path / "zoning_files").exists()
    assert "ผังเมืองรวม" in page and "ก.1-ก.3" in page
    assert "inline" in result.output


def test_map_files_mode_and_options(registry_env, tmp_path):
    out = tmp_path / "east.html"
    result = CliRunner().invoke(
        app, ["map", "zoning", "-o", str(out), "--lgo", "521099", "--as-of", "2026-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "east_files" / "leaflet" / "dist" / "leaflet.js").is_file()
    assert "เทศบาลตำบลตะวันออก" in out.read_text(encoding="utf-8")
    bad = CliRunner().invoke(app, ["map", "zoning", "-o", str(out), "--lgo", "nowhere"])
    assert bad.exit_code == 1 and "no local body" in bad.output


def test_map_all_writes_the_demo_set(registry_env, tmp_path):
    result = CliRunner().invoke(app, ["map", "all", "-o", str(tmp_path / "maps")])
    assert result.exit_code == 0, result.output
    for name in ("zoning", "condition", "water", "route", "critical", "hazard", "index"):
        assert (tmp_path / "maps" / f"{name}.html").is_file(), name
    assert (tmp_path / "maps" / "lib" / "leaflet" / "dist" / "leaflet.js").is_file()
    assert str((tmp_path / "maps").resolve()) in result.output
