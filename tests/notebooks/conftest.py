"""Notebooks executed once per session in a real kernel, against the scale-1 demo province."""

from __future__ import annotations

from collections.abc import Callable

import nbformat
import pytest
from sqlalchemy import Engine

from gis_registry import Registry
from tests.notebooks.kernel import NOTEBOOKS, run_notebook


@pytest.fixture(scope="session")
def executed(demo_engine: Engine) -> Callable[[str], nbformat.NotebookNode]:
    """``executed("02_connectivity.ipynb")``: the notebook run top to bottom (once a session)."""
    url = demo_engine.url.render_as_string(hide_password=False)
    cache: dict[str, nbformat.NotebookNode] = {}

    def run(name: str) -> nbformat.NotebookNode:
        if name not in cache:
            cache[name] = run_notebook(NOTEBOOKS / name, url)
        return cache[name]

    return run


@pytest.fixture(scope="session")
def demo_registry(demo_engine: Engine) -> Registry:
    """The library's front door on the same demo database the notebooks read."""
    return Registry(demo_engine)
