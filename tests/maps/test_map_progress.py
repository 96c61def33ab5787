"""``map all`` tells each map as it is written: the library reports before and after each."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.fixtures.servers import database_url

pytestmark = pytest.mark.db


def test_write_demo_maps_reports_each_map_as_it_goes(maps_conn, tmp_path):
    from gis_registry.maps.catalog import MAPS, write_demo_maps

    events: list[tuple] = []
    result = write_demo_maps(
        maps_conn,
        tmp_path,
        progress=lambda stage, done, total: events.append(("start", stage, done, total)),
        on_map=lambda name, path, why: events.append(
            ("done", name, path is not None and path.is_file(), why)
        ),
    )
    names = list(MAPS)
    expected = []
    for i, name in enumerate(names):
        written = name in result.paths
        expected += [
            ("start", name, i, len(names)),
            ("done", name, written, None if written else result.skipped[name]),
        ]
    expected.append(("start", "index", len(names), len(names)))
    assert events == expected
    assert sum(1 for e in events if e[0] == "done" and e[2]) >= 6  # maps on disk as told


def test_map_all_prints_every_map_and_the_index(maps_engine, monkeypatch, tmp_path):
    from gis_registry.cli import app
    from gis_registry.maps.catalog import MAPS

    url = database_url(maps_engine)
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    result = CliRunner().invoke(app, ["map", "all", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    firsts = [line.split(":")[0].strip() for line in lines]
    assert firsts[: len(MAPS)] == list(MAPS)  # in the order they were made
    assert "index" in firsts and str(tmp_path / "index.html") in result.stdout
