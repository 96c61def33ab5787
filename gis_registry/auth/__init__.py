"""Who may do what: users with roles, hashed API keys, bearer tokens and the editing rules.

Library side only (no HTTP): the API and the CLI call these functions with a connection they own.
"""

from __future__ import annotations

from gis_registry.auth.keys import NewKey, authenticate_key, create_key, list_keys, revoke_key
from gis_registry.auth.permissions import (
    ROLES,
    AuthError,
    NotAuthenticated,
    PermissionDenied,
    Principal,
    check_write,
    owning_local_body,
    require_role,
)
from gis_registry.auth.tokens import issue_token, verify_token
from gis_registry.auth.users import add_user, get_user, list_users, set_user_active

__all__ = [
    "ROLES",
    "AuthError",
    "NewKey",
    "NotAuthenticated",
    "PermissionDenied",
    "Principal",
    "add_user",
    "authenticate_key",
    "check_write",
    "create_key",
    "get_user",
    "issue_token",
    "list_keys",
    "list_users",
    "owning_local_body",
    "require_role",
    "revoke_key",
    "set_user_active",
    "verify_token",
]
