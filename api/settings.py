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
    analysis_pool_size: int = Field(
        default=3,
        ge=1,
        description="analyses running at once per worker, each on a connection of the analyses' "
        "own pool (authentication, writes and history never wait behind them); more wait up to "
        "analysis_queue_s, then get a 503 with Retry-After",
    )
    analysis_queue_s: float = Field(
        default=10.0, ge=0, description="how long an analysis waits for a free slot (then 503)"
    )
    anonymous_analyses_per_client: int = Field(
        default=2,
        ge=0,
        description="analyses in flight per anonymous client address (then 429 with "
        "Retry-After); 0 refuses anonymous analyses; authenticated callers are not limited",
    )
    write_pool_size: int = Field(
        default=4,
        ge=1,
        description="connections of the pool that authentication, writes and history use "
        "(and as many again in overflow)",
    )
    jwt_secret: str | None = Field(
        default=None, description="HS256 secret of bearer tokens; tokens are off when unset"
    )
    token_ttl_s: int = Field(default=3600, ge=60)
    tile_max_features: int = Field(default=20_000, ge=1)
    # the HTTP edge (api.edge, api.protocol, api.serve)
    max_body_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=0,
        description="largest body of a feature write (POST/PUT/PATCH under /collections/), "
        "refused with 413 while it is received, before it is parsed or its sender authenticated",
    )
    max_small_body_bytes: int = Field(
        default=64 * 1024,
        ge=0,
        description="largest body of every other request (users, keys, tokens...); then 413",
    )
    public_url: str | None = Field(
        default=None,
        description="the service's public address (https://host[:port][/path]) that every link "
        "is built from; when unset, links follow the request's Host header if it is a valid "
        "host[:port], else the server's own address",
    )
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="a connection that has not sent a request's complete headers this many "
        "seconds after it opened (or after the request began) is closed",
    )
    keep_alive_s: float = Field(
        default=5.0, gt=0, description="an idle keep-alive connection is closed after this long"
    )
