"""The ``gis-registry`` command. Thin: each command parses, calls the library, prints.

Heavy imports (geopandas, the generator) happen inside the commands that need them.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from gis_registry.errors import GisRegistryError
from gis_registry.settings import Settings

app = typer.Typer(
    help="Lampang PAO geospatial infrastructure asset registry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="The embedded PostGIS cluster.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


def _engine():
    from gis_registry.db import make_engine

    return make_engine(Settings())


# -- db --------------------------------------------------------------------------------------
@db_app.command("start")
def db_start() -> None:
    """Create (first time) and start the embedded cluster; print its URL."""
    from gis_registry.server import EmbeddedServer

    settings = Settings()
    if settings.database_url:
        typer.echo("GIS_REGISTRY_DATABASE_URL is set: using that database, nothing to start.")
        return
    try:
        server = EmbeddedServer(settings)
        server.start()
    except GisRegistryError as exc:
        _fail(exc)
    typer.echo(f"embedded PostGIS running on 127.0.0.1:{server.port} (data in {server.datadir})")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded cluster."""
    from gis_registry.server import EmbeddedServer

    try:
        stopped = EmbeddedServer(Settings()).stop()
    except GisRegistryError as exc:
        _fail(exc)
    typer.echo("stopped" if stopped else "not running")


@db_app.command("url")
def db_url() -> None:
    """Print the connection URL (last line), starting the embedded cluster if needed."""
    from gis_registry.server import database_url

    try:
        typer.echo(database_url(Settings()))
    except GisRegistryError as exc:
        _fail(exc)


@db_app.command("status")
def db_status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Versions (PostgreSQL, PostGIS, GEOS, PROJ, pgRouting), URL, data size, schema revision."""
    from gis_registry.db.status import database_status

    try:
        status = database_status(Settings())
    except GisRegistryError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(status, indent=2, ensure_ascii=False))
        return
    for key, value in status.items():
        typer.echo(f"{key:>18}: {value}")


# -- schema and data -------------------------------------------------------------------------
@app.command()
def migrate(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
    down: Annotated[bool, typer.Option("--down", help="downgrade to REVISION")] = False,
) -> None:
    """Bring the schema to REVISION (default: the latest)."""
    from gis_registry.db import migrate as m

    try:
        engine = _engine()
        (m.downgrade if down else m.upgrade)(engine, revision)
        typer.echo(f"schema at revision {m.current(engine)}")
    except GisRegistryError as exc:
        _fail(exc)


@app.command()
def demo(
    seed: Annotated[int, typer.Option(help="random seed; the same seed gives the same data")] = 52,
    scale: Annotated[float, typer.Option(help="1 = Lampang as it is; 100 = ~1M road segments")] = 1,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="do nothing when the registry already holds data")
    ] = False,
) -> None:
    """Load the deterministic Lampang demo province (replacing what the registry holds)."""
    from gis_registry.db import migrate as m
    from gis_registry.demo import load_demo, registry_is_empty

    try:
        engine = _engine()
        m.upgrade(engine)
        if if_empty and not registry_is_empty(engine):
            typer.echo(
                "registry already holds data; leaving it as it is (drop --if-empty to reload)"
            )
            return
        report = load_demo(engine, seed=seed, scale=scale)
    except GisRegistryError as exc:
        _fail(exc)
    for layer, count in report.counts.items():
        typer.echo(f"{layer:>20}: {count:>9,}")
    typer.echo(f"loaded in {report.seconds:.1f} s (seed {seed}, scale {scale:g})")


@app.command("import")
def import_(
    layer: Annotated[str, typer.Argument(help="layer to add to, e.g. water_sources")],
    path: Annotated[str, typer.Argument(help="GeoPackage, GeoJSON, FlatGeobuf, Shapefile...")],
    source_layer: Annotated[str | None, typer.Option(help="layer inside the file")] = None,
    crs: Annotated[str | None, typer.Option(help="CRS when the file declares none")] = None,
) -> None:
    """Validate and add every feature of a file to a layer (all or nothing)."""
    from gis_registry.io.files import import_file

    try:
        with _engine().begin() as conn:
            ids = import_file(conn, layer, path, source_layer=source_layer, crs=crs)
    except GisRegistryError as exc:
        _fail(exc)
    typer.echo(f"imported {len(ids)} {layer} (ids {min(ids)}-{max(ids)})")


@app.command("export")
def export(
    layer: Annotated[str, typer.Argument(help="layer to write")],
    path: Annotated[str, typer.Argument(help="output file; its extension picks the format")],
    crs: Annotated[str | None, typer.Option(help="output CRS, default EPSG:4326")] = None,
) -> None:
    """Write a layer to a file, Thai text in UTF-8."""
    from gis_registry.io.files import export_layer

    try:
        with _engine().connect() as conn:
            count = export_layer(conn, layer, path, crs=crs)
    except GisRegistryError as exc:
        _fail(exc)
    typer.echo(f"wrote {count} {layer} to {path}")


@app.command("demo-summary")
def demo_summary(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Summarise what the registry holds: counts, lengths, population, budgets."""
    from gis_registry.summary import registry_summary

    try:
        summary = registry_summary(_engine())
    except GisRegistryError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(summary, indent=2, ensure_ascii=False, default=str))
        return
    for section, values in summary.items():
        typer.echo(f"{section}")
        for key, value in values.items():
            typer.echo(f"  {key:<40} {value}")


def main() -> None:  # pragma: no cover
    try:
        app()
    except GisRegistryError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


# Commands contributed by the library's sub-packages (each keeps its heavy imports lazy).
from gis_registry.analysis.cli import register as _register_analysis  # noqa: E402
from gis_registry.auth_cli import register as _register_auth  # noqa: E402
from gis_registry.maps.cli import register as _register_maps  # noqa: E402
from gis_registry.network.cli import register as _register_network  # noqa: E402

_register_network(app)
_register_analysis(app)
_register_maps(app)
_register_auth(app)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    access_log: Annotated[
        bool, typer.Option(help="log every request (costs about a third of a small read)")
    ] = False,
) -> None:
    """Serve the OGC API - Features, the analyses, tiles and maps over HTTP."""
    # The web service lives in the top-level `api` package, on top of this library; it is
    # imported only here, at run time, so the library itself never depends on the web stack.
    import uvicorn

    uvicorn.run(
        "api.app:create_app",
        host=host,
        port=port,
        workers=workers,
        factory=True,
        access_log=access_log,
        http="api.protocol:HttpProtocol",
    )


if __name__ == "__main__":  # python -m gis_registry.cli
    app()
