"""``import`` and ``export``: the province's own files in and out of the registry."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gis_registry.cli._common import Command, echo, engine, print_json, progress, user_errors


def register(app: typer.Typer) -> None:
    """Add the file commands to the main app."""
    app.command("import", cls=Command)(import_)
    app.command("export", cls=Command)(export)
    app.command("import-osm", cls=Command)(import_osm)


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """``["dst=src", ...]`` as a dict; a value without ``=`` is a usage error (exit 2)."""
    out: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"'{item}' is not NAME=VALUE", param_hint=option)
        out[name.strip()] = value
    return out


def import_(
    layer: Annotated[str, typer.Argument(help="layer to load into, e.g. water_sources")],
    path: Annotated[
        str,
        typer.Argument(
            help="GeoPackage, GeoJSON, FlatGeobuf, Shapefile (or .zip), CSV, XLSX, GeoParquet"
        ),
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="FIELD=COLUMN",
            help="FIELD=COLUMN: take a field from a column of the file",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", metavar="FIELD=VALUE", help="FIELD=VALUE: the same value for every record"
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(help="YAML mapping file (columns, constants, value maps, derived fields)"),
    ] = None,
    ignore_extra: Annotated[
        bool, typer.Option("--ignore-extra", help="skip columns the layer does not have")
    ] = False,
    crs: Annotated[
        str | None, typer.Option(help="CRS of a file that declares none, e.g. EPSG:32647")
    ] = None,
    crs_override: Annotated[
        bool, typer.Option("--crs-override", help="let --crs replace the CRS the file declares")
    ] = False,
    encoding: Annotated[
        str | None, typer.Option(help="text encoding of a Shapefile/CSV, e.g. cp874 (TIS-620)")
    ] = None,
    source_layer: Annotated[str | None, typer.Option(help="layer inside the file")] = None,
    mode: Annotated[
        str, typer.Option(help="append | upsert (by natural key) | replace (layer = file)")
    ] = "append",
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="validate against the database, write nothing")
    ] = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="write the valid records, report the rest")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="write every problem to FILE (.json or .csv)")
    ] = None,
) -> None:
    """Validate a file and load it into a layer: all or nothing unless --skip-invalid.

    Exit code 0 when everything was loaded (or would be, with --dry-run), 1 when records
    were refused, 2 for a usage error.
    """
    from gis_registry.io.load import MODES, ImportOptions, import_file, write_report
    from gis_registry.io.mapping import FieldMapping

    if mode not in MODES:
        raise typer.BadParameter(f"'{mode}' is not one of {', '.join(MODES)}", param_hint="--mode")
    columns, constants = _pairs(map_, "--map"), _pairs(set_, "--set")
    with user_errors():
        field_mapping = FieldMapping.load(mapping) if mapping else FieldMapping()
        field_mapping = field_mapping.with_options(
            columns=columns, constants=constants, ignore_extra=ignore_extra
        )
        options = ImportOptions(
            mapping=field_mapping,
            source_layer=source_layer,
            crs=crs,
            crs_override=crs_override,
            encoding=encoding,
            mode=mode,
            dry_run=dry_run,
            skip_invalid=skip_invalid,
        )
        eng = engine()
        try:
            result = import_file(eng, layer, path, options, progress=progress())
        finally:
            eng.dispose()
        if report is not None:
            write_report(result, report)
    for line in result.lines():
        echo(line)
    if result.problems and not skip_invalid:
        raise typer.Exit(1)


def export(
    layer: Annotated[str, typer.Argument(help="layer to write")],
    path: Annotated[
        str,
        typer.Argument(
            help="output file: .gpkg .geojson .fgb .shp .csv .xlsx .parquet (by extension)"
        ),
    ],
    bbox: Annotated[
        str | None, typer.Option(help="minlon,minlat,maxlon,maxlat: only features inside it")
    ] = None,
    where: Annotated[
        str | None, typer.Option(help="CQL2 text filter, e.g. \"surface = 'laterite'\"")
    ] = None,
    crs: Annotated[str | None, typer.Option(help="output CRS, default EPSG:4326")] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="replace an existing file")
    ] = False,
) -> None:
    """Write a layer to a file, Thai text in UTF-8, references as codes (re-imports unchanged)."""
    from gis_registry.io.export import export_layer, parse_bbox

    with user_errors():
        box = parse_bbox(bbox) if bbox else None
        eng = engine()
        try:
            with eng.connect() as conn:
                count = export_layer(
                    conn, layer, path, bbox=box, where=where, crs=crs, overwrite=overwrite
                )
        finally:
            eng.dispose()
    echo(f"wrote {count:,} {layer} to {path}")


def import_osm(
    path: Annotated[str, typer.Argument(help="OpenStreetMap extract: .osm.pbf, .osm, .osm.bz2")],
    within: Annotated[
        Path | None,
        typer.Option(help="keep features intersecting this boundary file's polygons (whole)"),
    ] = None,
    within_province: Annotated[
        bool,
        typer.Option("--within-province", help="keep features intersecting the PAO boundary"),
    ] = False,
    layers: Annotated[
        str, typer.Option(help="comma-separated: roads,bridges,water_sources")
    ] = "roads,bridges,water_sources",
    mapping: Annotated[
        Path | None, typer.Option(help="OSM tag mapping (default data/mappings/osm.yaml)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="check against the database, write nothing")
    ] = False,
    report: Annotated[
        Path | None, typer.Option(help="write the whole result to FILE (.json)")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Import roads, bridges and water sources from OpenStreetMap, upserting by OSM id.

    Exit code 0 when everything was loaded (or would be, with --dry-run), 1 when records
    were refused or the input cannot be used, 2 for a usage error.
    """
    from gis_registry.io.osm import OsmMapping, OsmOptions, import_osm

    if within is not None and within_province:
        raise typer.BadParameter("give --within or --within-province, not both")
    with user_errors():
        options = OsmOptions(
            mapping=OsmMapping.load(mapping) if mapping else None,
            layers=tuple(name.strip() for name in layers.split(",") if name.strip()),
            within=within,
            within_province=within_province,
            dry_run=dry_run,
        )
        eng = engine()
        try:
            result = import_osm(eng, path, options, progress=None if as_json else progress())
        finally:
            eng.dispose()
        if report is not None:
            _write_json(result.to_dict(), report)
    if as_json:
        print_json(result.to_dict())
    else:
        for line in result.lines():
            echo(line)
    if result.problems:
        raise typer.Exit(1)


def _write_json(payload: dict, path: Path) -> None:
    import json

    from gis_registry.errors import GisRegistryError

    try:
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    except OSError as exc:
        raise GisRegistryError(f"cannot write the report {path}: {exc.strerror}") from None
