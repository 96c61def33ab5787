"""``lgo list``: the local bodies with their codes, Thai and English names, kind and district,
so that a person can find the code (or the name) every LGO argument takes."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gis_registry.cli._common import JsonOpt, echo, print_json, run, user_errors, write

lgo_app = typer.Typer(
    help="Local bodies (LGOs): codes and names, which every LGO argument accepts.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``lgo`` to the main app."""
    app.add_typer(lgo_app, name="lgo")


@lgo_app.command("list")
def lgo_list(
    district: Annotated[
        str | None,
        typer.Option("--district", help="only this district's: its code (5203) or name"),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind",
            help="only this kind: pao, city, town, subdistrict (municipality) or sao "
            "(or the key, e.g. town_municipality)",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the local bodies: code, Thai and English names, kind and district.

    Routes, the matrix and the route map take an LGO by code or by unique Thai or English name.

    For example "Ko Kha SAO" or "อบต.เกาะคา" (an ambiguous name lists the candidates).
    """
    from gis_registry.errors import InvalidParameter
    from gis_registry.queries.places import local_bodies

    def work(conn: Any) -> list[dict[str, Any]]:
        try:
            return local_bodies(conn, district=district, kind=kind)
        except InvalidParameter as exc:  # a wrong option is a usage error: exit 2
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(code=2) from None

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    echo(_summary(rows, district, kind))
    if rows:
        with user_errors():
            write(_table(rows))


def _summary(rows: list[dict[str, Any]], district: str | None, kind: str | None) -> str:
    """'103 local bodies: 1 pao, 1 city_municipality, ...' with the filters that applied."""
    from collections import Counter

    from gis_registry.queries.places import KIND_SHORT

    where = []
    if kind is not None:
        where.append(f"of kind {rows[0]['kind'] if rows else kind}")
    if district is not None and rows:
        where.append(f"in district {rows[0]['district_code']} {rows[0]['district_name_en']}")
    elif district is not None:
        where.append(f"in district {district}")
    head = " ".join([f"{len(rows)} local bod{'y' if len(rows) == 1 else 'ies'}", *where])
    counts = Counter(KIND_SHORT.get(r["kind"], r["kind"]) for r in rows)
    if kind is not None or not counts:
        return head
    return f"{head}: " + ", ".join(f"{n} {k}" for k, n in counts.items())


def _table(rows: list[dict[str, Any]]) -> str:
    """The rows as a table that fits the terminal (100 columns off one), in the look of the
    other commands (:mod:`gis_registry.cli._human`), but with every name whole: a name is what
    a person copies from here, so English names and districts wrap rather than end in "…"
    (and Thai, which has no spaces to wrap at, is never cut)."""
    from rich import box
    from rich.table import Table

    from gis_registry.cli._human import console_width, render
    from gis_registry.queries.places import KIND_SHORT

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),
        header_style="bold",
    )
    table.add_column("code", no_wrap=True)
    table.add_column("Thai name", no_wrap=True)
    table.add_column("English name")
    table.add_column("kind", no_wrap=True)
    table.add_column("district")
    for r in rows:
        district = f"{r['district_code']} {r['district_name_en']}" if r["district_code"] else "-"
        kind = KIND_SHORT.get(r["kind"], r["kind"])
        table.add_row(r["code"], r["name_th"], r["name_en"], kind, district)
    return render([table], width=console_width())
