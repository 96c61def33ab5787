"""The library never imports the web stack (dependency direction: api -> gis_registry)."""

import subprocess
import sys


def test_library_does_not_import_web_or_map_stack():
    code = (
        "import sys, gis_registry, gis_registry.cli, gis_registry.registry, "
        "gis_registry.queries.features, gis_registry.validation;"
        "bad = [m for m in ('fastapi', 'starlette', 'api', 'folium') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cli_starts_without_geopandas():
    code = "import sys, gis_registry.cli; sys.exit(1 if 'geopandas' in sys.modules else 0)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
