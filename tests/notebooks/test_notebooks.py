"""Every notebook: stored clean, tells a study, uses only the library, runs in a kernel offline."""

from __future__ import annotations

import ast

import nbformat
import pytest

from gis_registry.maps.offline import check_offline
from tests.notebooks.kernel import NOTEBOOKS, figures

pytestmark = pytest.mark.db

EXPECTED = (
    "01_getting_started.ipynb",
    "02_connectivity.ipynb",
    "03_water_coverage.ipynb",
    "04_maintenance_budget.ipynb",
    "05_zoning.ipynb",
)


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def test_the_five_studies_and_nothing_else():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == list(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_stored_valid_and_without_outputs(name):
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook with no code"
    assert all(c.outputs == [] and c.execution_count is None for c in code), (
        "store notebooks without outputs (Kernel > Restart and clear outputs)"
    )


@pytest.mark.parametrize("name", EXPECTED)
def test_a_study_question_first_conclusion_last(name):
    cells = _read(name).cells
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert "?" in cells[0].source, "the first cell asks the study's question"
    assert cells[-1].cell_type == "markdown" and "conclusion" in cells[-1].source.lower()


@pytest.mark.parametrize("name", EXPECTED)
def test_uses_the_library_never_the_api(name):
    source = "\n\n".join(c.source for c in _read(name).cells if c.cell_type == "code")
    tree = ast.parse(source)  # plain Python: no magics, so the code also runs as a script
    modules = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
        if node.__class__ is ast.Import or node.module
    }
    assert "gis_registry" in modules
    assert not modules & {"api", "fastapi", "httpx", "requests", "sqlalchemy", "psycopg"}


@pytest.mark.parametrize("name", EXPECTED)
def test_runs_in_a_kernel_and_draws_offline(name, executed):
    nb = executed(name)  # raises CellExecutionError naming the cell on any error
    found = figures(nb)
    assert found.images + found.maps >= 1, "a study shows at least one figure"
    for page in found.map_pages:
        check_offline(page)  # no script, stylesheet or CSS url() from another host
        assert "L.map(" in page


def test_maps_of_the_notebooks_draw_in_chromium_with_no_network(executed, tmp_path):
    """Each inline map page, as the notebook's iframe holds it, drawn by headless Chromium
    that can reach no other host: the map comes up, no console error, no request leaves."""
    from tests.maps.browser import chromium, open_map

    pages = [
        (name, i, page)
        for name in EXPECTED
        for i, page in enumerate(figures(executed(name)).map_pages)
    ]
    assert len(pages) >= 3  # route, critical bridges, water, zoning at least
    with chromium() as driver:
        for name, i, page in pages:
            path = tmp_path / f"{name}-{i}.html"
            path.write_text(page, encoding="utf-8")
            report = open_map(driver, path.as_uri())
            assert not report.console_errors, (name, i, report.console_errors)
            assert not report.external_requests, (name, i, report.external_requests)
