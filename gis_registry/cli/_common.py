"""Plumbing every command shares, written once: the engine, error printing, UTF-8 output of
reports (text, ``--json``, ``--csv``), dates, geometries and the closure options.

A user's mistake (any :class:`~gis_registry.errors.GisRegistryError`, or a database error
such as a refused connection) prints ``error: ...`` on stderr and exits 1; never a traceback.
Heavy imports (pandas, geopandas, the analyses) stay inside the functions: ``gis-registry
--help`` must start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from gis_registry.errors import GisRegistryError, ValidationError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from gis_registry.analysis.reports import Report
    from gis_registry.network.restrictions import Restrictions

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON (Thai as is, dates ISO)")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="print CSV (UTF-8)")]

# The closure vocabulary of every network command, the API and the route map.
ClosedRoad = Annotated[
    list[str] | None,
    typer.Option("--closed-road", help="closed road segment id (repeatable, or 12,14)"),
]
ClosedBridge = Annotated[
    list[str] | None, typer.Option("--closed-bridge", help="closed bridge id (repeatable)")
]
Hazard = Annotated[
    list[str] | None,
    typer.Option("--hazard", help="hazard area id (e.g. a flood) closing its roads (repeatable)"),
]
ClosedArea = Annotated[
    list[str] | None,
    typer.Option("--closed-area", help="area closed to traffic: WKT or a vector file"),
]
Tonnes = Annotated[
    float | None,
    typer.Option("--vehicle-tonnes", help="vehicle weight: lighter-rated bridges are closed"),
]
AllWeather = Annotated[
    bool, typer.Option("--all-weather", help="only all-weather surfaces (no laterite, earth)")
]


def fail(exc: BaseException | str) -> NoReturn:
    """Print ``error: ...`` (every line of a multi-problem error) and exit with code 1."""
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def write(text: str) -> None:
    """Write UTF-8 whatever the terminal's encoding (Thai must survive a pipe to a file)."""
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        stream.write(text)
        return
    stream.flush()
    buffer.write(text.encode("utf-8"))
    buffer.flush()


def echo(line: str = "") -> None:
    """One line of text output, in UTF-8."""
    write(line + "\n")


def print_json(payload: Any) -> None:
    """``payload`` (a ``to_dict()``: JSON-ready already) as indented JSON, Thai as is.

    The standard json module, not :func:`gis_registry.analysis.output.to_json`: importing
    pandas for that would add a sixth to every cold ``gis-registry route``.
    """
    import json

    write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's errors and database errors into ``error: ...`` and exit code 1."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except GisRegistryError as exc:
        fail(exc)
    except SQLAlchemyError as exc:
        fail(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0])


def engine() -> Engine:
    """An engine on the configured database (the embedded cluster or the URL setting)."""
    from gis_registry.db import make_engine
    from gis_registry.settings import Settings

    return make_engine(Settings())


def run(work: Callable[[Connection], T]) -> T:
    """``work(conn)`` on a connection that is rolled back afterwards (the analyses only read),
    user errors reported as ``error: ...``."""
    with user_errors():
        eng = engine()
        try:
            with eng.connect() as conn:
                return work(conn)
        finally:
            eng.dispose()


def emit(report: Report, *, as_json: bool, as_csv: bool, table: str | None = None) -> None:
    """Print a report: ``--json`` its :meth:`~Report.to_dict`, ``--csv`` one table, or text
    (the single figures, then the table)."""
    from gis_registry.analysis import output

    if as_json and as_csv:
        fail("choose one of --json and --csv")
    with user_errors():
        frame = report.table(table)
    if as_json:
        print_json(report.to_dict())
    elif as_csv:
        write(output.to_csv(frame))
    else:
        import pandas as pd

        lines = [report.title]
        lines += [
            f"{k}: {output.plain(v)}"
            for k, v in report.summary.items()
            if not isinstance(v, (list, dict))
        ]
        with pd.option_context("display.max_rows", 60, "display.width", 160):
            lines.append(output.table(frame).to_string(index=False) if len(frame) else "(none)")
        write("\n".join(lines) + "\n")


def parse_date(value: str | None, name: str) -> date | None:
    """A YYYY-MM-DD option as a date (None stays None)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(ValidationError("options", [(None, name, f"'{value}' is not a YYYY-MM-DD date")]))


def read_file(value: str, name: str) -> Any:
    """A vector file (any format GDAL reads) in EPSG:4326, read as the imports read it: a file
    that does not declare its CRS is refused, never taken for lon/lat."""
    from gis_registry.io.read import read_file as read

    try:
        frame = read(value)
    except GisRegistryError as exc:
        fail(ValidationError(name, [(None, "file", str(exc))]))
    if frame.empty:
        fail(ValidationError(name, [(None, "file", f"{value} holds no features")]))
    return frame


def read_geometry(value: str, name: str) -> Any:
    """WKT or GeoJSON text, or a vector file (reprojected to EPSG:4326, its features unioned)."""
    from gis_registry.validation import parse_geometry

    if Path(value).exists():
        return read_file(value, name).geometry.union_all()
    try:
        return parse_geometry(value)
    except Exception:  # shapely and json raise several types
        fail(ValidationError(name, [(None, "geometry", "neither a file, WKT nor GeoJSON")]))


def restrictions(
    closed_road: list[str] | None = None,
    closed_bridge: list[str] | None = None,
    hazard: list[str] | None = None,
    closed_area: list[str] | None = None,
    vehicle_tonnes: float | None = None,
    all_weather: bool = False,
) -> Restrictions:
    """The closure options as :class:`~gis_registry.network.restrictions.Restrictions`."""
    from gis_registry.network.restrictions import Restrictions

    areas = [read_geometry(a, "closed_area") for a in closed_area or ()]
    with user_errors():
        return Restrictions.parse(
            closed_road=closed_road,
            closed_bridge=closed_bridge,
            hazard=hazard,
            closed_area=areas,
            vehicle_tonnes=vehicle_tonnes,
            all_weather=all_weather,
        )


def progress() -> Any:
    """A rich progress display on stderr for long work (reading, validating, writing files);
    silent when stderr is not a terminal, so logs and tests stay clean."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=False,
    )
