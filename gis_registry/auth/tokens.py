"""OAuth2 bearer tokens: short-lived HS256 JWTs naming a user; the role is read from the
database on every use, so a deactivated user's tokens stop working at once."""

from __future__ import annotations

import datetime as dt

import jwt
from sqlalchemy import Connection

from gis_registry.auth.permissions import NotAuthenticated, Principal
from gis_registry.auth.users import get_user
from gis_registry.errors import NotFound

ISSUER = "gis-registry"


def issue_token(principal: Principal, *, secret: str, ttl_s: int = 3600) -> str:
    """Sign an HS256 bearer token naming ``principal``, valid for ``ttl_s`` seconds.

    The role in the claims is informational: :func:`verify_token` reads the role from the
    database again, so revoking or demoting a user takes effect before the token expires.

    Parameters
    ----------
    principal
        The user the token stands for (its ``username`` becomes the ``sub`` claim).
    secret
        The HS256 signing secret (``GIS_REGISTRY_API_JWT_SECRET`` in the API).
    ttl_s
        Lifetime in seconds, from now.

    Returns
    -------
    str
        The encoded JWT.
    """
    now = dt.datetime.now(dt.UTC)
    claims = {
        "iss": ISSUER,
        "sub": principal.username,
        "role": principal.role,
        "iat": now,
        "exp": now + dt.timedelta(seconds=ttl_s),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(conn: Connection, token: str, *, secret: str) -> Principal:
    """The principal named by a valid token; raise :class:`NotAuthenticated` otherwise."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"invalid bearer token: {exc}") from None
    try:
        return get_user(conn, str(claims["sub"]))
    except NotFound:
        raise NotAuthenticated("the token's user is unknown or inactive") from None
