"""A local hot standby of the embedded cluster, kept current by PostgreSQL's streaming replication.

``gis-registry db replica start`` copies the running embedded cluster with ``pg_basebackup -R``
into ``<server root>/replica`` (the home folder, or its folder under /var/lib/gis-registry when
root's home is out of the server user's reach) and starts it, read-only, on its own loopback
port. The copy streams the primary's WAL through a replication slot, so the primary keeps every
WAL segment the standby has not replayed yet (up to ``max_slot_wal_keep_size``, set here to
:data:`WAL_KEEP`, so a standby left stopped for weeks cannot fill the disk; past that its slot
is given up and the next start makes a fresh copy).

Point ``GIS_REGISTRY_READ_DATABASE_URL`` at :meth:`Standby.url` and the API sends its public
reads there. An external server (``GIS_REGISTRY_DATABASE_URL``) gets its replicas from its own
tools: this module manages the embedded cluster only.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from gis_registry.errors import DatabaseUnavailable, ServerError
from gis_registry.server import SUPERUSER, EmbeddedServer
from gis_registry.settings import Settings

SLOT = "gis_registry_standby"
WAL_KEEP = "8GB"
EXTERNAL = (
    "GIS_REGISTRY_DATABASE_URL names an external server: make its replicas with that server's "
    "own tools (pg_basebackup, or the provider's read replicas), then set "
    "GIS_REGISTRY_READ_DATABASE_URL to one"
)
NOT_RUNNING = "the embedded cluster is not running: run `gis-registry db start` first"


@dataclass
class Standby:
    """The hot standby of the embedded cluster named by ``settings`` (its home folder)."""

    settings: Settings

    @cached_property
    def primary(self) -> EmbeddedServer:
        """The embedded cluster this standby copies."""
        return EmbeddedServer(self.settings)

    @property
    def root(self) -> Path:
        """The standby's folder: ``replica`` beside the primary's data."""
        return self.primary.server_root / "replica"

    @property
    def datadir(self) -> Path:
        """The standby's data directory (a ``pg_basebackup`` of the primary)."""
        return self.root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        """Where the standby's unix socket is."""
        return self.root / "run"

    @property
    def logfile(self) -> Path:
        """The standby's log."""
        return self.root / "postgresql.log"

    @property
    def port_file(self) -> Path:
        """The standby's TCP port, chosen at its first start and kept (``pg_ctl_start``)."""
        return self.root / "port"

    @property
    def initialised(self) -> bool:
        """Whether a copy of the primary is in :attr:`datadir`."""
        return (self.datadir / "PG_VERSION").exists()

    @property
    def port(self) -> int:
        """The standby's TCP port (ServerError when it was never started)."""
        if not self.port_file.exists():
            raise ServerError("the standby was never started: run `gis-registry db replica start`")
        return int(self.port_file.read_text().strip())

    def url(self) -> str:
        """The standby's libpq URL (the primary's role and password: the standby is a copy)."""
        return self.primary.url_at(self.port)

    def is_running(self) -> bool:
        """Whether the standby is up; runs ``pg_ctl status`` only when there is a copy."""
        if not (self.initialised and self.port_file.exists()):
            return False
        status = self.primary._pg("pg_ctl", "status", "-D", str(self.datadir), check=False)
        return status.returncode == 0

    # -- lifecycle --------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> str:
        """Copy the primary if needed, start the standby, and return its URL.

        Idempotent: a running standby is left as it is; a stopped one whose slot still exists
        resumes streaming where it stopped; one whose slot is gone (removed, or given up after
        :data:`WAL_KEEP` of WAL) is copied afresh, since it could never catch up.

        Parameters
        ----------
        timeout
            Seconds to wait for the standby to accept read-only connections.

        Returns
        -------
        str
            The standby's URL (for ``GIS_REGISTRY_READ_DATABASE_URL``).

        Raises
        ------
        ServerError
            An external database is configured, the embedded cluster is not running, it does
            not allow replication, or ``pg_basebackup`` / ``pg_ctl`` failed (with their output).
        """
        self._require_primary()
        if self.is_running():
            return self.url()
        self._allow_replication()
        slot = self._slot()
        if self.initialised and slot is None:
            shutil.rmtree(self.datadir)  # no slot: the WAL it needs may be gone; copy afresh
        if not self.initialised:
            if slot is not None:
                self._drop_slot()  # left by a copy that no longer exists
            self._copy()
        self.primary.pg_ctl_start(
            self.datadir,
            socket_dir=self.socket_dir,
            logfile=self.logfile,
            port_file=self.port_file,
            timeout=timeout,
        )
        return self.url()

    def stop(self, *, remove: bool = False) -> bool:
        """Stop the standby; returns False when it was not running.

        Parameters
        ----------
        remove
            Also delete its copy and drop its replication slot on the primary, so the primary
            keeps no WAL for it. Without it, the copy and the slot stay: the next start resumes
            streaming in seconds, and the primary keeps the WAL written meanwhile (at most
            :data:`WAL_KEEP`).
        """
        was_running = self.is_running()
        if was_running:
            self.primary.pg_ctl_stop(self.datadir)
        if remove:
            if not self.settings.database_url and self.primary.is_running():
                self._drop_slot()
            elif self._slot_may_exist():
                raise ServerError(
                    f"stopped the standby but could not drop its slot {SLOT}: the embedded "
                    "cluster is not running; start it and run `gis-registry db replica stop "
                    "--remove` again"
                )
            shutil.rmtree(self.root, ignore_errors=True)
        return was_running

    # -- status -----------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """State, port, URL and replication lag, found without starting anything.

        Returns
        -------
        dict
            ``state`` (``running``, ``stopped`` or ``not created``), ``primary`` (the embedded
            cluster's state), ``data``; when running also ``port``, ``url`` (password hidden),
            ``in_recovery`` (True: it is a standby), ``last_replayed`` (commit time of the
            last transaction it replayed); when the primary runs too, ``streaming``,
            ``lag_bytes`` (WAL written on the primary and not yet replayed on the standby) and
            ``replay_lag_s`` (the primary's measure of how long the standby takes to replay
            what it is sent; 0 when it has replayed everything).

        Raises
        ------
        ServerError
            An external database is configured: it has no embedded standby.
        """
        if self.settings.database_url:
            raise ServerError(EXTERNAL)
        primary = self.primary.state()
        if primary == "not created":  # nothing to look at; and no OS user created to look
            return {"state": "not created", "primary": primary}
        state = "running" if self.is_running() else "stopped" if self.initialised else "not created"
        out: dict[str, Any] = {"state": state, "primary": primary, "data": str(self.datadir)}
        if state != "running":
            return out
        import psycopg
        from sqlalchemy.engine import make_url

        url = self.url()
        out["port"] = self.port
        out["url"] = make_url(url).render_as_string(hide_password=True)
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(), pg_last_xact_replay_timestamp()"
            ).fetchone()
        assert row is not None
        out["in_recovery"] = bool(row[0])
        out["last_replayed"] = row[1].isoformat() if row[1] else None
        if primary == "running":
            with psycopg.connect(self.primary.url(), autocommit=True, connect_timeout=5) as conn:
                rep = conn.execute(
                    "SELECT r.state, pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn),"
                    " extract(epoch FROM r.replay_lag)"
                    " FROM pg_stat_replication r JOIN pg_replication_slots s"
                    " ON s.active_pid = r.pid WHERE s.slot_name = %s",
                    (SLOT,),
                ).fetchone()
            out["streaming"] = bool(rep and rep[0] == "streaming")
            if rep:
                out["lag_bytes"] = int(rep[1]) if rep[1] is not None else None
                out["replay_lag_s"] = round(float(rep[2]), 3) if rep[2] is not None else 0.0
        return out

    # -- helpers ----------------------------------------------------------------------------
    def _require_primary(self) -> None:
        if self.settings.database_url:
            raise ServerError(EXTERNAL)
        if not self.primary.is_running():
            raise ServerError(NOT_RUNNING)

    def _primary_sql(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.primary.url(), autocommit=True) as conn:
            cur = conn.execute(sql, params)
            return cur.fetchall() if cur.description else []

    def _allow_replication(self) -> None:
        """Check the primary can feed a standby; let the registry's role replicate over
        loopback and bound the WAL a slot may hold, when they are not already so."""
        (level, senders, keep) = self._primary_sql(
            "SELECT current_setting('wal_level'), current_setting('max_wal_senders')::int,"
            " current_setting('max_slot_wal_keep_size')"
        )[0]
        if level == "minimal" or senders < 1:
            raise ServerError(
                f"the embedded cluster cannot feed a standby (wal_level={level}, "
                f"max_wal_senders={senders}): set wal_level = replica and max_wal_senders = 10 "
                f"in {self.primary.datadir / 'postgresql.conf'}, then `gis-registry db stop` "
                "and `gis-registry db start`"
            )
        rules = self._primary_sql(
            "SELECT count(*) FROM pg_hba_file_rules WHERE error IS NULL AND type = 'host'"
            " AND 'replication' = ANY(database)"
            " AND (address = '127.0.0.1' OR address = 'all' OR address = 'samehost')"
        )[0][0]
        changed = False
        if not rules:
            with open(self.primary.datadir / "pg_hba.conf", "a", encoding="utf-8") as hba:
                hba.write(
                    "\n# gis-registry: the local standby\n"
                    f"host replication {SUPERUSER} 127.0.0.1/32 scram-sha-256\n"
                )
            changed = True
        if keep == "-1":  # unbounded: a standby stopped for long would fill the primary's disk
            self._primary_sql(f"ALTER SYSTEM SET max_slot_wal_keep_size = '{WAL_KEEP}'")
            changed = True
        if changed:
            self._primary_sql("SELECT pg_reload_conf()")

    def _slot(self) -> str | None:
        """The slot's ``wal_status`` on the primary, or None when there is no usable slot."""
        rows = self._primary_sql(
            "SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s", (SLOT,)
        )
        if not rows:
            return None
        if rows[0][0] == "lost":  # WAL the standby needs was removed (past WAL_KEEP)
            return None
        return str(rows[0][0])

    def _slot_may_exist(self) -> bool:
        return self.initialised or self.port_file.exists()

    def _drop_slot(self) -> None:
        self._primary_sql(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            " WHERE slot_name = %s AND NOT active",
            (SLOT,),
        )

    def _copy(self) -> None:
        """``pg_basebackup -R`` of the primary into :attr:`datadir`, with a new slot."""
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.root.chmod(0o755)  # the server's user traverses it to its data
        self.socket_dir.mkdir(exist_ok=True)
        if self.datadir.exists():  # a half-made copy from an interrupted start
            shutil.rmtree(self.datadir)
        self.datadir.mkdir(mode=0o700)
        self.primary._chown(self.datadir, self.socket_dir)
        password = self.primary.password_file.read_text().strip()
        conninfo = (
            f"host=127.0.0.1 port={self.primary.port} user={SUPERUSER} application_name={SLOT}"
        )
        try:
            self.primary._pg(
                "pg_basebackup",
                "-D",
                str(self.datadir),
                "-d",
                conninfo,
                "-R",  # standby.signal and primary_conninfo: it starts as a standby
                "-X",
                "stream",
                "-C",  # create the slot ...
                "-S",
                SLOT,  # ... and stream through it, so the primary keeps what the standby needs
                "-c",
                "fast",
                env={"PGPASSWORD": password},
            )
        except ServerError:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self._drop_slot()
            raise
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            # Long reads on the standby are not cancelled by the primary's vacuum: the standby
            # tells the primary which rows its queries still see.
            conf.write("\n# gis-registry standby\nhot_standby_feedback = on\n")


def describe_read_database(url: str) -> str:
    """One line on the database of the API's public reads (GIS_REGISTRY_READ_DATABASE_URL).

    Parameters
    ----------
    url
        Its libpq URL.

    Returns
    -------
    str
        Where it is and whether it is a standby, with the age of the last transaction it
        replayed (how far behind it may be when the primary is busy).

    Raises
    ------
    DatabaseUnavailable
        It does not answer; the message names the setting, not the password.
    """
    import psycopg
    from sqlalchemy.engine import make_url

    where = make_url(url)
    place = f"{where.host or 'localhost'}:{where.port or 5432}/{where.database}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT pg_is_in_recovery(),"
                " extract(epoch FROM now() - pg_last_xact_replay_timestamp())"
            ).fetchone()
    except psycopg.Error as exc:
        raise DatabaseUnavailable(
            f"GIS_REGISTRY_READ_DATABASE_URL ({place}) does not answer: "
            f"{str(exc).strip().splitlines()[0]}"
        ) from None
    assert row is not None
    if not row[0]:
        return f"public reads from {place} (not a standby: it answers as a primary)"
    replayed = (
        "nothing replayed yet" if row[1] is None else f"last commit replayed {row[1]:.1f} s ago"
    )
    return f"public reads from the standby {place} ({replayed})"
