"""The FastAPI application: ``create_app(settings)`` (uvicorn factory: ``api.app:create_app``)."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from api import errors, openapi
from api.batch import FeatureReader
from api.compression import Compression
from api.deps import ServiceState
from api.edge import Edge
from api.fastpath import FastReads
from api.limits import AnalysisGate
from api.pool import AsyncPool
from api.routers import (
    analysis,
    auth,
    collections,
    items,
    landing,
    maps,
    network,
    styles,
    tiles,
    write,
)
from api.settings import ApiSettings
from gis_registry import __version__
from gis_registry.settings import Settings


def read_session_options(settings: ApiSettings) -> str:
    """libpq ``options`` of the read pool: a statement timeout, Thai time, and the planner set
    for many short concurrent queries rather than one long one:

    - no JIT: its compilation costs tens of milliseconds, more than an API query saves;
    - no parallel workers: concurrent requests already keep every core busy, and launching
      workers for a 5 ms page made it several times slower under load.
    """
    return (
        f"-c statement_timeout={int(settings.read_timeout_ms)} -c TimeZone=Asia/Bangkok"
        " -c jit=off -c max_parallel_workers_per_gather=0"
    )


class Service(FastAPI):
    """The FastAPI application with the fast read path in front of all of it: FastAPI's own
    entry and middleware stack cost more than the fast path itself on a small read (a
    middleware added with ``add_middleware`` would sit behind them)."""

    def __init__(self, state: ServiceState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.state.service = state
        # the HTTP edge (body limits, connections kept after errors) in front of everything
        self._entry = Edge(FastReads(super().__call__, state), state.settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry: the edge, then the fast read path, which hands the rest to FastAPI."""
        await self._entry(scope, receive, send)


def create_app(
    settings: ApiSettings | None = None, *, registry_settings: Settings | None = None
) -> Service:
    """The service. The database is the registry's (``GIS_REGISTRY_DATABASE_URL`` or the
    running embedded cluster); API behaviour comes from ``settings`` (``GIS_REGISTRY_API_*``).

    Raises :class:`~gis_registry.errors.DatabaseUnavailable` when there is no database: a
    service never starts (or creates) the embedded cluster, so a missing
    GIS_REGISTRY_DATABASE_URL in production stops it at start-up instead of sending writes to a
    new, empty private database.
    """
    from gis_registry.db import make_engine
    from gis_registry.network.model import keep_snapshots_in, snapshot_directory
    from gis_registry.server import database_url

    settings = settings or ApiSettings()
    registry_settings = registry_settings or Settings()
    url = database_url(registry_settings, start=False)
    # the network is saved under the registry home: a restarted API loads it in milliseconds
    keep_snapshots_in(snapshot_directory(registry_settings))
    options = read_session_options(settings)
    # public reads from the standby when there is one; the primary keeps a pool of its own for
    # the reads that must see its latest commit (ServiceState.read_pool)
    read_url = registry_settings.read_database_url
    pool = AsyncPool(
        read_url or url, size=settings.pool_size, timeout_s=settings.pool_timeout_s, options=options
    )
    primary_pool = (
        AsyncPool(url, size=settings.pool_size, timeout_s=settings.pool_timeout_s, options=options)
        if read_url
        else None
    )
    state = ServiceState(
        settings=settings,
        registry_settings=registry_settings,
        database_url=url,
        pool=pool,
        features=FeatureReader(pool),
        primary_pool=primary_pool,
        primary_features=FeatureReader(primary_pool) if primary_pool else None,
        engine=make_engine(
            registry_settings,
            url=url,
            pool_size=settings.write_pool_size,
            max_overflow=settings.write_pool_size,
            pool_timeout=settings.pool_timeout_s,
        ),
        # analyses on a pool of their own, as many connections as they have slots
        analysis_engine=make_engine(
            registry_settings,
            url=url,
            pool_size=settings.analysis_pool_size,
            max_overflow=0,
            pool_timeout=settings.pool_timeout_s,
        ),
        analysis_gate=AnalysisGate(
            settings.analysis_pool_size,
            queue_s=settings.analysis_queue_s,
            per_client=settings.anonymous_analyses_per_client,
            retry_after_s=settings.analysis_timeout_ms / 1000,
        ),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Everything imported so far (pandas, shapely, SQLAlchemy...) lives as long as the
        # process: keep it out of the garbage collector's full passes, which otherwise stall
        # requests for tens of milliseconds.
        gc.collect()
        gc.freeze()
        yield
        await state.pool.close()
        if state.primary_pool is not None:
            await state.primary_pool.close()
        state.engine.dispose()
        if state.analysis_engine is not None:
            state.analysis_engine.dispose()

    app = Service(
        state,
        title=settings.title,
        description=settings.description,
        version=__version__,
        openapi_url="/api",
        docs_url=None,  # Swagger UI from local copies: openapi.install_docs
        redoc_url=None,
        lifespan=lifespan,
    )
    errors.install(app)
    app.include_router(landing.router)
    app.include_router(collections.router)
    app.include_router(items.make_router(settings))
    app.include_router(write.make_router(settings))
    app.include_router(tiles.router)
    app.include_router(analysis.router)
    app.include_router(network.router)
    app.include_router(auth.router)
    app.include_router(maps.router)
    app.include_router(styles.router)
    openapi.install(app)
    openapi.install_docs(app)
    app.add_middleware(Compression)
    return app
