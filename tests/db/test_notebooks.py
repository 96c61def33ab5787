"""Notebooks run top to bottom against the demo province and use only the library."""

import ast
import json
from pathlib import Path

import pytest

from gis_registry import Registry

pytestmark = pytest.mark.db

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def _code(path: Path) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_library_not_api(path):
    tree = ast.parse(_code(path))
    modules = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    }
    assert "api" not in modules and "gis_registry" in modules


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_on_demo(path, demo_engine, monkeypatch):
    monkeypatch.setattr(Registry, "connect", classmethod(lambda cls, *a, **k: cls(demo_engine)))
    namespace: dict = {}
    exec(compile(_code(path), str(path), "exec"), namespace)  # noqa: S102 - our own notebook
    assert len(namespace["lgos"]) >= 100
    assert namespace["km"].sum() > 1000  # the demo province has thousands of km of road
