"""Roles and the editing rule: viewers read, editors write the assets of their own local body
(LGO), admins do everything (users and keys included)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from gis_registry.db.tables import WATER_TABLES, bridges, roads, water_sources
from gis_registry.db.tables_auth import ROLES
from gis_registry.errors import GisRegistryError

_RANK = {role: rank for rank, role in enumerate(ROLES)}


class AuthError(GisRegistryError):
    """Base of authentication and authorisation refusals."""


class NotAuthenticated(AuthError):
    """No credentials, or credentials that are unknown, revoked or expired."""


class PermissionDenied(AuthError):
    """The caller is known but their role or local body does not allow this."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    user_id: int
    username: str
    role: str
    local_body_id: int | None = None

    def has_role(self, role: str) -> bool:
        """True when the principal's role is ``role`` or above it (viewer < editor < admin)."""
        return _RANK[self.role] >= _RANK[role]


def require_role(principal: Principal | None, role: str) -> Principal:
    """The principal if it holds ``role`` (or a higher one); raise otherwise."""
    if principal is None:
        raise NotAuthenticated("authentication required (an API key or a bearer token)")
    if not principal.has_role(role):
        raise PermissionDenied(f"'{principal.username}' is a {principal.role}; this needs {role}")
    return principal


# layer -> the column that names the owning local body directly
_DIRECT_OWNER = {
    "roads": "owner_local_body_id",
    **{t.name: "owner_local_body_id" for t in WATER_TABLES},
    "settlements": "local_body_id",
}
# layers whose records belong to the owner of the asset they refer to
_ASSET_LAYERS = ("bridges", "inspections", "maintenance_works")
# layer -> the column naming the local body whose budget pays: an editor spends only their own
_FUNDER = {"maintenance_works": "funding_local_body_id"}
EDITABLE_LAYERS = frozenset(_DIRECT_OWNER) | frozenset(_ASSET_LAYERS)


def _owner_of_road(conn: Connection, road_id: Any) -> int | None:
    if road_id is None:
        return None
    return conn.execute(
        select(roads.c.owner_local_body_id).where(roads.c.id == road_id)
    ).scalar_one_or_none()


def owning_local_body(conn: Connection, layer: str, record: Mapping[str, Any]) -> int | None:
    """The local body (LGO) that owns ``record`` of ``layer``, or None (an agency, or unknown).

    Roads and water sources name their owner; a village belongs to its local body; a bridge to
    the owner of its road; inspections and works to the owner of the asset they concern.
    """
    if layer in _DIRECT_OWNER:
        return record.get(_DIRECT_OWNER[layer])
    if layer == "bridges":
        return _owner_of_road(conn, record.get("road_id"))
    if layer in ("inspections", "maintenance_works"):
        if record.get("road_id") is not None:
            return _owner_of_road(conn, record["road_id"])
        if record.get("bridge_id") is not None:
            road_id = conn.execute(
                select(bridges.c.road_id).where(bridges.c.id == record["bridge_id"])
            ).scalar_one_or_none()
            return _owner_of_road(conn, road_id)
        if record.get("water_source_id") is not None:  # in any water table: read the view
            return conn.execute(
                select(water_sources.c.owner_local_body_id).where(
                    water_sources.c.id == record["water_source_id"]
                )
            ).scalar_one_or_none()
    return None


def check_write(
    conn: Connection,
    principal: Principal | None,
    layer: str,
    *records: Mapping[str, Any],
) -> Principal:
    """Raise unless ``principal`` may write every one of ``records`` of ``layer``.

    Pass the record as stored (update, delete) and as it will be (insert, update): an editor may
    neither take an asset from another local body nor give one away. A work an editor records
    is funded by their own local body or by no LGO (``funding_local_body_id`` empty: a subsidy,
    an agency): never charged to another LGO's budget.
    """
    principal = require_role(principal, "editor")
    if principal.role == "admin":
        return principal
    if layer not in EDITABLE_LAYERS:
        raise PermissionDenied(f"only an admin may change {layer}")
    if principal.local_body_id is None:
        raise PermissionDenied(f"editor '{principal.username}' is not attached to a local body")
    for record in records:
        owner = owning_local_body(conn, layer, record)
        try:
            owner = int(owner) if owner is not None else None
        except (TypeError, ValueError):
            owner = None  # not a local body id: validation will say so, but it is not theirs
        if owner != principal.local_body_id:
            raise PermissionDenied(
                f"editor '{principal.username}' may only change {layer} owned by local body "
                f"{principal.local_body_id} (this one: {owner if owner is not None else 'none'})"
            )
        field = _FUNDER.get(layer)
        funder = record.get(field) if field else None
        if field and funder is not None and _as_id(funder) != principal.local_body_id:
            raise PermissionDenied(
                f"editor '{principal.username}' may only record {layer} funded by their own"
                f" local body {principal.local_body_id}: field {field} is {funder}"
            )
    return principal


def _as_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None  # not a local body id: validation will say so, but it is not theirs
