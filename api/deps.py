"""Dependencies: the service state (read pool, write engine) and who is calling."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from api.batch import FeatureReader
from api.limits import AnalysisGate
from api.pool import AsyncPool
from api.settings import ApiSettings
from gis_registry.auth import (
    NotAuthenticated,
    Principal,
    authenticate_key,
    require_role,
    verify_token,
)
from gis_registry.settings import Settings


@dataclass
class ServiceState:
    """What every request may use; built by :func:`api.app.create_app`."""

    settings: ApiSettings
    registry_settings: Settings
    database_url: str
    pool: AsyncPool
    engine: Engine
    features: FeatureReader
    cache: dict[str, tuple[float, Any]] = field(default_factory=dict)
    # the analyses' own pool and slots (api.limits.AnalysisGate): authentication, writes and
    # history use ``engine`` and never wait behind them; None: analyses share ``engine``
    analysis_engine: Engine | None = None
    analysis_gate: AnalysisGate | None = None
    # With GIS_REGISTRY_READ_DATABASE_URL, ``pool`` and ``features`` read from the standby and
    # these from the primary, for the reads that must see the latest commit (see read_pool);
    # None: there is no standby and every read uses ``pool``.
    primary_pool: AsyncPool | None = None
    primary_features: FeatureReader | None = None

    def read_pool(self, *, primary: bool = False) -> AsyncPool:
        """The pool of a read: the standby's, or the primary's when ``primary`` (a past state
        with ``?at=``, a caller with credentials, who writes and reads its own writes back)."""
        return self.primary_pool if primary and self.primary_pool else self.pool

    def feature_reader(self, *, primary: bool = False) -> FeatureReader:
        """The features-by-id reader on :meth:`read_pool`'s pool."""
        return self.primary_features if primary and self.primary_features else self.features

    def cached(self, key: str, ttl_s: float) -> Any:
        """The value remembered under ``key`` if younger than ``ttl_s`` seconds, else None.

        A small per-process cache for costly, slowly changing answers (layer statistics).
        """
        hit = self.cache.get(key)
        if hit and time.monotonic() - hit[0] < ttl_s:
            return hit[1]
        return None

    def remember(self, key: str, value: Any) -> Any:
        """Store ``value`` under ``key``, stamped now for :meth:`cached`, and return it."""
        self.cache[key] = (time.monotonic(), value)
        return value


async def get_state(request: Request) -> ServiceState:
    """The application's :class:`ServiceState`, as a dependency (``State``) for routes."""
    return request.app.state.service


State = Annotated[ServiceState, Depends(get_state)]

_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key gisr_...")
_bearer = HTTPBearer(
    auto_error=False, description="an OAuth2 access token from /auth/token, or an API key"
)


def _authenticate(state: ServiceState, token: str) -> Principal:
    with state.engine.connect() as conn:
        if token.startswith("gisr_"):
            principal = authenticate_key(conn, token)
            if principal is None:
                raise NotAuthenticated("unknown, revoked or expired API key")
            return principal
        if state.settings.jwt_secret:
            return verify_token(conn, token, secret=state.settings.jwt_secret)
    raise NotAuthenticated("unrecognised credentials (expected an API key gisr_...)")


async def current_principal(
    state: State,
    api_key: Annotated[str | None, Depends(_api_key)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller, or None when no credentials were sent; bad credentials are refused (401)."""
    token = api_key or (bearer.credentials if bearer else None)
    if not token:
        return None
    return await run_in_threadpool(_authenticate, state, token)


Caller = Annotated[Principal | None, Depends(current_principal)]


def sends_credentials(request: Request) -> bool:
    """Whether the request carries credentials (an API key or an Authorization header)."""
    return "x-api-key" in request.headers or "authorization" in request.headers


async def reader(state: State, request: Request) -> Principal | None:
    """Reads are public unless configured closed; then a viewer (or more) is needed.

    Credentials are looked up only when reading is closed, or when sent (to refuse bad ones):
    public reads cost no lookup.
    """
    has_credentials = sends_credentials(request)
    if state.settings.public_read and not has_credentials:
        return None
    api_key = request.headers.get("x-api-key")
    bearer = request.headers.get("authorization", "")
    token = api_key or (bearer[7:].strip() if bearer.lower().startswith("bearer ") else None)
    principal = await run_in_threadpool(_authenticate, state, token) if token else None
    if not state.settings.public_read:
        require_role(principal, "viewer")
    return principal


async def editor(principal: Caller) -> Principal:
    """The caller if an editor or admin; 401 without credentials, 403 for a lower role."""
    return require_role(principal, "editor")


async def admin(principal: Caller) -> Principal:
    """The caller if an admin; 401 without credentials, 403 for any other role."""
    return require_role(principal, "admin")


Reader = Annotated[Principal | None, Depends(reader)]
Editor = Annotated[Principal, Depends(editor)]
Admin = Annotated[Principal, Depends(admin)]
