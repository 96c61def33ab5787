"""The groundwater bank water-source kind, and chainage on roads and bridges

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 19:30:00

Issue 14 (the demo on the real map of Lampang) closes two gaps between the schema and the
domain (../shared/domain/LAMPANG.md):

- ``water_sources.kind`` gains ``groundwater_bank`` (ธนาคารน้ำใต้ดิน, a groundwater recharge
  bank, which many LGOs build);
- chainage (ระยะ กม.), the distance along a registered road from its origin that engineers
  locate assets by (``กม. 688+210`` is 688,210 m): ``roads.chainage_start_m`` and
  ``chainage_end_m`` at a segment's two ends, ``bridges.chainage_m`` at the bridge; metres,
  never negative, NULL where unknown.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

KINDS_BEFORE = (
    "reservoir",
    "weir",
    "check_dam",
    "pond",
    "groundwater_well",
    "shallow_well",
    "village_water_supply",
    "canal",
)
KINDS_AFTER = (*KINDS_BEFORE, "groundwater_bank")

CHAINAGE = {  # (table, column): comment, as tables.py writes them
    ("roads", "chainage_start_m"): "chainage (กม.) of the segment's first vertex along its road "
    "code, metres from the road's origin: 688210 is กม. 688+210",
    ("roads", "chainage_end_m"): "chainage (กม.) of the segment's last vertex along its road "
    "code, metres from the road's origin",
    ("bridges", "chainage_m"): "chainage (กม.) of the bridge along its road's code, metres from "
    "the road's origin: 688210 is กม. 688+210",
}


def _kinds(kinds: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_water_sources_kind_known"), "water_sources", type_="check")
    listed = ", ".join(f"'{k}'" for k in kinds)
    op.create_check_constraint(
        op.f("ck_water_sources_kind_known"), "water_sources", f"kind IN ({listed})"
    )


def upgrade() -> None:
    _kinds(KINDS_AFTER)
    for (table, column), comment in CHAINAGE.items():
        op.add_column(table, sa.Column(column, sa.Float(), nullable=True, comment=comment))
        op.create_check_constraint(
            op.f(f"ck_{table}_{column}_non_negative"), table, f"{column} >= 0"
        )


def downgrade() -> None:
    for table, column in CHAINAGE:
        op.drop_constraint(op.f(f"ck_{table}_{column}_non_negative"), table, type_="check")
        op.drop_column(table, column)
    op.execute("DELETE FROM water_sources WHERE kind = 'groundwater_bank'")
    _kinds(KINDS_BEFORE)
