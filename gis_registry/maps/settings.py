"""Map settings, read from the environment (prefix ``GIS_REGISTRY_MAP_``) and ``.env``.

No instance is created at import time: callers build :class:`MapSettings` and pass it on.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ASSETS_DIR = Path(__file__).parent / "assets" / "node_modules"


class MapSettings(BaseSettings):
    """Where the offline copies of the map libraries are, and the optional basemap."""

    model_config = SettingsConfigDict(
        env_prefix="GIS_REGISTRY_MAP_", env_file=".env", extra="ignore"
    )

    assets_dir: Path = Field(
        default=DEFAULT_ASSETS_DIR,
        description="node_modules folder installed by scripts/install-map-assets.sh.",
    )
    tiles_url: str | None = Field(
        default=None,
        description="Basemap tile URL template ({z}/{x}/{y}); none by default (works offline). "
        "Point it at a local tile server to keep maps offline.",
    )
    tiles_attribution: str = Field(
        default="", description="Attribution shown for the configured basemap."
    )
