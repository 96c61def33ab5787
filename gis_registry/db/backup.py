"""Backups of the registry's database (``gis-registry backup`` / ``restore``).

A backup is a plain ``pg_dump`` archive in the custom format, nothing wrapped around it: any
PostgreSQL tool reads it (``pg_restore -l FILE``). Its schema revision is the dump's own data
of ``alembic_version``, read back with ``pg_restore --data-only --table alembic_version``
(the archive's table of contents says where that data sits, so this costs no pass over the
file), so a restore knows the revision before it touches anything and refuses a dump made by a
newer schema than this code knows.

A restore is all or nothing. ``pg_restore`` turns the archive into SQL that ``psql`` runs in
one transaction, after a prelude that drops the registry's own objects (every table, sequence,
view and function of the ``public`` schema that no extension owns: what an older dump lacks
goes too) and before a final check that the whole archive arrived: a truncated or damaged
dump, a failed statement or a killed process roll everything back. Requests of a running API
wait while it runs (the prelude waits up to 60 s for their locks). The extensions (PostGIS,
pgRouting) stay as they are, created first when missing, and owners and grants are not
restored (the restoring role owns what it restores), so a dump moves between clusters.

The client programs (``pg_dump``, ``pg_restore``, ``psql``) are found the way the embedded
cluster finds its server: ``Settings.pg_bindir``, then ``pg_config --bindir``, then the newest
``/usr/lib/postgresql/*/bin``, then ``PATH``. They work on any database the settings name,
the embedded cluster or ``GIS_REGISTRY_DATABASE_URL``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from gis_registry.db.migrate import head_revision, known_revisions
from gis_registry.errors import GisRegistryError
from gis_registry.server import database_url, pg_bindirs
from gis_registry.settings import Settings

CLIENT_PROGRAMS = ("pg_dump", "pg_restore", "psql")
# A line of ``pg_restore -l``: "<dump id>; <catalog oid> <oid> <description> <schema> <name>..."
_TOC_LINE = re.compile(r"^\d+; \d+ \d+ (?P<rest>.*)$")
# Entries a restore leaves out: the extensions (kept as the database has them), their comments
# and the public schema (there already).
_SKIPPED = re.compile(
    r"^(EXTENSION - |COMMENT - EXTENSION |SCHEMA - public |COMMENT - SCHEMA public )"
)
_MARKER = "gis_registry_restore_complete"

# Drops every object of the public schema that no extension owns, most dependent first (a
# CASCADE takes what hangs on each: indexes, triggers, owned sequences, foreign keys).
_PRELUDE = r"""
SET client_min_messages = warning;
SET lock_timeout = '60s';
DO $prelude$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT c.relname, c.relkind FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace
          AND c.relkind IN ('v', 'm', 'r', 'p', 'f', 'S')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY position(c.relkind::text IN 'vmrpfS')
    LOOP
        EXECUTE format('DROP %s IF EXISTS public.%I CASCADE',
                       CASE r.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                      WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE'
                                      ELSE 'TABLE' END,
                       r.relname);
    END LOOP;
    FOR r IN
        SELECT p.oid::regprocedure::text AS signature, p.prokind FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP %s IF EXISTS %s CASCADE',
                       CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE'
                                      ELSE 'FUNCTION' END,
                       r.signature);
    END LOOP;
    FOR r IN
        SELECT t.typname, t.typtype FROM pg_type t
        WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                          AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('DROP %s IF EXISTS public.%I CASCADE',
                       CASE r.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, r.typname);
    END LOOP;
END
$prelude$;
"""
# Run after the archive's SQL: the marker is set only when pg_restore read the whole archive.
_FINALE = f"""
\\if :{{?{_MARKER}}}
\\else
DO $$ BEGIN RAISE EXCEPTION 'the archive ended early: nothing restored'; END $$;
\\endif
-- the database roles' privileges (0009), which --no-privileges left out
DO $$ BEGIN
    IF to_regprocedure('public.gis_registry_grant_groups()') IS NOT NULL THEN
        PERFORM public.gis_registry_grant_groups();
    END IF;
END $$;
"""


class BackupError(GisRegistryError):
    """A backup or restore that could not be made (nothing was changed)."""


class NewerSchema(BackupError):
    """A dump made by a newer schema revision than this code knows; ``revision`` is the
    dump's, ``head`` this code's newest."""

    def __init__(self, message: str, *, revision: str, head: str) -> None:
        super().__init__(message)
        self.revision = revision
        self.head = head


@dataclass(frozen=True)
class DumpInfo:
    """What a backup file holds: its schema ``revision``, the tables whose data it has, and
    the file's size."""

    path: Path
    revision: str
    tables: tuple[str, ...]
    size_bytes: int


@dataclass(frozen=True)
class RestoreInfo:
    """A finished restore: the dump's ``revision``, this code's ``head`` (when they differ,
    ``gis-registry migrate`` brings the schema up to date) and the seconds taken."""

    dump: DumpInfo
    head: str
    seconds: float

    @property
    def needs_migrate(self) -> bool:
        """The restored schema is older than this code's."""
        return self.dump.revision != self.head


def find_client_bindir(settings: Settings) -> Path:
    """Directory holding ``pg_dump``, ``pg_restore`` and ``psql``: ``Settings.pg_bindir``,
    then ``pg_config --bindir``, then the newest ``/usr/lib/postgresql/*/bin``, then ``PATH``.

    Raises
    ------
    BackupError
        None of them holds the three programs (the message says what to install).
    """
    candidates = pg_bindirs(settings)
    on_path = shutil.which("pg_dump")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for path in candidates:
        if all((path / name).exists() for name in CLIENT_PROGRAMS):
            return path
    raise BackupError(
        "PostgreSQL client programs (pg_dump, pg_restore, psql) not found: install the "
        "postgresql-client package of the server's version, or set GIS_REGISTRY_PG_BINDIR"
    )


@dataclass(frozen=True)
class _Target:
    """How the client programs reach the database: a conninfo without the password, and the
    environment that carries it (never on a command line, where ``ps`` would show it)."""

    conninfo: str
    env: dict[str, str]
    database: str


def _target(settings: Settings, url: str | None) -> _Target:
    params = conninfo_to_dict(url or database_url(settings))
    password = params.pop("password", None)
    env = {**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")}
    if password:
        env["PGPASSWORD"] = str(password)
    return _Target(make_conninfo("", **params), env, str(params.get("dbname", "")))


def database_name(settings: Settings | None = None, *, url: str | None = None) -> str:
    """The name of the database a backup or restore works on (``url``, else the configured
    one): what a restore's confirmation names."""
    return _target(settings or Settings(), url).database


def _first_error(stderr: str) -> str:
    """The first meaningful line of a client program's complaint, without its name."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "error" in line.lower() or "fatal" in line.lower():
            return re.sub(r"^(pg_dump|pg_restore|psql)(:[^:]*)?: (error: )?", "", line)
    return lines[0] if lines else "no message"


def read_dump(path: Path, settings: Settings | None = None) -> DumpInfo:
    """Check that ``path`` is a registry backup and read its schema revision.

    Parameters
    ----------
    path
        A file written by :func:`backup` (any custom-format ``pg_dump`` of a registry).
    settings
        Where the client programs are (default ``Settings()``).

    Raises
    ------
    BackupError
        The file is missing, is not a custom-format archive, or holds no schema revision (not
        a dump of a registry); one line.
    """
    settings = settings or Settings()
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    pg_restore = find_client_bindir(settings) / "pg_restore"
    toc = subprocess.run([str(pg_restore), "--list", str(path)], capture_output=True, text=True)
    if toc.returncode != 0:
        raise BackupError(
            f"{path} is not a pg_dump custom-format archive ({_first_error(toc.stderr)})"
        )
    entries = [m.group("rest") for line in toc.stdout.splitlines() if (m := _TOC_LINE.match(line))]
    defined = {rest.split()[2] for rest in entries if rest.startswith("TABLE public ")}
    # the registry's tables with data (not an extension's: PostGIS's spatial_ref_sys)
    tables = tuple(
        sorted(
            name
            for rest in entries
            if rest.startswith("TABLE DATA public ") and (name := rest.split()[3]) in defined
        )
    )
    if "alembic_version" not in tables:
        raise BackupError(f"{path} is not a gis-registry backup: it holds no schema revision")
    data = subprocess.run(
        [str(pg_restore), "--data-only", "--table", "alembic_version", "--file", "-", str(path)],
        capture_output=True,
        text=True,
    )
    if data.returncode != 0:
        raise BackupError(f"{path} is damaged: {_first_error(data.stderr)}")
    revision = _copied_value(data.stdout)
    if revision is None:
        raise BackupError(f"{path} is not a gis-registry backup: its schema revision is empty")
    return DumpInfo(path, revision, tables, path.stat().st_size)


def _copied_value(script: str) -> str | None:
    """The one value of the ``COPY ... alembic_version`` block of a restore script."""
    lines = iter(script.splitlines())
    for line in lines:
        if line.startswith("COPY ") and "alembic_version" in line:
            value = next(lines, "\\.")
            return None if value == "\\." else value.strip()
    return None


def check_revision(info: DumpInfo) -> str:
    """This code's head revision, after making sure it knows the dump's.

    Raises
    ------
    NewerSchema
        The dump's revision is not one of this code's migrations (a newer gis-registry made
        it); the message names both revisions.
    """
    head = head_revision()
    if info.revision not in known_revisions():
        raise NewerSchema(
            f"{info.path} was made at schema revision {info.revision}, newer than this "
            f"gis-registry knows (its newest is {head}): restore it with the gis-registry "
            "that made it, or a newer one",
            revision=info.revision,
            head=head,
        )
    return head


def backup(path: Path, settings: Settings | None = None, *, url: str | None = None) -> DumpInfo:
    """Write the registry's database to ``path`` (``pg_dump`` custom format), all or nothing.

    The dump is written next to ``path`` under a temporary name and renamed once complete and
    readable, so a failed backup never leaves a file that looks like one (nor replaces an
    older backup of the same name).

    Parameters
    ----------
    path
        The backup file to write (replaced if it exists).
    settings
        Where the database and the client programs are (default ``Settings()``).
    url
        Dump this database instead of the configured one.

    Returns
    -------
    DumpInfo
        The file, its schema revision and the tables whose data it holds.

    Raises
    ------
    BackupError
        ``pg_dump`` failed (unreachable database, older client than the server, no room...)
        or the database has no schema revision (never migrated); one line.
    """
    settings = settings or Settings()
    path = Path(path)
    bindir = find_client_bindir(settings)
    target = _target(settings, url)
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent}: no such directory")
    handle, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    try:
        done = subprocess.run(
            [
                str(bindir / "pg_dump"),
                "--format=custom",
                "--file",
                partial,
                "--dbname",
                target.conninfo,
            ],
            capture_output=True,
            text=True,
            env=target.env,
        )
        if done.returncode != 0:
            raise BackupError(f"backup of {target.database} failed: {_first_error(done.stderr)}")
        try:
            info = read_dump(Path(partial), settings)
        except BackupError as exc:  # e.g. a database never migrated: no schema revision
            message = str(exc).replace(partial, "the dump")
            raise BackupError(f"backup of {target.database} not written: {message}") from None
        os.replace(partial, path)
    finally:
        Path(partial).unlink(missing_ok=True)
    return DumpInfo(path, info.revision, info.tables, path.stat().st_size)


def restore(path: Path, settings: Settings | None = None, *, url: str | None = None) -> RestoreInfo:
    """Replace the registry's database with the backup in ``path``, all or nothing.

    Checks the file and its schema revision first (:func:`read_dump`, :func:`check_revision`),
    creates the extensions when missing, then runs the archive in one transaction after a
    prelude that drops the registry's objects; a failed statement, a truncated archive or a
    killed process leave the database as it was. Users, API keys and the feature history come
    from the dump like every table. A restored schema older than this code's needs
    ``gis-registry migrate`` (:attr:`RestoreInfo.needs_migrate`).

    Cached networks (:mod:`gis_registry.network`) need no clearing: they are keyed by the
    database and the ``layer_versions`` stamps, which the dump restores with the data, so a
    cached network is used again only for exactly the data it was built from.

    Parameters
    ----------
    path
        A backup written by :func:`backup`.
    settings
        Where the database and the client programs are (default ``Settings()``).
    url
        Restore into this database instead of the configured one.

    Raises
    ------
    BackupError
        Missing file, not a registry dump, damaged archive or a failed restore (rolled back).
    NewerSchema
        The dump comes from a newer schema revision than this code knows.
    """
    started = time.perf_counter()
    settings = settings or Settings()
    info = read_dump(Path(path), settings)
    head = check_revision(info)
    bindir = find_client_bindir(settings)
    target = _target(settings, url)
    _ensure_extensions(settings, url)
    with tempfile.TemporaryDirectory(prefix="gis-registry-restore-") as tmp:
        work = Path(tmp)
        listing = work / "restore.list"
        listing.write_text(_restore_listing(bindir, info.path), encoding="utf-8")
        (work / "prelude.sql").write_text(_PRELUDE, encoding="utf-8")
        (work / "finale.sql").write_text(_FINALE, encoding="utf-8")
        _run_restore(bindir, target, info.path, work)
    return RestoreInfo(info, head, time.perf_counter() - started)


def _ensure_extensions(settings: Settings, url: str | None) -> None:
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import ensure_extensions
    from gis_registry.db.roles import ensure_groups

    engine = make_engine(settings, url=url)
    try:
        ensure_extensions(engine)
        with engine.begin() as conn:  # the archive's policies name them (another cluster's)
            ensure_groups(conn)
    finally:
        engine.dispose()


def _restore_listing(bindir: Path, path: Path) -> str:
    """The archive's table of contents minus what a restore leaves alone: the extensions and
    the public schema (kept as they are), and the data of tables the dump does not define
    (an extension's configuration table, PostGIS's ``spatial_ref_sys``)."""
    toc = subprocess.run(
        [str(bindir / "pg_restore"), "--list", str(path)], capture_output=True, text=True
    )
    entries = [
        (line, m.group("rest")) for line in toc.stdout.splitlines() if (m := _TOC_LINE.match(line))
    ]
    defined = {rest.split()[2] for _, rest in entries if rest.startswith("TABLE public ")}
    kept = []
    for line, rest in entries:
        if _SKIPPED.match(rest):
            continue
        if rest.startswith("TABLE DATA public ") and rest.split()[3] not in defined:
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def _run_restore(bindir: Path, target: _Target, path: Path, work: Path) -> None:
    """``pg_restore`` (archive to SQL) piped into ``psql`` (one transaction): the marker that
    lets the finale commit is written only once pg_restore has read the whole archive."""
    restore_err = (work / "pg_restore.err").open("w+", encoding="utf-8")
    psql_err = (work / "psql.err").open("w+", encoding="utf-8")
    reader = subprocess.Popen(
        [
            str(bindir / "pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--use-list",
            str(work / "restore.list"),
            "--file",
            "-",
            str(path),
        ],
        stdout=subprocess.PIPE,
        stderr=restore_err,
    )
    writer = subprocess.Popen(
        [
            str(bindir / "psql"),
            "--no-psqlrc",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "--file",
            str(work / "prelude.sql"),
            "--file",
            "-",
            "--file",
            str(work / "finale.sql"),
            "--dbname",
            target.conninfo,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=psql_err,
        env=target.env,
    )
    assert reader.stdout is not None and writer.stdin is not None
    try:
        try:
            shutil.copyfileobj(reader.stdout, writer.stdin, 1 << 20)
            complete = reader.wait() == 0
            if complete:
                writer.stdin.write(f"\n\\set {_MARKER} 1\n".encode())
        except BrokenPipeError:  # psql stopped at an error: its message says which
            complete = False
        finally:
            reader.stdout.close()
            try:
                writer.stdin.close()
            except BrokenPipeError:
                pass
        if reader.poll() is None:
            reader.kill()
        reader.wait()
        applied = writer.wait() == 0
    finally:
        for process in (reader, writer):
            if process.poll() is None:
                process.kill()
                process.wait()
    restore_err.seek(0)
    psql_err.seek(0)
    reading, running = restore_err.read(), psql_err.read()
    restore_err.close()
    psql_err.close()
    if reader.returncode != 0:
        raise BackupError(f"{path} is damaged, nothing restored: {_first_error(reading)}")
    if not (complete and applied):
        raise BackupError(f"restore of {path} failed, nothing restored: {_first_error(running)}")
