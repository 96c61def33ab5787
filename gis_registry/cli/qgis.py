"""``qgis``: a QGIS project (``.qgz``) of every layer, styled as the maps, grouped, opening on
the province; its layers read the database (PostGIS) or this registry's OGC API."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from gis_registry.cli._common import echo, fail, user_errors

DEFAULT_API_URL = "http://127.0.0.1:8000"  # where ``gis-registry serve`` listens by default


class SourceChoice(StrEnum):
    """Where the project's layers read their features."""

    postgis = "postgis"
    ogcapi = "ogcapi"


def register(app: typer.Typer) -> None:
    """Add ``qgis`` to the main app."""
    app.command("qgis")(qgis)


def qgis(
    output: Annotated[
        Path, typer.Option("-o", "--output", metavar="FILE.qgz", help="the project to write")
    ],
    source: Annotated[
        SourceChoice, typer.Option(help="layers from the database or from the OGC API")
    ] = SourceChoice.postgis,
    url: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="where the layers read: postgis, a database URL to connect as (e.g. the "
            "one `db role add NAME --viewer` prints; default the registry's, as `db url` "
            f"prints); ogcapi, the API's address (default {DEFAULT_API_URL})",
        ),
    ] = None,
    api_url: Annotated[
        str | None, typer.Option(metavar="URL", help="ogcapi: the API's address (as --url)")
    ] = None,
    service: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="postgis: layers name this pg_service.conf entry instead of host, port, user",
        ),
    ] = None,
    password: Annotated[
        bool | None,
        typer.Option(
            "--password/--no-password",
            help="postgis: write the role's password into the project (refused for a "
            "superuser; default: a login role's yes, a superuser's no: QGIS asks for it)",
        ),
    ] = None,
    condition: Annotated[
        bool,
        typer.Option(
            "--condition/--no-condition",
            help="add the roads' and bridges' condition classes of today, as a snapshot "
            "GeoPackage written beside the project (FILE_condition.gpkg)",
        ),
    ] = True,
) -> None:
    """Write a QGIS project: every layer styled as the maps (DPT zoning colours and hatching,
    water kinds, hazard levels, roads by class, condition classes), Thai/English labels,
    layers grouped.

    The condition classes are the library's computation from the latest inspections, not a
    column: they go into ``FILE_condition.gpkg`` beside the project (referenced relatively, so
    keep the two together), a snapshot of today; re-run to refresh it."""
    from gis_registry.db import make_engine
    from gis_registry.server import database_url
    from gis_registry.settings import Settings
    from gis_registry.styles.condition import snapshot_path, write_condition_snapshot
    from gis_registry.styles.project import (
        PostgisSource,
        build_project,
        is_superuser,
        write_qgz,
    )

    if output.suffix.lower() != ".qgz":
        fail(f"--output must name a .qgz file, not '{output}'")
    if not output.parent.exists():
        fail(f"--output: folder '{output.parent}' does not exist")
    ogcapi = source is SourceChoice.ogcapi
    if ogcapi and url and api_url and url != api_url:
        fail("--url and --api-url name two different APIs: give one")
    address = (url or api_url or DEFAULT_API_URL) if ogcapi else None
    if address is not None and not address.startswith(("http://", "https://")):
        fail(f"--url: '{address}' is not the http(s) address of an OGC API")
    if not ogcapi and url and not url.startswith(("postgresql", "postgres://")):
        fail("--url: a PostGIS project needs a postgresql://user@host:port/db URL")
    note = None
    snapshot = None
    with user_errors():
        settings = Settings()
        # an OGC API project still reads the palette and the province here, from the database
        # the API serves (the registry's)
        db_url = (None if ogcapi else url) or database_url(settings)
        engine = make_engine(settings, url=db_url)
        try:
            with engine.connect() as conn:
                postgis = None
                if not ogcapi:
                    superuser = is_superuser(conn)
                    if password and superuser:
                        fail(
                            "--password: the role is a superuser; a project file travels, so "
                            "it never holds a superuser's password (connect as a role of "
                            "`gis-registry db role add`, with --url)"
                        )
                    embed = (not superuser) if password is None else password
                    postgis = PostgisSource.from_url(
                        db_url, with_password=embed and not service, service=service
                    )
                    if not embed and not service:
                        note = (
                            f"password of '{postgis.user}' not written into the project: QGIS "
                            "asks for it (or set PGPASSWORD / ~/.pgpass; --url with a role of "
                            "`db role add` to embed that role's)"
                        )
                if condition:
                    # from the database this command reads (an OGC API project: the one the
                    # API serves, the registry's), computed as the condition map computes it
                    snapshot = write_condition_snapshot(conn, snapshot_path(output))
                document = build_project(
                    conn,
                    source=source.value,
                    postgis=postgis,
                    api_url=address,
                    snapshot=(snapshot.path.name, snapshot.layers) if snapshot else None,
                )
        finally:
            engine.dispose()
        write_qgz(output, document)
    if note:
        typer.secho(f"note: {note}", err=True)
    if snapshot is not None:
        echo(
            f"condition snapshot of {snapshot.day_text}: {snapshot.path} (keep it beside the "
            "project; re-run gis-registry qgis to refresh)"
        )
    echo(str(output))
