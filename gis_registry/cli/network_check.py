"""``network check [--fix]``: the noding and topology checks of
:mod:`gis_registry.network.check`, printed (summary, then a short table), as JSON (the result's
``to_dict()``, the API's answer), as CSV (one row per finding) or written for QGIS."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from gis_registry.cli._common import (
    AllOpt,
    Commands,
    CsvOpt,
    JsonOpt,
    LimitOpt,
    echo,
    engine,
    fail,
    print_json,
    user_errors,
)
from gis_registry.cli._common import write as write_text
from gis_registry.cli.network import cli_network

if TYPE_CHECKING:
    from gis_registry.network.check import NetworkCheck
    from gis_registry.network.fix import NetworkFix

network_app = typer.Typer(
    cls=Commands,
    help="The road network's topology: dangles, near misses, crossings, islands (and --fix).",
    no_args_is_help=True,
)


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


def check_text(result: NetworkCheck, *, limit: int | None, fixed: NetworkFix | None = None) -> str:
    """The check for a person: what a --fix did, the counts per kind, the network's parts
    (the main network and each island, with its villages), then the findings (crossings and
    near misses first), each list cut at ``limit`` rows."""
    from gis_registry.cli._human import (
        CHECK_COUNT_COLUMNS,
        CHECK_FINDING_COLUMNS,
        CHECK_ISLAND_COLUMNS,
        console_width,
        document,
        listing,
    )
    from gis_registry.network.check import DANGLE_SEARCH_M, KIND_LABELS, KINDS

    width = console_width()
    notes = []
    if fixed is not None:
        notes.append(
            f"fixed: noded {fixed.counts['crossing']} crossing(s), snapped "
            f"{fixed.counts['near_miss']} near miss(es); {len(fixed.roads_updated)} roads "
            "updated (each change is in the feature history)"
        )
        notes += [f"left road {i['road_id']} as it is: {i['reason']}" for i in fixed.left]
    counts = [
        {"count": result.counts[k], "en": KIND_LABELS[k][1], "th": KIND_LABELS[k][0]} for k in KINDS
    ]
    islands = []
    for island in result.islands:
        why = "the PAO office's" if island["main_by"] == "pao_office" else "the longest: no PAO"
        islands.append(
            {
                **island,
                "where": f"main network ({why})"
                if island["main"]
                else f"island #{island['component']}",
                "distance_m": None if island["main"] else island["distance_m"],
                "names": ", ".join(v["name_th"] for v in island["villages"]) or "-",
            }
        )
    order = {kind: i for i, kind in enumerate(("crossing", "near_miss", "duplicate"))}
    findings = []
    for f in sorted(result.findings, key=lambda f: order.get(f["kind"], 9)):
        far = f["distance_m"] is None  # a dangle with no other road within the search
        findings.append(
            {
                **f,
                "roads": ", ".join(str(i) for i in f["road_ids"]),
                "distance": f"> {DANGLE_SEARCH_M:,.0f} m" if far else f"{f['distance_m']:,.1f} m",
            }
        )
    hint = "use --limit N or --all; every finding: --json, --csv or --report FILE"
    blocks = [
        listing(counts, CHECK_COUNT_COLUMNS, heading="findings by kind", limit=None, width=width),
        listing(islands, CHECK_ISLAND_COLUMNS, heading="parts", limit=limit, width=width),
        listing(
            findings, CHECK_FINDING_COLUMNS, heading="findings", limit=limit, width=width, hint=hint
        ),
    ]
    title = (
        f"network check: {result.n_roads:,} road segments, tolerance {result.tolerance_m:g} m "
        f"(network noding {result.noding_tolerance_m:g} m; metres in EPSG:{result.metric_srid})"
    )
    return document(title, [], blocks, notes=notes)


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
            metavar="METRES",
            help="near-miss tolerance in metres (default: DEFAULT_TOLERANCE_M of "
            "gis_registry.network.check, stated in the output)",
        ),
    ] = None,
    limit: LimitOpt = None,
    show_all: AllOpt = False,
    as_json: JsonOpt = False,
    as_csv: CsvOpt = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="write the findings as points: FILE.gpkg or FILE.geojson",
        ),
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
        from gis_registry.cli._human import rows_limit

        write_text(check_text(result, limit=rows_limit(limit, show_all), fixed=fixed))
    if report is not None and not (as_json or as_csv):
        echo(f"findings written to {report}")
