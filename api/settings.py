"""Settings of the HTTP service (prefix ``GIS_REGISTRY_API_``); the database comes from
:class:`gis_registry.settings.Settings`. No instance is created at import time."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Settings of the HTTP service, from ``GIS_REGISTRY_API_*`` variables and ``.env``."""

    model_config = SettingsConfigDict(
        env_prefix="GIS_REGISTRY_API_", env_file=".env", extra="ignore"
    )

    title: str = "Lampang PAO infrastructure registry"
    description: str = (
        "Roads, bridges, water sources, zoning, local bodies, settlements and hazard areas of "
        "Lampang province (OGC API - Features)."
    )
    default_limit: int = Field(default=10, ge=1, description="items per page when not asked")
    max_limit: int = Field(default=10_000, ge=1, description="largest page a client may ask for")
    public_read: bool = Field(default=True, description="read without credentials")
    pool_size: int = Field(default=8, ge=1, description="database connections per worker")
    pool_timeout_s: float = Field(default=10.0, gt=0)
    count_limit: int = Field(
        default=100_000,
        ge=0,
        description="numberMatched is exact up to this many features; above it, it is left out",
    )
    read_timeout_ms: int = Field(default=15_000, ge=0, description="statement timeout of reads")
    analysis_timeout_ms: int = Field(
        default=30_000, ge=0, description="statement timeout of an analysis (then 504)"
    )
    jwt_secret: str | None = Field(
        default=None, description="HS256 secret of bearer tokens; tokens are off when unset"
    )
    token_ttl_s: int = Field(default=3600, ge=60)
    tile_max_features: int = Field(default=20_000, ge=1)
