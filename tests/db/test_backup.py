"""``gis-registry backup`` / ``restore`` (issue 17, problem 8): a round trip gives back every
table row for row, a restore is all or nothing, and a dump of a newer schema is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from typer.testing import CliRunner

pytestmark = pytest.mark.db

ROW_SEPARATOR = "E'\\n'"
EXTENSION_MEMBER = (
    "EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
    "AND d.objid = c.oid AND d.deptype = 'e')"
)


def checksums(engine: Engine) -> dict[str, str]:
    """md5 of every table's rows in order, and every sequence's position, by name."""
    with engine.connect() as conn:
        relations = conn.execute(
            text(
                "SELECT c.relname, c.relkind FROM pg_class c "
                "WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S') "
                f"AND NOT {EXTENSION_MEMBER} ORDER BY 1"
            )
        ).all()
        sums = {}
        for name, kind in relations:
            query = (
                f"SELECT md5(coalesce(string_agg(t::text, {ROW_SEPARATOR} ORDER BY t::text), ''))"
                f' FROM "{name}" t'
                if kind == "r"
                else f'SELECT last_value::text || is_called::text FROM "{name}"'
            )
            sums[name] = conn.execute(text(query)).scalar_one()
    return sums


@pytest.fixture(scope="module")
def registry(settings):
    """A registry that lived: the small demo, a user with a key, an edit in the history.
    Yields (engine, url)."""
    from gis_registry.auth.keys import create_key
    from gis_registry.auth.users import add_user
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database
    from gis_registry.demo import load_demo
    from gis_registry.history import set_actor

    url = create_test_database(settings, suffix="_backup_test")
    engine = make_engine(settings, url=url)
    upgrade(engine)
    load_demo(engine, seed=52, scale=0.2)
    with engine.begin() as conn:
        add_user(conn, "backup_admin", role="admin", display_name="ผู้ดูแล")
        create_key(conn, "backup_admin", name="nightly")
        set_actor(conn, "backup_admin")
        conn.execute(text("UPDATE roads SET name_en = 'Before the backup' WHERE id = 1"))
    yield engine, url
    engine.dispose()
    drop_test_database(url)


@pytest.fixture(scope="module")
def dump(registry, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A backup of the registry and the checksums it was taken at."""
    from gis_registry.db.backup import backup

    engine, url = registry
    path = tmp_path_factory.mktemp("backup") / "registry.dump"
    info = backup(path, url=url)
    assert info.path == path and path.stat().st_size == info.size_bytes
    assert {"feature_history", "users", "api_keys", "roads"} <= set(info.tables)
    assert "spatial_ref_sys" not in info.tables  # PostGIS's, not the registry's
    assert not list(path.parent.glob("*.partial"))
    return path, checksums(engine)


def _change_everything(engine: Engine) -> None:
    """Edits, a new user, history, and a table no dump holds (as a newer schema would add)."""
    from gis_registry.auth.users import add_user

    with engine.begin() as conn:
        conn.execute(text("UPDATE roads SET name_en = 'After the backup' WHERE id = 1"))
        conn.execute(text("DELETE FROM bridges WHERE id IN (SELECT min(id) FROM bridges)"))
        add_user(
            conn,
            f"late_user_{conn.execute(text('SELECT count(*) FROM users')).scalar()}",
            role="viewer",
        )
        conn.execute(text("CREATE TABLE IF NOT EXISTS leftover (x int)"))


def test_round_trip_gives_back_every_table(registry, dump):
    from gis_registry.db.backup import restore

    engine, url = registry
    path, taken = dump
    assert {"feature_history", "users", "api_keys", "alembic_version", "data_loads"} <= set(taken)
    _change_everything(engine)
    assert checksums(engine) != taken
    done = restore(path, url=url)
    assert done.dump.revision == done.head and not done.needs_migrate
    assert checksums(engine) == taken  # leftover is gone too: it is not in the dump
    with engine.connect() as conn:  # the triggers came back: edits are recorded again
        conn.execute(text("UPDATE roads SET name_en = 'x' WHERE id = 1"))
        last = conn.execute(
            text("SELECT after ->> 'name_en' FROM feature_history ORDER BY id DESC LIMIT 1")
        ).scalar_one()
        assert last == "x"
        conn.rollback()


@pytest.mark.parametrize("cut", [0.5, 0.98])
def test_a_truncated_dump_changes_nothing(registry, dump, tmp_path, cut):
    from gis_registry.db.backup import BackupError, restore

    engine, url = registry
    path, _ = dump
    truncated = tmp_path / "truncated.dump"
    data = path.read_bytes()
    truncated.write_bytes(data[: int(len(data) * cut)])
    _change_everything(engine)
    before = checksums(engine)
    with pytest.raises(BackupError, match="nothing restored|damaged"):
        restore(truncated, url=url)
    assert checksums(engine) == before


def test_not_a_dump_and_no_file(registry, tmp_path):
    from gis_registry.db.backup import BackupError, restore

    engine, url = registry
    before = checksums(engine)
    text_file = tmp_path / "notes.dump"
    text_file.write_text("not a dump\n")
    with pytest.raises(BackupError, match="not a pg_dump custom-format archive"):
        restore(text_file, url=url)
    with pytest.raises(BackupError, match="no such file"):
        restore(tmp_path / "missing.dump", url=url)
    assert checksums(engine) == before


def test_a_dump_of_a_newer_schema_is_refused(settings, registry, tmp_path):
    from gis_registry.db import make_engine
    from gis_registry.db.backup import NewerSchema, backup, restore
    from gis_registry.db.migrate import head_revision, upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    newer_url = create_test_database(settings, suffix="_backup_newer_test")
    newer = make_engine(settings, url=newer_url)
    try:
        upgrade(newer)
        with newer.begin() as conn:  # a schema this code has never seen
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        path = backup(tmp_path / "newer.dump", url=newer_url).path
    finally:
        newer.dispose()
        drop_test_database(newer_url)
    engine, url = registry
    before = checksums(engine)
    with pytest.raises(NewerSchema) as refused:
        restore(path, url=url)
    assert "9999" in str(refused.value) and head_revision() in str(refused.value)
    assert checksums(engine) == before


def test_cli_backup_and_restore(registry, tmp_path, monkeypatch):
    from gis_registry.cli import app

    engine, url = registry
    monkeypatch.setenv("GIS_REGISTRY_DATABASE_URL", url)
    runner = CliRunner()
    path = tmp_path / "cli.dump"
    made = runner.invoke(app, ["backup", str(path)])
    assert made.exit_code == 0, made.output
    assert "schema revision" in made.output and path.exists()
    taken = checksums(engine)
    _change_everything(engine)
    changed = checksums(engine)

    refused = runner.invoke(app, ["restore", str(path)])  # no terminal, no --yes
    assert refused.exit_code == 1 and "--yes" in refused.output
    assert checksums(engine) == changed
    monkeypatch.setattr("gis_registry.cli.backup.interactive", lambda: True)
    declined = runner.invoke(app, ["restore", str(path)], input="n\n")
    assert declined.exit_code == 1 and checksums(engine) == changed

    missing = runner.invoke(app, ["restore", str(tmp_path / "nope.dump"), "--yes"])
    assert missing.exit_code == 1
    assert missing.output.strip().startswith("error:") and "no such file" in missing.output
    assert len(missing.output.strip().splitlines()) == 1

    done = runner.invoke(app, ["restore", str(path)], input="y\n")
    assert done.exit_code == 0, done.output
    assert checksums(engine) == taken


def test_a_database_never_migrated_is_not_backed_up(settings, tmp_path):
    from gis_registry.db.backup import BackupError, backup
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix="_backup_empty_test")
    try:
        with pytest.raises(BackupError, match="no schema revision"):
            backup(tmp_path / "empty.dump", url=url)
    finally:
        drop_test_database(url)
    assert list(tmp_path.iterdir()) == []
