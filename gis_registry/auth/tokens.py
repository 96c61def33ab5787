"""OAuth2 bearer tokens: short-lived HS256 JWTs naming a user and the API key they were
obtained with. Every use reads the key and the user again: a token stops working at once when
its key is revoked, expires or is deleted, or its user is disabled; the role is the user's
current one."""

from __future__ import annotations

import datetime as dt

import jwt
from sqlalchemy import Connection

from gis_registry.auth.keys import principal_of_key
from gis_registry.auth.permissions import NotAuthenticated, Principal
from gis_registry.auth.users import get_user
from gis_registry.errors import NotFound

ISSUER = "gis-registry"
KEY_CLAIM = "api_key"  # the id of the API key a token was obtained with


def issue_token(
    principal: Principal, *, secret: str, ttl_s: int = 3600, key_id: int | None = None
) -> str:
    """Sign an HS256 bearer token naming ``principal``, valid for ``ttl_s`` seconds.

    The role in the claims is informational: :func:`verify_token` reads the key and the user
    from the database again, so revoking the key, disabling or demoting the user takes effect
    before the token expires.

    Parameters
    ----------
    principal
        The user the token stands for (its ``username`` becomes the ``sub`` claim).
    secret
        The HS256 signing secret (``GIS_REGISTRY_API_JWT_SECRET`` in the API).
    ttl_s
        Lifetime in seconds, from now.
    key_id
        The id of the API key the token is obtained with (the ``api_key`` claim): the token
        works only while the key does. None: a token checked against its user only.

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
    if key_id is not None:
        claims[KEY_CLAIM] = key_id
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(conn: Connection, token: str, *, secret: str) -> Principal:
    """The principal named by a valid token; raise :class:`NotAuthenticated` otherwise.

    A token that carries its key (``api_key``) is valid while that key works and belongs to
    the token's user; one without is valid while its user is active.
    """
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError as exc:
        raise NotAuthenticated(f"invalid bearer token: {exc}") from None
    key_id = claims.get(KEY_CLAIM)
    if key_id is not None:
        if not isinstance(key_id, int) or isinstance(key_id, bool):
            raise NotAuthenticated("invalid bearer token: a malformed api_key claim")
        principal = principal_of_key(conn, key_id)
        if principal is None or principal.username != str(claims["sub"]):
            raise NotAuthenticated(
                "the token's API key is revoked, expired or deleted, or its user is disabled"
            )
        return principal
    try:
        return get_user(conn, str(claims["sub"]))
    except NotFound:
        raise NotAuthenticated("the token's user is unknown or inactive") from None
