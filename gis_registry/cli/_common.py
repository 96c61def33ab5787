"""Plumbing every command shares, written once: the engine, error printing, UTF-8 output of
reports (text for people via :mod:`gis_registry.cli._human`, ``--json``, ``--csv``), dates,
amounts, geometries, the closure options, and help that shows flags as flags.

A user's mistake (any :class:`~gis_registry.errors.GisRegistryError`, or a database error
such as a refused connection) prints ``error: ...`` on stderr and exits 1; never a traceback.
Heavy imports (pandas, geopandas, the analyses) stay inside the functions: ``gis-registry
--help`` must start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar, get_args, get_origin

import typer
from typer.core import TyperCommand, TyperGroup

from gis_registry.errors import AmbiguousName, GisRegistryError, ValidationError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from gis_registry.analysis.reports import Report
    from gis_registry.network.restrictions import Restrictions

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON (Thai as is, dates ISO)")]
CsvOpt = Annotated[bool, typer.Option("--csv", help="print CSV (UTF-8)")]
# How many rows of each long list the text output prints (--json and --csv give every row).
LimitOpt = Annotated[
    int | None,
    typer.Option(
        "--limit", min=1, metavar="N", help="rows of each list in the text output (default 20)"
    ),
]
AllOpt = Annotated[bool, typer.Option("--all", help="every row in the text output")]
DATE = "YYYY-MM-DD"  # the metavar of every date option

# The closure vocabulary of every network command, the API and the route map.
ClosedRoad = Annotated[
    list[str] | None,
    typer.Option(
        "--closed-road", metavar="ID", help="closed road segment id (repeatable, or 12,14)"
    ),
]
ClosedBridge = Annotated[
    list[str] | None,
    typer.Option("--closed-bridge", metavar="ID", help="closed bridge id (repeatable)"),
]
Hazard = Annotated[
    list[str] | None,
    typer.Option(
        "--hazard",
        metavar="ID",
        help="hazard area id (e.g. a flood) closing its roads (repeatable)",
    ),
]
ClosedArea = Annotated[
    list[str] | None,
    typer.Option(
        "--closed-area", metavar="WKT|FILE", help="area closed to traffic: WKT or a vector file"
    ),
]
Tonnes = Annotated[
    float | None,
    typer.Option(
        "--vehicle-tonnes",
        metavar="TONNES",
        help="vehicle weight: lighter-rated bridges are closed",
    ),
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
    """Turn the library's errors and database errors into ``error: ...`` and exit code 1 (2
    for a name several records answer to)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except AmbiguousName as exc:  # a usage error: exit 2, the candidates one a line
        typer.secho(f"error: {exc.listing()}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
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


def emit(
    report: Report,
    *,
    as_json: bool,
    as_csv: bool,
    table: str | None = None,
    limit: int | None = None,
    everything: bool = False,
) -> None:
    """Print a report: ``--json`` its :meth:`~Report.to_dict`, ``--csv`` one table (all rows),
    or text for people (:func:`gis_registry.cli._human.render_report`: the summary, then its
    tables cut at ``limit`` rows unless ``everything``)."""
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
        from gis_registry.cli._human import render_report

        with user_errors():
            write(render_report(report, table=table, limit=limit, everything=everything))


def parse_date(value: str | None, name: str) -> date | None:
    """A YYYY-MM-DD option as a date (None stays None)."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(ValidationError("options", [(None, name, f"'{value}' is not a YYYY-MM-DD date")]))


def parse_amount(value: str, name: str = "budget_thb") -> float:
    """An amount of THB as people write it (``50m``, ``50,000,000``, ``5e7``); a wrong one is
    one line naming the option and the forms accepted, exit code 1."""
    from gis_registry.fiscal import parse_amount as parse

    try:
        return parse(value, field=name, layer="options")
    except ValidationError as exc:
        fail(exc)


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


# -- help ------------------------------------------------------------------------------------
# Typer 0.29's rich help prints every option's Python type (`--json <bool>`, `--kind
# <list[str]>`), flags included. Click's convention is kept instead: a flag shows no value, an
# option shows what to write (its own metavar when it has one, else one of these).
_METAVARS: dict[Any, str] = {int: "INTEGER", float: "NUMBER", str: "TEXT", Path: "PATH"}


def plain_metavars(params: Iterable[Any]) -> None:
    """Give each option without a metavar one a person reads: none for a flag, ``NUMBER``,
    ``TEXT``, ``PATH`` or the choices (``time|distance``) for the others."""
    for param in params:
        if getattr(param, "param_type_name", None) != "option" or param.metavar is not None:
            continue
        if param.is_flag or param.count:
            param.metavar = ""
            continue
        desc = param.type_descriptor
        if desc.is_choice:
            choices = desc.choices or ()
            param.metavar = "|".join(str(getattr(c, "value", c)) for c in choices)
            continue
        annotation = desc.annotation
        if get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            param.metavar = "|".join(str(m.value) for m in annotation)
        else:
            param.metavar = _METAVARS.get(annotation, getattr(annotation, "__name__", "VALUE"))


def _plain_help(command: Any, ctx: Any) -> None:
    plain_metavars(command.get_params(ctx))  # the --help option too (made on first use)
    for sub in getattr(command, "commands", {}).values():
        _plain_help(sub, ctx)


class Command(TyperCommand):
    """A command whose ``--help`` shows flags as flags (:func:`plain_metavars`); for commands
    added straight to the main app (``app.command("route", cls=Command)``)."""

    def get_params(self, ctx: Any) -> list[Any]:  # noqa: D102 (click's)
        params = super().get_params(ctx)
        plain_metavars(params)
        return params


class Commands(TyperGroup):
    """A command group whose help, and the help of every command under it, shows flags as
    flags (:func:`plain_metavars`): ``typer.Typer(cls=Commands)``."""

    def get_params(self, ctx: Any) -> list[Any]:  # noqa: D102 (click's)
        params = super().get_params(ctx)
        plain_metavars(params)
        return params

    def get_command(self, ctx: Any, cmd_name: str) -> Any:  # noqa: D102 (click's)
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _plain_help(command, ctx)
        return command
