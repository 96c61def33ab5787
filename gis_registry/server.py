"""The embedded PostGIS cluster: a private PostgreSQL managed with the system's initdb and pg_ctl.

Its data, log, socket and password live under ``Settings.home``. It listens on a unix socket in
that folder and on a loopback port, never on a public address: a free port chosen at its first
start (or ``GIS_REGISTRY_PORT``), stored in ``<home>/port`` and kept on every start after, so a
saved connection (QGIS, psql) keeps working. PostgreSQL refuses to run as root, so when the
caller is root the server runs as a dedicated system user (``pg_os_user``).

Only :meth:`EmbeddedServer.start` starts it (``gis-registry db start``, ``make setup`` and the
test fixtures call it). Asking for a URL (:func:`database_url`) never does: a service whose
database is missing must fail, not quietly write into a new private cluster.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import quote

from gis_registry.errors import DatabaseUnavailable, ServerError
from gis_registry.settings import Settings

NO_DATABASE = "no database: run `gis-registry db start` or set GIS_REGISTRY_DATABASE_URL"
DATABASE = "gis_registry"
SUPERUSER = "gis_registry"
EXTENSIONS = ("postgis", "pgrouting")
# Tuned for a laptop or CI runner; analytical queries and COPY loads benefit from more memory.
SERVER_OPTIONS = {
    "shared_buffers": "512MB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "max_wal_size": "4GB",
    "synchronous_commit": "off",
    "max_connections": "100",
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_permissions": "0770",
    "timezone": "'Asia/Bangkok'",
    "lc_messages": "'C'",
}


def pg_bindirs(settings: Settings) -> list[Path]:
    """Where PostgreSQL's programs may be, in order: ``GIS_REGISTRY_PG_BINDIR``, then
    ``pg_config --bindir``, then ``/usr/lib/postgresql/*/bin``, newest major version first."""
    candidates: list[Path] = []
    if settings.pg_bindir:
        candidates.append(settings.pg_bindir)
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0:
            candidates.append(Path(out.stdout.strip()))
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: _major(p.parent.name), reverse=True)
    return candidates


def _major(name: str) -> int:
    return int(name) if name.isdigit() else -1


def find_bindir(settings: Settings) -> Path:
    """Directory holding initdb and pg_ctl, the first of :func:`pg_bindirs` that has them."""
    for path in pg_bindirs(settings):
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise ServerError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found. Run `make setup`, which installs "
        "postgresql-15, postgresql-15-postgis-3 and postgresql-15-pgrouting, or set "
        "GIS_REGISTRY_DATABASE_URL to an existing PostGIS."
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for the embedded server, test and bench servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # as PostgreSQL binds: a port left in TIME_WAIT by our own stop is free to it, so a
        # restarted server keeps its port (and the URLs given out); a listened one is not
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class EmbeddedServer:
    """One embedded cluster, identified by its home folder."""

    settings: Settings

    @property
    def home(self) -> Path:
        """The cluster's home folder (``Settings.home``, resolved)."""
        return self.settings.resolved_home()

    @cached_property
    def server_root(self) -> Path:
        """Where the server's own files live: the home folder, unless we are root and the
        server's OS user cannot reach it (a clone under /root, say); then a folder under
        /var/lib/gis-registry named after the home folder, so each checkout keeps its cluster."""
        if os.geteuid() != 0 or self._reachable_by_server_user(self.home):
            return self.home
        digest = hashlib.sha1(str(self.home).encode()).hexdigest()[:12]
        return Path("/var/lib/gis-registry") / digest

    def _reachable_by_server_user(self, path: Path) -> bool:
        self._ensure_os_user()
        probe = path if path.exists() else path.parent
        while not probe.exists():
            probe = probe.parent
        return subprocess.run([*self._run_as(), "test", "-x", str(probe)]).returncode == 0

    @property
    def datadir(self) -> Path:
        """PostgreSQL's data directory."""
        return self.server_root / "pgdata"

    @property
    def socket_dir(self) -> Path:
        """Where the server's unix socket is."""
        return self.server_root / "run"

    @property
    def logfile(self) -> Path:
        """The server's log."""
        return self.server_root / "postgresql.log"

    @property
    def password_file(self) -> Path:
        """The superuser's password, written by :meth:`init` (mode 600)."""
        return self.home / "password"

    @property
    def port_file(self) -> Path:
        """The cluster's TCP port, chosen at its first start and kept (:meth:`pg_ctl_start`)."""
        return self.home / "port"

    # -- running commands as the server's OS user -------------------------------------------
    def _run_as(self) -> list[str]:
        """Prefix that runs a server binary as the dedicated user when we are root."""
        if os.geteuid() != 0:
            return []
        return ["runuser", "-u", self.settings.pg_os_user, "--"]

    def _ensure_os_user(self) -> None:
        if os.geteuid() != 0:
            return
        name = self.settings.pg_os_user
        try:
            pwd.getpwnam(name)
        except KeyError:
            subprocess.run(
                ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                check=True,
                capture_output=True,
            )

    def _chown(self, *paths: Path) -> None:
        if os.geteuid() != 0:
            return
        entry = pwd.getpwnam(self.settings.pg_os_user)
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def _pg(
        self, binary: str, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a server binary (as the server's OS user when root); ``env`` is added to ours
        (``runuser`` passes it on): a password goes there, never on a command line."""
        cmd = [*self._run_as(), str(find_bindir(self.settings) / binary), *args]
        full_env = {**os.environ, **env} if env else None
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd="/", env=full_env)
        if check and proc.returncode != 0:
            raise ServerError(
                f"{binary} failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout}"
                f"\nSee {self.logfile}"
            )
        return proc

    # -- state ------------------------------------------------------------------------------
    @property
    def initialised(self) -> bool:
        """Whether initdb has made the cluster."""
        return (self.datadir / "PG_VERSION").exists()

    def _os_user_exists(self) -> bool:
        try:
            pwd.getpwnam(self.settings.pg_os_user)
        except KeyError:
            return False
        return True

    def is_running(self) -> bool:
        """Whether the cluster is up. Creates nothing and starts nothing (no useradd either).

        A cluster that was never started has no port file in its home; as root, one whose OS
        user does not exist cannot be running. Both are answered without running a command.
        """
        if not (self.port_file.exists() and self.password_file.exists()):
            return False
        if os.geteuid() == 0 and not self._os_user_exists():
            return False
        if not self.initialised:
            return False
        return self._pg("pg_ctl", "status", "-D", str(self.datadir), check=False).returncode == 0

    def state(self) -> str:
        """``"running"``, ``"stopped"`` or ``"not created"``, found without side effects."""
        if self.is_running():
            return "running"
        if not self.password_file.exists():
            return "not created"  # init() writes the password before initdb
        if os.geteuid() == 0 and not self._os_user_exists():
            return "stopped"
        return "stopped" if self.initialised else "not created"

    @property
    def port(self) -> int:
        """The TCP port the server listens on (ServerError if it was never started)."""
        if not self.port_file.exists():
            raise ServerError(f"The embedded cluster in {self.home} was never started.")
        return int(self.port_file.read_text().strip())

    def url(self) -> str:
        """SQLAlchemy/libpq URL over loopback TCP with the cluster's password."""
        return self.url_at(self.port)

    def url_at(self, port: int) -> str:
        """:meth:`url` on another port (a standby copied from this cluster has its password)."""
        password = quote(self.password_file.read_text().strip(), safe="")
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{port}/{DATABASE}"

    # -- lifecycle --------------------------------------------------------------------------
    def init(self) -> None:
        """Create the cluster (initdb) if it does not exist yet."""
        self._ensure_os_user()  # before server_root, which asks what that user can reach
        if self.initialised:
            return
        self.home.mkdir(parents=True, exist_ok=True)
        self.server_root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self.datadir.exists():  # a half-made cluster from an interrupted initdb
            shutil.rmtree(self.datadir)
        self.datadir.mkdir(mode=0o700)
        self.password_file.write_text(secrets.token_urlsafe(24))
        self.password_file.chmod(0o600)
        pwfile = self.server_root / ".initdb-pw"
        pwfile.write_text(self.password_file.read_text())
        self._chown(self.datadir, self.socket_dir, pwfile)
        if os.geteuid() == 0:
            # The server user must traverse to its data folder and read the log folder.
            self.server_root.chmod(0o755)
        try:
            self._pg(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "--pwfile",
                str(pwfile),
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# gis-registry embedded cluster\n")
            for key, value in SERVER_OPTIONS.items():
                conf.write(f"{key} = {value}\n")

    def start(self, timeout: float = 60.0) -> None:
        """Initialise if needed, start if not running, create the database and extensions."""
        self.init()
        if not self.is_running():
            self.pg_ctl_start(
                self.datadir,
                socket_dir=self.socket_dir,
                logfile=self.logfile,
                port_file=self.port_file,
                timeout=timeout,
                port=self.settings.port,
            )
        self._ensure_database()

    def stop(self) -> bool:
        """Stop the server; returns False when it was not running."""
        if not self.is_running():
            return False
        self.pg_ctl_stop(self.datadir)
        return True

    def pg_ctl_start(
        self,
        datadir: Path,
        *,
        socket_dir: Path,
        logfile: Path,
        port_file: Path,
        timeout: float,
        port: int | None = None,
    ) -> int:
        """Start the PostgreSQL server of ``datadir`` (this cluster's, or a standby's) as the
        server's OS user, with its socket in ``socket_dir``. Returns the port.

        The port is ``port`` when given (``GIS_REGISTRY_PORT``), else the one in ``port_file``,
        else (first start) a free one; it is written to ``port_file`` and so kept. A port taken
        by another program is a :class:`ServerError` naming it: moving silently to another
        port would break every saved connection (QGIS, a standby, GIS_REGISTRY_DATABASE_URL).
        """
        self._remove_stale_pid(datadir)
        stored = int(port_file.read_text().strip()) if port_file.exists() else None
        port = port or stored or free_port()
        if not _port_is_free(port):
            source = "GIS_REGISTRY_PORT" if port != stored else f"stored in {port_file}"
            other = (
                "set GIS_REGISTRY_PORT to a free port (it is then kept; saved connections, "
                "e.g. in QGIS, must be changed)"
                if datadir == self.datadir
                else "`gis-registry db replica stop --remove` to start it afresh on a new port"
            )
            raise ServerError(
                f"port {port} ({source}) is in use by another program, so the server in "
                f"{datadir} cannot start on it. Stop that program, or {other}."
            )
        port_file.write_text(str(port))
        logfile.touch()
        self._chown(logfile)
        self._pg(
            "pg_ctl",
            "start",
            "-D",
            str(datadir),
            "-l",
            str(logfile),
            "-o",
            f"-p {port} -k {socket_dir}",
            "-w",
            "-t",
            str(int(timeout)),
        )
        return port

    def pg_ctl_stop(self, datadir: Path) -> None:
        """Stop the PostgreSQL server of ``datadir`` (fast: open transactions roll back)."""
        self._pg("pg_ctl", "stop", "-D", str(datadir), "-m", "fast", "-w")

    def _remove_stale_pid(self, datadir: Path) -> None:
        """pg_ctl refuses to start over a pid file left by a crash if that pid now exists."""
        pidfile = datadir / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            pid = int(pidfile.read_text().splitlines()[0])
            os.kill(pid, 0)
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"postgres" in cmdline and str(datadir).encode() in cmdline:
                return  # a live server of ours; pg_ctl status should have said so
        except (ValueError, IndexError, ProcessLookupError, PermissionError, FileNotFoundError):
            pass
        pidfile.unlink()

    def _ensure_database(self) -> None:
        import psycopg

        base = self.url().rsplit("/", 1)[0]
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{DATABASE}"')
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        with psycopg.connect(self.url(), autocommit=True) as conn:
            for ext in EXTENSIONS:
                try:
                    conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext} CASCADE")
                except psycopg.errors.FeatureNotSupported as exc:  # pragma: no cover
                    raise ServerError(
                        f"Extension {ext} is not installed on this PostgreSQL; run `make setup`."
                    ) from exc
                except psycopg.errors.UndefinedFile as exc:
                    raise ServerError(
                        f"Extension {ext} is not installed on this PostgreSQL; run `make setup`."
                    ) from exc

    def data_size(self) -> int:
        """Bytes in the data directory."""
        total = 0
        for root, _dirs, files in os.walk(self.datadir):
            for name in files:
                try:
                    total += os.lstat(os.path.join(root, name)).st_size
                except OSError:
                    pass
        return total


def database_url(settings: Settings, *, start: bool = False) -> str:
    """The URL every part of the project connects to.

    Parameters
    ----------
    settings
        ``database_url`` (GIS_REGISTRY_DATABASE_URL) wins and is returned as is; otherwise the
        embedded cluster in ``home`` is used.
    start
        Start the embedded cluster when it is not running. Only ``gis-registry db start`` and
        the test fixtures should: an application asking for its database must not create one.

    Returns
    -------
    str
        A libpq URL (``postgresql://...``).

    Raises
    ------
    DatabaseUnavailable
        No URL is configured and the embedded cluster is not running (and ``start`` is False).
        Nothing was created, started or run in that case.
    ServerError
        With ``start``, the cluster could not be initialised or started.
    """
    if settings.database_url:
        return settings.database_url
    server = EmbeddedServer(settings)
    if start:
        server.start()
    elif not server.is_running():
        raise DatabaseUnavailable(NO_DATABASE)
    return server.url()
