"""``network check [--fix]``: the noding and topology checks of
:mod:`gis_registry.network.check`, printed (summary, then a short table), as JSON (the result's
``to_dict()``, the API's answer), as CSV (one row per finding) or written for QGIS."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_registry.cli._common import CsvOpt, JsonOpt, echo, engine, fail, print_json, user_errors
from gis_registry.cli._common import write as write_text
from gis_registry.cli.network import cli_network

if TYPE_CHECKING:
    from gis_registry.network.check import NetworkCheck

network_app = typer.Typer(
    help="The road network's topology: dangles, near misses, crossings, islands (and --fix).",
    no_args_is_help=True,
)
TABLE_ROWS = 30


def register(app: typer.Typer) -> None:
    """Add ``network`` to the main app."""
    app.add_typer(network_app, name="network")


def findings_csv(result: NetworkCheck) -> str:
    """The findings as CSV text (UTF-8), one row per finding, the tolerance on every row."""
    import csv
    import io

    from gis_registry.network.check import CSV_FIELDS, finding_rows

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(CSV_FIELDS), lineterminator="\n")
    writer.writeheader()
    writer.writerows(finding_rows(result))
    return out.getvalue()


def _metres(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} m"


def print_summary(result: NetworkCheck) -> None:
    """The counts per kind, the tolerance, the islands, then the first findings."""
    from gis_registry.network.check import DANGLE_SEARCH_M, KIND_LABELS, KINDS

    echo(
        f"network check: {result.n_roads:,} road segments, tolerance {result.tolerance_m:g} m "
        f"(network noding {result.noding_tolerance_m:g} m; metres in EPSG:{result.metric_srid})"
    )
    for kind in KINDS:
        th, en = KIND_LABELS[kind]
        echo(f"  {result.counts[kind]:>7,}  {en} / {th}")
    for island in result.islands[:20]:
        why = "the PAO office's" if island["main_by"] == "pao_office" else "the longest: no PAO"
        where = f"main network ({why})" if island["main"] else f"island #{island['component']}"
        away = "" if island["main"] else f", {_metres(island['distance_m'])} from the main network"
        echo(
            f"  {where}: {island['n_roads']:,} roads, {island['length_m'] / 1000:,.2f} km, "
            f"{island['n_villages']:,} villages, population {island['population']:,}{away}"
        )
        names = ", ".join(v["name_th"] for v in island["villages"][:10])
        if names:
            echo(f"      villages: {names}")
    if len(result.islands) > 20:
        echo(f"  ... and {len(result.islands) - 20:,} more islands")
    order = {kind: i for i, kind in enumerate(("crossing", "near_miss", "duplicate"))}
    shown = sorted(result.findings, key=lambda f: order.get(f["kind"], 9))[:TABLE_ROWS]
    if not shown:
        echo("no findings")
        return

    def far(value: float | None) -> str:  # a dangle with no other road within the search
        return f"> {DANGLE_SEARCH_M:,.0f} m" if value is None else _metres(value)

    echo(f"{'kind':<12} {'roads':<22} {'distance':>12}  position")
    for f in shown:
        roads = ",".join(str(i) for i in f["road_ids"][:3])
        roads += "..." if len(f["road_ids"]) > 3 else ""
        echo(
            f"{f['kind']:<12} {roads:<22} {far(f['distance_m']):>12}  {f['lon']:.6f},{f['lat']:.6f}"
        )
    if len(result.findings) > len(shown):
        echo(f"... {len(result.findings) - len(shown):,} more (--json, --csv or --report FILE)")


@network_app.command("check")
def check_command(
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="node same-layer crossings and snap near misses within the tolerance "
            "(one transaction, recorded in the history), then check again",
        ),
    ] = False,
    tolerance_m: Annotated[
        float | None,
        typer.Option(
            "--tolerance-m",
            help="near-miss tolerance in metres (default: DEFAULT_TOLERANCE_M of "
            "gis_registry.network.check, stated in the output)",
        ),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="write the findings as points: FILE.gpkg or FILE.geojson"),
    ] = None,
) -> None:
    """Find dangles, near misses, crossings without a junction, duplicate and zero-length
    segments and disconnected islands of the road network; --fix repairs the first three."""
    from gis_registry.network.check import DEFAULT_TOLERANCE_M, check_network, write_findings
    from gis_registry.network.fix import fix_network

    if as_json and as_csv:
        fail("choose one of --json and --csv")
    tol = DEFAULT_TOLERANCE_M if tolerance_m is None else tolerance_m
    fixed = None
    with user_errors():
        eng = engine()
        try:
            if fix:
                with eng.begin() as conn:  # committed only when the whole fix succeeded
                    fixed = fix_network(conn, tolerance_m=tol, network=cli_network(conn))
                    result = fixed.after_check or check_network(conn, tolerance_m=tol)
            else:
                with eng.connect() as conn:
                    result = check_network(conn, tolerance_m=tol, network=cli_network(conn))
                    conn.rollback()
        finally:
            eng.dispose()
        if report is not None:
            write_findings(result, report)
    if as_json:
        print_json(
            {"fix": fixed.to_dict(), "check": result.to_dict()} if fixed else result.to_dict()
        )
    elif as_csv:
        write_text(findings_csv(result))
    else:
        if fixed is not None:
            echo(
                f"fixed: noded {fixed.counts['crossing']} crossing(s), snapped "
                f"{fixed.counts['near_miss']} near miss(es); {len(fixed.roads_updated)} roads "
                "updated (each change is in the feature history)"
            )
            for item in fixed.left:
                echo(f"  left road {item['road_id']} as it is: {item['reason']}")
        print_summary(result)
    if report is not None and not (as_json or as_csv):
        echo(f"findings written to {report}")
