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
    read_database_url: str | None = Field(
        default=None,
        description="A streaming standby (postgresql://...) of the database: the API's public "
        "reads go there; writes, authentication, history and analyses stay on the primary "
        "(`gis-registry db replica start` makes one of the embedded cluster).",
    )
    home: Path = Field(
        default=Path(".gis-registry"),
        description="Folder of the embedded cluster (data, socket, logs, password).",
    )
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="TCP port of the embedded cluster. Unset: a free port is chosen at its "
        "first start and kept (stored in <home>/port) so saved connections (QGIS) keep "
        "working; set, it is used from the next start on and stored.",
    )
    pg_bindir: Path | None = Field(
        default=None, description="PostgreSQL server binaries; found via pg_config when unset."
    )
    pg_os_user: str = Field(
        default="gisregistry",
        description="OS user that runs the embedded server when the caller is root.",
    )
    statement_timeout_ms: int = Field(default=60_000, ge=0)
    # defaults: gis_registry.validation.MAX_VERTICES etc. (settings sit below validation)
    max_vertices: int = Field(
        default=10_000,
        ge=2,
        description="Most vertices of one point or line geometry a write may give (API, "
        "library and imports); more is refused naming the feature and the limit.",
    )
    max_area_vertices: int = Field(
        default=250_000,
        ge=4,
        description="Most vertices of one polygon geometry (boundaries, zones, hazard areas).",
    )
    min_vertex_spacing_m: float = Field(
        default=0.5,
        ge=0,
        description="Least mean distance in metres between the vertices of a geometry of more "
        "than 100 vertices (0 turns the rule off).",
    )

    def resolved_home(self) -> Path:
        """``home`` as an absolute path: ``~`` expanded, a relative path taken from the cwd."""
        return self.home.expanduser().resolve()
