"""Fixtures of the QGIS tests: PyQGIS (Debian's, in a subprocess), the demo province in PostGIS
and the real API server over it.

PyQGIS missing is a skip with its reason on a developer's machine, and a failure in CI
(``CI`` set): ``scripts/install-system.sh`` installs ``python3-qgis`` there.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine

from tests.api.conftest import serve
from tests.fixtures.servers import database_url
from tests.qgis.runner import qgis_missing, run_pyqgis


def in_ci() -> bool:
    """Whether the tests run in CI (where every OS package of install-system.sh is present)."""
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def pyqgis() -> Callable[..., Any]:
    """:func:`tests.qgis.runner.run_pyqgis`, once PyQGIS is known to start here."""
    reason = qgis_missing()
    if reason is not None:
        if in_ci():
            pytest.fail(f"PyQGIS is needed in CI: {reason}", pytrace=False)
        pytest.skip(reason)
    return run_pyqgis


@pytest.fixture(scope="session")
def demo_api(demo_engine: Engine) -> str:
    """Base URL of ``gis-registry serve`` over the demo province (read only)."""
    with serve(database_url(demo_engine)) as base:
        yield base


@pytest.fixture(scope="session")
def demo_connection(demo_engine: Engine) -> dict[str, Any]:
    """The demo database's connection as a QGIS PostGIS connection takes it."""
    url = demo_engine.url
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "dbname": url.database,
        "user": url.username,
        "password": url.password or "",
    }
