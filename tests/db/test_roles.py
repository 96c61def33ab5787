"""Direct database access under the registry's rules (issue 15): login roles made by
``gis-registry db role add``, used with psql as QGIS would use them.

A viewer reads and cannot write; an editor writes the assets of its own LGO only (row-level
security mirroring gis_registry.auth.permissions); a swapped lon/lat or out-of-province point is
refused by the database itself, naming the rule; the history names the database role.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from gis_registry.db import errors as db_errors
from gis_registry.db import make_engine
from gis_registry.db.migrate import upgrade
from gis_registry.db.roles import RoleError, add_role, list_roles, remove_role
from gis_registry.db.testing import create_test_database, drop_test_database
from gis_registry.server import find_bindir
from tests.fixtures.world import build_world

pytestmark = pytest.mark.db

PREFIX = f"t{os.getpid()}_"
SWAPPED = "SRID=4326;POINT(18.3 99.51)"  # latitude 99.51: the well of the issue
BANGKOK = "SRID=4326;POINT(100.5 13.75)"


def _psql_binary(settings) -> str:
    found = shutil.which("psql")
    return found or str(find_bindir(settings) / "psql")


class Registry:
    """A scratch registry at head holding the tiny world, and the login roles made on it."""

    def __init__(self, settings, url: str) -> None:
        self.settings = settings
        self.url = url
        self.engine = make_engine(settings, url=url)
        self.psql_bin = _psql_binary(settings)
        self.urls: dict[str, str] = {}

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "GIS_REGISTRY_DATABASE_URL": self.url}
        return subprocess.run(
            [sys.executable, "-m", "gis_registry.cli", *args],
            env=env,
            capture_output=True,
            text=True,
        )

    def add(self, name: str, *flags: str) -> str:
        """``db role add`` through the CLI; the role's URL (its last line)."""
        proc = self.cli("db", "role", "add", PREFIX + name, *flags)
        assert proc.returncode == 0, proc.stderr
        url = proc.stdout.strip().splitlines()[-1]
        self.urls[name] = url
        return url

    def psql(self, who: str, sql: str) -> subprocess.CompletedProcess[str]:
        """``sql`` run by psql as the role ``who`` (or ``owner``: the application's user)."""
        url = self.url if who == "owner" else self.urls[who]
        return subprocess.run(
            [self.psql_bin, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
            capture_output=True,
            text=True,
            env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        )

    def scalar(self, sql: str, **params):
        with self.engine.connect() as conn:
            return conn.execute(text(sql), params).scalar()


@pytest.fixture(scope="module")
def registry(settings) -> Iterator[Registry]:
    url = create_test_database(settings, suffix="_roles_test")
    reg = Registry(settings, url)
    upgrade(reg.engine)
    with reg.engine.begin() as conn:
        reg.ids = build_world(conn)  # type: ignore[attr-defined]
    reg.add("viewer", "--viewer")
    reg.add("editor", "--editor", "--lgo", "520199")  # the SAO: owns the well and the village
    reg.add("admin", "--admin")
    yield reg
    with reg.engine.begin() as conn:
        for role in list_roles(conn):
            remove_role(conn, role.name)
    reg.engine.dispose()
    drop_test_database(url)


def test_role_add_prints_its_url_last_and_lists_it(registry):
    url = registry.urls["viewer"]
    assert url.startswith(f"postgresql://{PREFIX}viewer:") and url.endswith(
        "_roles_test_" + str(os.getpid())
    )
    listed = registry.cli("db", "role", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{PREFIX}editor" in listed.stdout and "520199" in listed.stdout
    assert registry.psql("viewer", "SELECT current_user").stdout.strip() == f"{PREFIX}viewer"


def test_role_add_refuses_unknown_lgo_and_bad_choices(registry):
    unknown = registry.cli("db", "role", "add", PREFIX + "x", "--editor", "--lgo", "999999")
    assert unknown.returncode == 1 and "Traceback" not in unknown.stderr
    assert "999999" in unknown.stderr and "gis-registry lgo list" in unknown.stderr
    no_lgo = registry.cli("db", "role", "add", PREFIX + "x", "--editor")
    assert no_lgo.returncode == 1 and "--lgo" in no_lgo.stderr
    two = registry.cli("db", "role", "add", PREFIX + "x", "--viewer", "--admin")
    assert two.returncode == 1 and "exactly one" in two.stderr
    again = registry.cli("db", "role", "add", PREFIX + "viewer", "--viewer")
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = registry.cli("db", "role", "add", "Robert'); DROP TABLE roads;--", "--viewer")
    assert bad.returncode == 1 and "not allowed" in bad.stderr


def test_viewer_reads_but_cannot_write(registry):
    assert registry.psql("viewer", "SELECT count(*) FROM roads").stdout.strip() == "1"
    assert registry.psql("viewer", "SELECT count(*) FROM water_sources").stdout.strip() == "1"
    for sql in (
        "UPDATE roads SET name_en = 'x'",
        "DELETE FROM water_points",
        "INSERT INTO water_points (name_th, name_en, kind, geom) VALUES ('a', 'b', 'pond', "
        "'SRID=4326;POINT(99.45 18.3)')",
        "SELECT * FROM users",
        "SELECT key_hash FROM api_keys",
        "SELECT changed_by FROM feature_history",
    ):
        proc = registry.psql("viewer", sql)
        assert proc.returncode != 0 and "permission denied" in proc.stderr, sql


def test_editor_writes_its_own_lgos_assets_only(registry):
    ids = registry.ids
    own = registry.psql(
        "editor",
        f"UPDATE water_points SET households_served = 81 WHERE id = {ids['well']} RETURNING id",
    )
    assert own.returncode == 0 and own.stdout.strip() == str(ids["well"]), own.stderr
    village = registry.psql(
        "editor",
        f"UPDATE settlements SET population = 421 WHERE id = {ids['village']} RETURNING id",
    )
    assert village.stdout.strip() == str(ids["village"]), village.stderr
    # the road (and so its bridge) is the PAO's: refused naming the rule, not skipped silently
    # (QGIS would report success for a change that never happened)
    for sql in (
        f"UPDATE roads SET name_en = 'taken' WHERE id = {ids['road']} RETURNING id",
        f"DELETE FROM bridges WHERE id = {ids['bridge']} RETURNING id",
        "UPDATE roads SET name_en = 'taken'",
    ):
        proc = registry.psql("editor", sql)
        assert proc.returncode != 0 and "may only change" in proc.stderr, (sql, proc.stderr)
    assert registry.scalar("SELECT name_en FROM roads WHERE id = :i", i=ids["road"]) == "Test road"
    assert registry.scalar("SELECT count(*) FROM bridges") == 1
    # nor may it give its well away, add a PAO well, or inspect the PAO's road
    for sql in (
        f"UPDATE water_points SET owner_local_body_id = {ids['pao']} WHERE id = {ids['well']}",
        f"INSERT INTO water_points (name_th, name_en, kind, owner_local_body_id, geom) VALUES "
        f"('a', 'b', 'pond', {ids['pao']}, 'SRID=4326;POINT(99.45 18.3)')",
        f"INSERT INTO inspections (road_id, inspected_on, condition_score, condition_scale) "
        f"VALUES ({ids['road']}, '2026-01-05', 3, 'score_1_5')",
        "INSERT INTO local_bodies (code) VALUES ('x')",
    ):
        proc = registry.psql("editor", sql)
        assert proc.returncode != 0, sql
        assert "row-level security" in proc.stderr or "permission denied" in proc.stderr, (
            proc.stderr
        )
    # an inspection of its own well it may record
    inspected = registry.psql(
        "editor",
        f"INSERT INTO inspections (water_source_id, inspected_on, condition_score, "
        f"condition_scale) VALUES ({ids['well']}, '2026-01-05', 4, 'score_1_5') RETURNING id",
    )
    assert inspected.returncode == 0, inspected.stderr
    # and delete a well of its own with its inspections (0008's cascade trigger)
    made = registry.psql(
        "editor",
        "INSERT INTO water_points (name_th, name_en, kind, owner_local_body_id, geom) VALUES "
        f"('บ่อ', 'Spare', 'pond', {ids['sao']}, 'SRID=4326;POINT(99.46 18.31)') RETURNING id",
    )
    assert made.returncode == 0, made.stderr
    spare = made.stdout.strip()
    inspected = registry.psql(
        "editor",
        "INSERT INTO inspections (water_source_id, inspected_on, condition_score, "
        f"condition_scale) VALUES ({spare}, '2026-01-06', 3, 'score_1_5')",
    )
    assert inspected.returncode == 0, inspected.stderr
    gone = registry.psql("editor", f"DELETE FROM water_points WHERE id = {spare}")
    assert gone.returncode == 0, gone.stderr
    assert registry.scalar(f"SELECT count(*) FROM inspections WHERE water_source_id = {spare}") == 0


def test_admin_writes_every_layer_but_not_the_history(registry):
    ids = registry.ids
    road = registry.psql(
        "admin", f"UPDATE roads SET lanes = 2 WHERE id = {ids['road']} RETURNING id"
    )
    assert road.stdout.strip() == str(ids["road"]), road.stderr
    history = registry.psql("admin", "DELETE FROM feature_history")
    assert history.returncode != 0 and "permission denied" in history.stderr


@pytest.mark.parametrize(
    ("geom", "rule"),
    [(SWAPPED, "geom_in_lonlat_range"), (BANGKOK, "geom_inside_province")],
)
@pytest.mark.parametrize("who", ["editor", "admin", "owner"])
def test_database_refuses_swapped_or_out_of_province_points(registry, who, geom, rule):
    sao = registry.ids["sao"]
    proc = registry.psql(
        who,
        "INSERT INTO water_points (name_th, name_en, kind, owner_local_body_id, geom) "
        f"VALUES ('บ่อ', 'Well', 'shallow_well', {sao}, '{geom}')",
    )
    assert proc.returncode != 0 and f"(rule {rule})" in proc.stderr, proc.stderr
    moved = registry.psql(
        who, f"UPDATE water_points SET geom = '{geom}' WHERE id = {registry.ids['well']}"
    )
    assert moved.returncode != 0 and rule in moved.stderr
    assert registry.scalar("SELECT count(*) FROM water_points") == 1


def test_the_refusal_names_table_field_and_rule_for_the_api(registry):
    with registry.engine.connect() as conn, pytest.raises(DBAPIError) as caught:
        conn.execute(
            text(
                "INSERT INTO water_lines (name_th, name_en, kind, geom) VALUES "
                "('คลอง', 'Canal', 'canal', ST_GeomFromEWKT(:g))"
            ),
            {"g": "SRID=4326;LINESTRING(99.45 18.3, 100.5 13.75)"},
        )
    violation = db_errors.translate(caught.value, "water_lines", "#1")
    ((record, field, problem),) = violation.problems
    assert (record, field) == ("#1", "geom")
    assert problem.startswith("breaks rule geom_inside_province")
    assert "water_lines record" in problem


def test_a_bulk_insert_is_checked_once_and_names_the_bad_row(registry):
    proc = registry.psql(
        "owner",
        "INSERT INTO rivers (name_th, name_en, geom) SELECT 'น้ำ', 'r' || i, "
        "ST_MakeLine(ST_Point(99.45, 18.21 + i * 0.002, 4326), ST_Point(99.46, 18.21 + i * 0.002,"
        " 4326)) FROM generate_series(1, 150) i",  # the last ones leave the box (18.40 + 2 km)
    )
    assert proc.returncode != 0 and "geom_inside_province" in proc.stderr
    assert "rivers record" in proc.stderr


def test_history_names_the_database_role_whatever_it_sets(registry):
    well = registry.ids["well"]
    proc = registry.psql(
        "editor",
        "SET gis_registry.actor = 'somebody_else'; SET gis_registry.history = 'off'; "
        f"UPDATE water_points SET households_served = 90 WHERE id = {well}",
    )
    assert proc.returncode == 0, proc.stderr
    last = registry.scalar(
        "SELECT changed_by FROM feature_history WHERE layer = 'water_points' "
        "AND feature_id = :f ORDER BY id DESC LIMIT 1",
        f=str(well),
    )
    assert last == f"{PREFIX}editor"
    # the application still names its user
    with registry.engine.begin() as conn:
        conn.execute(text("SELECT set_config('gis_registry.actor', 'api_user', true)"))
        conn.execute(
            text("UPDATE water_points SET households_served = 91 WHERE id = :i"), {"i": well}
        )
    assert (
        registry.scalar("SELECT changed_by FROM feature_history ORDER BY id DESC LIMIT 1")
        == "api_user"
    )


def test_password_reset_and_remove(registry):
    url = registry.add("temp", "--viewer")
    new = registry.cli("db", "role", "password", PREFIX + "temp")
    assert new.returncode == 0, new.stderr
    new_url = new.stdout.strip().splitlines()[-1]
    assert new_url != url
    registry.urls["temp"] = new_url
    assert registry.psql("temp", "SELECT 1").returncode == 0
    registry.urls["temp"] = url
    assert "password authentication failed" in registry.psql("temp", "SELECT 1").stderr
    gone = registry.cli("db", "role", "remove", PREFIX + "temp")
    assert gone.returncode == 0, gone.stderr
    assert (
        registry.scalar("SELECT count(*) FROM pg_roles WHERE rolname = :n", n=PREFIX + "temp") == 0
    )
    missing = registry.cli("db", "role", "remove", PREFIX + "temp")
    assert missing.returncode == 1 and "db role list" in missing.stderr


def test_library_refuses_a_user_who_may_not_create_roles(registry):
    with registry.engine.connect() as conn:
        conn.execute(text(f"SET ROLE {PREFIX}admin"))
        with pytest.raises(RoleError, match="may not create"):
            add_role(conn, PREFIX + "nope", "viewer")
        conn.rollback()


def _explained(registry, role: str | None) -> str:
    with registry.engine.connect() as conn:
        if role:
            conn.execute(text(f"SET ROLE {PREFIX}{role}"))
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                text("EXPLAIN (ANALYZE, COSTS OFF) UPDATE roads SET lanes = lanes")
            )
        )
        conn.rollback()
    return plan


def test_app_user_pays_no_row_level_security(registry):
    """The owner (API, CLI, imports) skips the policies and the editors' trigger."""
    owner = _explained(registry, None)
    assert "gis_registry_editor" not in owner and "editor_owns" not in owner
    assert "editor_owns" in _explained(registry, "admin")  # called, and lets it pass


def test_a_restored_backup_keeps_the_roles_rights(registry, tmp_path):
    """pg_restore --no-privileges drops grants; the restore grants the groups again."""
    from gis_registry.db.backup import backup, restore

    dump = tmp_path / "registry.dump"
    backup(dump, registry.settings, url=registry.url)
    restore(dump, registry.settings, url=registry.url)
    assert registry.psql("viewer", "SELECT count(*) FROM roads").stdout.strip() == "1"
    denied = registry.psql(
        "editor", f"UPDATE roads SET lanes = 3 WHERE id = {registry.ids['road']}"
    )
    assert denied.returncode != 0 and "may only change" in denied.stderr
    well = registry.psql(
        "editor",
        f"UPDATE water_points SET households_served = 95 WHERE id = {registry.ids['well']}",
    )
    assert well.returncode == 0, well.stderr
    assert registry.psql("viewer", "SELECT * FROM users").returncode != 0
