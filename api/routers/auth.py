"""Credentials: OAuth2 access tokens for API keys, and the admin's users and keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from api.deps import Admin, Caller, State
from api.errors import InvalidParameter
from api.formats import json_response
from gis_registry import auth
from gis_registry.errors import NotFound

router = APIRouter(tags=["Access"])


class NewUser(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")
    role: str = Field(pattern=r"^(viewer|editor|admin)$")
    local_body_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    display_name: str | None = Field(default=None, max_length=200)


class NewKeyRequest(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")
    name: str | None = Field(default=None, max_length=200)


@router.post(
    "/auth/token",
    summary="OAuth2 client-credentials grant: an API key for a short-lived bearer token",
    operation_id="issueToken",
)
async def token(
    state: State,
    grant_type: Annotated[str, Form(pattern="^client_credentials$")],
    client_secret: Annotated[str, Form(description="an API key gisr_...", max_length=200)],
    client_id: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    secret = state.settings.jwt_secret
    if not secret:
        raise NotFound("bearer tokens are not enabled (set GIS_REGISTRY_API_JWT_SECRET)")

    def work() -> Any:
        with state.engine.connect() as conn:
            principal = auth.authenticate_key(conn, client_secret)
        if principal is None:
            raise auth.NotAuthenticated("unknown, revoked or expired API key")
        return auth.issue_token(principal, secret=secret, ttl_s=state.settings.token_ttl_s)

    access = await run_in_threadpool(work)
    return json_response(
        {"access_token": access, "token_type": "bearer", "expires_in": state.settings.token_ttl_s},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/auth/me", summary="Who the credentials belong to", operation_id="whoAmI")
async def me(principal: Caller) -> Response:
    principal = auth.require_role(principal, "viewer")
    return json_response(
        {
            "username": principal.username,
            "role": principal.role,
            "local_body_id": principal.local_body_id,
        }
    )


@router.get("/admin/users", summary="Users", operation_id="listUsers")
def list_users(state: State, _: Admin) -> Response:
    with state.engine.connect() as conn:
        return json_response({"users": auth.list_users(conn)})


@router.post("/admin/users", summary="Add a user", operation_id="addUser", status_code=201)
def add_user(state: State, _: Admin, user: NewUser) -> Response:
    with state.engine.begin() as conn:
        user_id = auth.add_user(
            conn,
            user.username,
            role=user.role,
            local_body_id=user.local_body_id,
            display_name=user.display_name,
        )
    return json_response({"id": user_id, **user.model_dump()}, status_code=201)


@router.get("/admin/keys", summary="API keys (without secrets)", operation_id="listKeys")
def list_keys(state: State, _: Admin) -> Response:
    with state.engine.connect() as conn:
        return json_response({"keys": auth.list_keys(conn)})


@router.post(
    "/admin/keys",
    summary="Create an API key (shown once)",
    operation_id="createKey",
    status_code=201,
)
def create_key(state: State, _: Admin, request: NewKeyRequest) -> Response:
    with state.engine.begin() as conn:
        key = auth.create_key(conn, request.username, name=request.name)
    return json_response(
        {"id": key.id, "prefix": key.prefix, "key": key.token, "username": request.username},
        status_code=201,
    )


@router.delete(
    "/admin/keys/{prefix}",
    summary="Revoke an API key",
    operation_id="revokeKey",
    status_code=204,
    response_class=Response,
)
def revoke_key(state: State, _: Admin, prefix: Annotated[str, Path(max_length=100)]) -> Response:
    if not prefix.replace("_", "").replace("-", "").isalnum():
        raise InvalidParameter("prefix", "not a key prefix")
    with state.engine.begin() as conn:
        auth.revoke_key(conn, prefix)
    return Response(status_code=204)
