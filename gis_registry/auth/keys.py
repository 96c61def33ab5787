"""API keys: ``gisr_<prefix>_<secret>``; only the SHA-256 of the secret is stored.

The secret has 256 bits of entropy, so a fast hash is enough (no password stretching needed);
the prefix finds the row, the hash is compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, or_, select, update

from gis_registry.auth.permissions import Principal
from gis_registry.auth.users import get_user
from gis_registry.db.tables_auth import api_keys, users
from gis_registry.errors import NotFound

SCHEME = "gisr"


@dataclass(frozen=True)
class NewKey:
    """A key just created: ``token`` is shown once and never stored."""

    id: int
    prefix: str
    token: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(token: str) -> tuple[str, str] | None:
    parts = token.strip().split("_")
    if len(parts) != 3 or parts[0] != SCHEME or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def create_key(
    conn: Connection,
    username: str,
    *,
    name: str | None = None,
    expires_at: dt.datetime | None = None,
) -> NewKey:
    """Create a key for ``username``; the returned token is the only copy of the secret."""
    user = get_user(conn, username)
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32).replace("_", "-")  # '_' separates the parts
    key_id = conn.execute(
        insert(api_keys)
        .values(
            user_id=user.user_id,
            prefix=prefix,
            key_hash=_hash(secret),
            name=name,
            expires_at=expires_at,
        )
        .returning(api_keys.c.id)
    ).scalar_one()
    return NewKey(key_id, prefix, f"{SCHEME}_{prefix}_{secret}")


def revoke_key(conn: Connection, key: str) -> None:
    """Revoke a key given by its prefix (or its whole token)."""
    parts = _split(key) if key.startswith(f"{SCHEME}_") else None
    prefix = parts[0] if parts else key
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.prefix == prefix, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    if result.rowcount == 0:
        raise NotFound(f"no active API key with prefix '{prefix}'")


def list_keys(conn: Connection, username: str | None = None) -> list[dict[str, Any]]:
    """The API keys, revoked and expired ones included, ordered by id; never the secret or its hash.

    ``username`` limits the list to that user's keys.
    """
    query = (
        select(
            api_keys.c.id,
            api_keys.c.prefix,
            api_keys.c.name,
            users.c.username,
            api_keys.c.created_at,
            api_keys.c.expires_at,
            api_keys.c.revoked_at,
        )
        .join(users, users.c.id == api_keys.c.user_id)
        .order_by(api_keys.c.id)
    )
    if username is not None:
        query = query.where(users.c.username == username)
    return [dict(r) for r in conn.execute(query).mappings()]


def authenticate_key(conn: Connection, token: str) -> Principal | None:
    """The principal behind a valid, unrevoked, unexpired key of an active user, else None."""
    found = key_principal(conn, token)
    return found[0] if found else None


def _live_keys() -> Any:
    """The keys that work: unrevoked, unexpired, of an active user (joined to ``users``)."""
    return (
        select(
            api_keys.c.id.label("key_id"),
            api_keys.c.key_hash,
            users.c.id,
            users.c.username,
            users.c.role,
            users.c.local_body_id,
        )
        .join(users, users.c.id == api_keys.c.user_id)
        .where(
            api_keys.c.revoked_at.is_(None),
            or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > func.now()),
            users.c.active,
        )
    )


def key_principal(conn: Connection, token: str) -> tuple[Principal, int] | None:
    """The principal behind a working key and the key's id (what a bearer token obtained with
    it carries, see :func:`gis_registry.auth.tokens.issue_token`), else None.

    Parameters
    ----------
    conn : a connection to the registry
    token : the whole key, ``gisr_<prefix>_<secret>``
    """
    parts = _split(token)
    if parts is None:
        return None
    prefix, secret = parts
    row = conn.execute(_live_keys().where(api_keys.c.prefix == prefix)).mappings().first()
    if row is None or not hmac.compare_digest(row["key_hash"], _hash(secret)):
        return None
    return _principal(row), row["key_id"]


def principal_of_key(conn: Connection, key_id: int) -> Principal | None:
    """The principal of the key with id ``key_id`` while it works (unrevoked, unexpired, its
    user active), else None: how a bearer token is checked against the key it came from."""
    row = conn.execute(_live_keys().where(api_keys.c.id == key_id)).mappings().first()
    return None if row is None else _principal(row)


def _principal(row: Any) -> Principal:
    """The user of a :func:`_live_keys` row."""
    return Principal(row["id"], row["username"], row["role"], row["local_body_id"])
