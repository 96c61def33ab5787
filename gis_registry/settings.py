"""Configuration, read from the environment (prefix ``GIS_REGISTRY_``) and ``.env``.

No instance is created at import time: callers build :class:`Settings` and pass it on.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings shared by the library, the CLI and the API."""

    model_config = SettingsConfigDict(env_prefix="GIS_REGISTRY_", env_file=".env", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="Use this existing PostGIS (postgresql://...) instead of the embedded cluster.",
    )
    home: Path = Field(
        default=Path(".gis-registry"),
        description="Folder of the embedded cluster (data, socket, logs, password).",
    )
    pg_bindir: Path | None = Field(
        default=None, description="PostgreSQL server binaries; found via pg_config when unset."
    )
    pg_os_user: str = Field(
        default="gisregistry",
        description="OS user that runs the embedded server when the caller is root.",
    )
    statement_timeout_ms: int = Field(default=60_000, ge=0)

    def resolved_home(self) -> Path:
        """``home`` as an absolute path: ``~`` expanded, a relative path taken from the cwd."""
        return self.home.expanduser().resolve()
