"""``backup FILE`` and ``restore FILE [--yes]``: the registry's database to a file and back
(:mod:`gis_registry.db.backup`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from gis_registry.cli._common import echo, fail, user_errors


def register(app: typer.Typer) -> None:
    """Add ``backup`` and ``restore`` to the main app."""
    app.command()(backup)
    app.command()(restore)


def interactive() -> bool:
    """Whether a person can answer a question on stdin (tests replace this)."""
    return sys.stdin.isatty()


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def backup(
    file: Annotated[Path, typer.Argument(help="the backup to write (pg_dump custom format)")],
) -> None:
    """Write the registry's database (layers, history, users and keys) to FILE.

    A pg_dump archive in the custom format, with the schema revision in it; written under a
    temporary name and renamed when complete, so a failed backup leaves no FILE behind.
    """
    from gis_registry.db.backup import backup as write_backup

    with user_errors():
        info = write_backup(file)
    echo(
        f"backed up {len(info.tables)} tables at schema revision {info.revision} "
        f"to {info.path} ({_size(info.size_bytes)})"
    )


def restore(
    file: Annotated[Path, typer.Argument(help="a backup written by `gis-registry backup`")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
) -> None:
    """Replace the registry's data with the backup in FILE (all or nothing).

    Asks first; without a terminal to ask on, pass --yes. Refuses a backup made by a newer
    schema revision than this gis-registry knows; after restoring an older one, run
    `gis-registry migrate`.
    """
    from gis_registry.db.backup import check_revision, database_name, read_dump
    from gis_registry.db.backup import restore as run_restore

    with user_errors():
        info = read_dump(file)
        check_revision(info)
        echo(
            f"{info.path}: schema revision {info.revision}, {len(info.tables)} tables, "
            f"{_size(info.size_bytes)}"
        )
        echo(
            f"restoring replaces every table of the registry in database {database_name()}: "
            "layers, history, users and keys"
        )
        if not yes:
            if not interactive():
                fail("not restoring without confirmation: pass --yes to restore without a terminal")
            typer.confirm("replace the registry's data?", abort=True)
        done = run_restore(file)
    echo(f"restored {len(done.dump.tables)} tables in {done.seconds:.1f} s")
    if done.needs_migrate:
        echo(
            f"the restored schema is at revision {done.dump.revision}, this gis-registry's is "
            f"{done.head}: run `gis-registry migrate`"
        )
