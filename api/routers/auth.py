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
    """A user to add, with `role` viewer, editor or admin.

    An editor needs `local_body_id`: the local body (LGO) whose assets they may change.
    """

    username: str = Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")
    role: str = Field(pattern=r"^(viewer|editor|admin)$")
    local_body_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    display_name: str | None = Field(default=None, max_length=200)


class NewKeyRequest(BaseModel):
    """An API key to create for the user `username`, with an optional label `name`."""

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
    """Exchange an API key for a short-lived bearer token (OAuth2 client-credentials grant).

    Anyone holding a valid API key may call it: send `grant_type=client_credentials` and the key
    as `client_secret`, form-encoded (`client_id` is accepted and ignored). The token is valid
    for `expires_in` seconds and goes in `Authorization: Bearer <token>`; the key and the user
    are checked again on every request, so a token stops working at once when its key is
    revoked or expires or its user is disabled.
    Answers 401 for an unknown, revoked or expired key, and 404 when this server has bearer
    tokens switched off (no JWT secret configured).
    """
    secret = state.settings.jwt_secret
    if not secret:
        raise NotFound("bearer tokens are not enabled (set GIS_REGISTRY_API_JWT_SECRET)")

    def work() -> Any:
        with state.engine.connect() as conn:
            found = auth.key_principal(conn, client_secret)
        if found is None:
            raise auth.NotAuthenticated("unknown, revoked or expired API key")
        principal, key_id = found
        # the token carries its key: it dies with it (revoked, expired, user disabled)
        return auth.issue_token(
            principal, secret=secret, ttl_s=state.settings.token_ttl_s, key_id=key_id
        )

    access = await run_in_threadpool(work)
    return json_response(
        {"access_token": access, "token_type": "bearer", "expires_in": state.settings.token_ttl_s},
        headers={"Cache-Control": "no-store"},
    )


@router.get("/auth/me", summary="Who the credentials belong to", operation_id="whoAmI")
async def me(principal: Caller) -> Response:
    """The username, role and local body (LGO) of the credentials sent.

    Any valid API key (`X-API-Key`) or bearer token may call it; without credentials the answer
    is 401. Use it to check a key or token and what it allows.
    """
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
    """Every user, active or not, with role, local body and creation time. Admins only."""
    with state.engine.connect() as conn:
        return json_response({"users": auth.list_users(conn)})


@router.post("/admin/users", summary="Add a user", operation_id="addUser", status_code=201)
def add_user(state: State, _: Admin, user: NewUser) -> Response:
    """Add a user with a role (viewer, editor or admin). Admins only.

    An editor must name the local body (LGO) whose assets they may change (roads, bridges,
    water sources, villages, and their inspections and works); viewers and admins may leave it
    out. The user has no credentials yet: create an API key with `POST /admin/keys`. Answers
    400 for an editor without a local body, an unknown local body or a username already taken.
    """
    with state.engine.begin() as conn:
        user_id = auth.add_user(
            conn,
            user.username,
            role=user.role,
            local_body_id=user.local_body_id,
            display_name=user.display_name,
        )
    return json_response({"id": user_id, **user.model_dump()}, status_code=201)


Username = Annotated[str, Path(pattern=r"^[A-Za-z0-9._@-]{1,64}$", description="a username")]


@router.post(
    "/admin/users/{username}/disable",
    summary="Disable a user: every key and token ends at once",
    operation_id="disableUser",
)
def disable_user(state: State, caller: Admin, username: Username) -> Response:
    """Lock a user out at once. Admins only.

    The user is marked inactive and every one of their API keys is revoked for good, so their
    keys and the bearer tokens obtained with them are refused from the next request on
    (`gis-registry users disable NAME` does the same). Answers 200 with the number of keys
    revoked, 404 for an unknown user, 400 for the caller's own account (an admin cannot lock
    themselves out).
    """
    if username == caller.username:
        raise InvalidParameter("username", "you cannot disable your own account")
    with state.engine.begin() as conn:
        revoked = auth.disable_user(conn, username)
    return json_response({"username": username, "active": False, "keys_revoked": revoked})


@router.get("/admin/keys", summary="API keys (without secrets)", operation_id="listKeys")
def list_keys(state: State, _: Admin) -> Response:
    """Every API key, revoked and expired ones included: prefix, label, user and dates. Admins only.

    Secrets are never returned; a lost key is revoked and replaced.
    """
    with state.engine.connect() as conn:
        return json_response({"keys": auth.list_keys(conn)})


@router.post(
    "/admin/keys",
    summary="Create an API key (shown once)",
    operation_id="createKey",
    status_code=201,
)
def create_key(state: State, _: Admin, request: NewKeyRequest) -> Response:
    """Create an API key for an existing, active user. Admins only.

    The response holds the whole key (`gisr_<prefix>_<secret>`): it is shown this once and
    cannot be recovered, since only a hash of the secret is stored. `name` is a free label (what
    the key is for). Answers 404 when the user is unknown or inactive.
    """
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
    """Revoke an API key, given by its prefix (as listed by `GET /admin/keys`). Admins only.

    The key stops working at once and cannot be restored, and so do the bearer tokens obtained
    with it. Answers 204, or 404 when no active key has this prefix.
    """
    if not prefix.replace("_", "").replace("-", "").isalnum():
        raise InvalidParameter("prefix", "not a key prefix")
    with state.engine.begin() as conn:
        auth.revoke_key(conn, prefix)
    return Response(status_code=204)
