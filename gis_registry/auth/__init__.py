"""Who may do what: users with roles, hashed API keys, bearer tokens and the editing rules.

Library side only (no HTTP): the API and the CLI call these functions with a connection they own.
"""

from __future__ import annotations

from gis_registry.auth.keys import (
    NewKey,
    authenticate_key,
    create_key,
    key_principal,
    list_keys,
    principal_of_key,
    revoke_key,
)
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
from gis_registry.auth.users import (
    add_user,
    disable_user,
    enable_user,
    get_user,
    list_users,
    set_user_active,
)

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
    "disable_user",
    "enable_user",
    "get_user",
    "issue_token",
    "key_principal",
    "list_keys",
    "list_users",
    "owning_local_body",
    "principal_of_key",
    "require_role",
    "revoke_key",
    "set_user_active",
    "verify_token",
]
