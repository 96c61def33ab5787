"""osm_id on roads, bridges and water sources: what ``import-osm`` matches records by

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 18:20:00

Issue 13 (``gis-registry import-osm``): a re-import of a newer OpenStreetMap extract updates
the records it made before instead of adding them again. Each record keeps the OSM object it
came from as text, unique per layer:

- roads: ``w<way id>:<piece>``, the way split at its junctions, pieces numbered from 1 along
  the way (``w4242:1``, ``w4242:2``);
- bridges: ``w<way id>``, the bridge way;
- water sources: ``n<node id>``, ``w<way id>`` or ``r<relation id>`` (a multipolygon).

Rows without one (drawn or imported by hand) are never touched by an OSM import.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

COMMENTS = {  # as tables.osm_id_column writes them
    "roads": "OpenStreetMap way and piece it came from (w4242:1); unique; NULL when made here",
    "bridges": "OpenStreetMap bridge way it came from (w4242); unique; NULL when made here",
    "water_sources": "OpenStreetMap node, way or relation it came from (n42, w7, r7); unique;"
    " NULL when made here",
}


def upgrade() -> None:
    for table, comment in COMMENTS.items():
        op.add_column(table, sa.Column("osm_id", sa.Text(), nullable=True, comment=comment))
        op.create_unique_constraint(op.f(f"uq_{table}_osm_id"), table, ["osm_id"])


def downgrade() -> None:
    for table in COMMENTS:
        op.drop_constraint(op.f(f"uq_{table}_osm_id"), table, type_="unique")
        op.drop_column(table, "osm_id")
