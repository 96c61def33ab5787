"""Alembic, driven from Python so no alembic.ini has to sit in the working directory; and the
PostgreSQL extensions the schema needs, created before it (:func:`ensure_extensions`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from gis_registry.errors import MissingExtension
from gis_registry.server import EXTENSIONS

MIGRATIONS = Path(__file__).parent / "migrations"
# The Debian/Ubuntu package of each extension, for the server's major version (Debian 12:
# PostgreSQL 15); an extension not listed is looked for under the distribution's usual name.
PACKAGES = {
    "postgis": "postgresql-{major}-postgis-3",
    "pgrouting": "postgresql-{major}-pgrouting",
}


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config for our migrations that hands ``engine`` to ``migrations/env.py``
    (none: to read the migrations themselves, :func:`head_revision`)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest schema revision this code knows (the head of its migrations)."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def known_revisions() -> set[str]:
    """Every schema revision this code's migrations know."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    return {script.revision for script in scripts.walk_revisions()}


def package_of(extension: str, major: int) -> str:
    """The OS package (Debian/Ubuntu) that provides ``extension`` to PostgreSQL ``major``."""
    return PACKAGES.get(extension, "postgresql-{major}-" + extension).format(major=major)


def _server_major(conn: Connection) -> int:
    """The server's major version: 15 for 15.5 (``server_version_num`` 150005)."""
    return int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10_000


def ensure_extensions(engine: Engine) -> list[str]:
    """Create the extensions the registry needs (:data:`~gis_registry.server.EXTENSIONS`:
    PostGIS for the geometry columns, pgRouting for the reach analyses) where they are missing.

    Returns
    -------
    list[str]
        The extensions created (none when all were there: then nothing is asked of the role).

    Raises
    ------
    MissingExtension
        In one line: the server has no such extension (naming the OS package to install on
        it, for the server's major version), or the role may not create it (naming who may).
    """
    with engine.connect() as conn:
        installed = set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
        missing = [e for e in EXTENSIONS if e not in installed]
        if not missing:
            return []
        major = _server_major(conn)
        available = set(
            conn.execute(
                text("SELECT name FROM pg_available_extensions WHERE name = ANY(:names)"),
                {"names": missing},
            ).scalars()
        )
        database, role = conn.execute(text("SELECT current_database(), current_user")).one()
    for ext in missing:
        package = package_of(ext, major)
        if ext not in available:
            raise MissingExtension(
                ext,
                f"the database server has no {ext} extension (PostgreSQL {major}): install the "
                f"OS package {package} on it (Debian/Ubuntu), then run `gis-registry migrate` "
                "again",
                package=package,
            )
        try:
            with engine.begin() as conn:
                # the name comes from EXTENSIONS, never from a caller
                conn.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{ext}" CASCADE'))
        except DBAPIError as exc:
            reason = str(exc.orig or exc).strip().splitlines()[0]
            raise MissingExtension(
                ext,
                f"extension {ext} is missing in database {database} and role {role} cannot "
                f"create it ({reason}): ask a superuser to run `CREATE EXTENSION {ext} CASCADE;` "
                "in it, then run `gis-registry migrate` again",
                package=None,
            ) from None
    return missing


def upgrade(engine: Engine, revision: str = "head") -> list[str]:
    """Bring the schema of ``engine``'s database up to ``revision`` (the latest by default),
    creating the extensions it needs first (:func:`ensure_extensions`); returns the extensions
    it created."""
    created = ensure_extensions(engine)
    command.upgrade(alembic_config(engine), revision)
    return created


def downgrade(engine: Engine, revision: str) -> None:
    """Step the schema back to ``revision`` (e.g. ``-1`` or a revision id)."""
    command.downgrade(alembic_config(engine), revision)


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
