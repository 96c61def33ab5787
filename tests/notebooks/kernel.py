"""Run a notebook in a real Jupyter kernel and read what it showed.

Used by the notebook tests and, by hand, while writing a notebook::

    GIS_REGISTRY_DATABASE_URL=postgresql://... python -m tests.notebooks.kernel \\
        notebooks/02_connectivity.ipynb

prints each cell's error (if any), the figures the notebook drew and its key numbers, and
writes the executed copy to ``tests/notebooks/artifacts/`` for a look in JupyterLab.
"""

from __future__ import annotations

import ast
import html
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parents[2] / "notebooks"
ARTIFACTS = Path(__file__).parent / "artifacts"
KEY_NUMBERS_TAG = "key-numbers"  # the cell whose value (a dict of plain numbers) tests compare
CELL_TIMEOUT_S = 300


def run_notebook(path: Path, database_url: str) -> nbformat.NotebookNode:
    """Execute ``path`` top to bottom in a fresh ``python3`` kernel (this interpreter's) whose
    registry is ``database_url``; raise nbclient's ``CellExecutionError`` on the first error.
    The executed copy is written to ``ARTIFACTS``."""
    nb = nbformat.read(path, as_version=4)
    env = {
        **os.environ,
        "GIS_REGISTRY_DATABASE_URL": database_url,
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
    }
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute(env=env)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        nbformat.write(nb, ARTIFACTS / path.name)
    return nb


def _outputs(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]


@dataclass
class Figures:
    """What an executed notebook drew: matplotlib images and HTML (Leaflet) maps."""

    images: int
    maps: int
    map_pages: list[str]  # each map's page (the iframe's srcdoc, unescaped)


_SRCDOC = re.compile(r'srcdoc="([^"]*)"')


def figures(nb: nbformat.NotebookNode) -> Figures:
    """Count the images (``image/png``) and the Leaflet maps (HTML) among the outputs."""
    images = 0
    pages: list[str] = []
    for out in _outputs(nb):
        data = out.get("data", {})
        images += "image/png" in data
        text = data.get("text/html", "")
        if "leaflet" in text.lower():
            found = _SRCDOC.search(text)
            pages.append(html.unescape(found.group(1)) if found else text)
    return Figures(images=images, maps=len(pages), map_pages=pages)


def key_numbers(nb: nbformat.NotebookNode) -> dict[str, Any]:
    """The value shown by the cell tagged ``key-numbers``: a dict literal of plain values."""
    cells = [c for c in nb.cells if KEY_NUMBERS_TAG in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise AssertionError(f"expected one cell tagged {KEY_NUMBERS_TAG!r}, found {len(cells)}")
    results = [o for o in cells[0].outputs if o.get("output_type") == "execute_result"]
    if not results:
        raise AssertionError(f"the {KEY_NUMBERS_TAG!r} cell shows no value")
    return ast.literal_eval(results[-1]["data"]["text/plain"])


def main(argv: list[str]) -> int:
    url = os.environ.get("GIS_REGISTRY_DATABASE_URL")
    if not url:
        print("set GIS_REGISTRY_DATABASE_URL to a registry holding the demo province")
        return 2
    for name in argv or sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")):
        path = Path(name) if Path(name).exists() else NOTEBOOKS / name
        nb = run_notebook(path, url)
        found = figures(nb)
        print(f"{path.name}: {found.images} images, {found.maps} maps")
        try:
            print(f"  key numbers: {key_numbers(nb)}")
        except AssertionError as exc:
            print(f"  {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
