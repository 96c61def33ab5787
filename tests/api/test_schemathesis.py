"""Property-based robustness: schemathesis generates requests from the OpenAPI document (valid
and invalid); no answer may be a 5xx, and every error is problem+json.

It runs on its own database (generated writes, made as admin, may succeed) so the other tests'
data stay as they are."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi

from api.app import create_app
from api.settings import ApiSettings
from gis_registry.settings import Settings
from tests.api.conftest import JWT_SECRET
from tests.api.world import build_api_world

pytestmark = pytest.mark.db
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "10"))  # per operation and mode


@pytest.fixture(scope="module")
def fuzz_target(settings: Settings):
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database

    url = create_test_database(settings, suffix="_api_fuzz_test")
    eng = make_engine(settings, url=url)
    upgrade(eng)
    with eng.begin() as conn:
        world = build_api_world(conn)
    eng.dispose()
    app = create_app(
        ApiSettings(jwt_secret=JWT_SECRET, max_limit=1000, read_timeout_ms=5000),
        registry_settings=Settings(database_url=url),
    )
    with asgi.get_client(app) as session:  # one client: one event loop for the pool
        yield app, session, world["keys"]["admin"]
    drop_test_database(url)


def test_no_server_errors(fuzz_target):
    app, session, admin_key = fuzz_target
    schema = schemathesis.openapi.from_asgi("/api", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15
    failures: list[str] = []
    calls = [0]

    def check(case) -> None:
        for headers in (None, {"X-API-Key": admin_key}):
            response = case.call(session=session, headers=headers)
            calls[0] += 1
            label = (
                f"{case.method} {case.formatted_path} query={case.query} body={case.body!r:.200}"
            )
            if response.status_code >= 500:
                failures.append(f"{label} -> {response.status_code}: {response.text[:300]}")
            elif response.status_code >= 400:
                kind = response.headers.get("content-type", [""])[0]
                if not kind.startswith("application/problem+json"):
                    failures.append(f"{label} -> {response.status_code} as {kind}")

    for operation in operations:
        # the analyses are slow by nature: fewer examples keep the run well under a minute
        examples = max(2, EXAMPLES // 4) if operation.path.startswith("/analysis") else EXAMPLES
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @given(case=strategy)
            @settings(
                max_examples=examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def run(case) -> None:
                check(case)

            try:
                run()
            except Unsatisfiable:  # nothing invalid to generate for this operation
                pass
    assert not failures, "\n".join(failures[:20])
    assert calls[0] > 4 * len(operations)
