"""Alembic environment: the engine comes from gis_registry (embedded or configured database).

Callers (``gis_registry.db.migrate``) pass their engine in ``config.attributes["engine"]``.
Run bare (``alembic upgrade``), it connects to the configured database, which must be up:
like every connection, this never starts the embedded cluster (``gis-registry db start`` does).
"""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from gis_registry.db.migrations.env_helpers import include_object
from gis_registry.db.tables import metadata


def run_migrations_online() -> None:
    engine = context.config.attributes.get("engine")
    if engine is None:
        from gis_registry.db import make_engine
        from gis_registry.settings import Settings

        engine = make_engine(Settings())  # DatabaseUnavailable when there is no database
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
