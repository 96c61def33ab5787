"""natural keys, data loads and the DPT zoning categories

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:30:00

Issue 12 (real data in and out). An import upserts with ``INSERT ... ON CONFLICT (<natural
key>)``, so every layer's natural key (``gis_registry.io.keys.NATURAL_KEYS``) gets a real
UNIQUE constraint:

- a nullable ``code`` on rivers, bridges, water sources, zoning plans and zones, hazard areas,
  inspections and maintenance works. Rows already there get ``<prefix>-<id>``, the id
  zero-padded to a width per table (``B-0042``, ``I-000042``; see ``CODED``), so an existing
  registry has keys at once; the width is a minimum, never a truncation;
- ``roads.segment``: roads share a code along a route, so their key is (code, segment). Rows
  already there are numbered 1, 2, ... within each code in id order; roads without a code get
  no segment. The unique index leads with code, so the plain index on ``roads.code`` goes;
- ``local_bodies.tambon_code``: the DOPA code of the tambon an LGO is seated in (indexed, not
  unique: an SAO and a municipality can share a tambon).

``data_loads`` records every bulk load (demo, import, OSM): provenance, not a layer, so it has
no history trigger and loads never clear it. The DPT land-use categories become reference data
every registry holds after ``migrate``; they are written below as literal rows (the demo's
``zoning_categories.csv`` as of this revision), so this migration never changes when that file
does. Backfills and inserts are not edits: the feature history is switched off for them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# table -> (what the code names, prefix, minimum digits) of the codes given to existing rows
CODED = {
    "rivers": ("river", "R", 2),
    "bridges": ("bridge", "B", 4),
    "water_sources": ("water source", "W", 6),
    "zoning_plans": ("comprehensive plan", "ZP", 3),
    "zoning_zones": ("zone", "ZZ", 6),
    "hazard_areas": ("hazard area", "HZ", 6),
    "inspections": ("inspection", "I", 6),
    "maintenance_works": ("maintenance work", "MW", 6),
}

# The DPT palette: key, codes, Thai, English, colour name, fill, stroke, hatch, sort order.
# DPT publishes the colour names; the hex values are the registry's choice (data/README.md).
ZONING_CATEGORIES = (
    (
        "low_density_residential",
        "ย.1-ย.4",
        "ที่อยู่อาศัยหนาแน่นน้อย",
        "low-density residential",
        "yellow",
        "#FFF200",
        "#C8B400",
        None,
        1,
    ),
    (
        "medium_density_residential",
        "ย.5-ย.7",
        "ที่อยู่อาศัยหนาแน่นปานกลาง",
        "medium-density residential",
        "orange",
        "#F7941D",
        "#B8660A",
        None,
        2,
    ),
    (
        "high_density_residential",
        "ย.8-ย.10",
        "ที่อยู่อาศัยหนาแน่นมาก",
        "high-density residential",
        "brown",
        "#8B5A2B",
        "#5C3A1A",
        None,
        3,
    ),
    (
        "residential_conservation",
        "-",
        "อนุรักษ์เพื่อการอยู่อาศัย",
        "residential conservation",
        "yellow with white diagonal hatch",
        "#FFF200",
        "#C8B400",
        "#FFFFFF",
        4,
    ),
    ("commercial", "พ.1-พ.5", "พาณิชยกรรม", "commercial", "red", "#ED1C24", "#A50F15", None, 5),
    (
        "industrial",
        "อ.1-อ.2",
        "อุตสาหกรรม",
        "industrial",
        "purple",
        "#8E44AD",
        "#5B2C6F",
        None,
        6,
    ),
    (
        "special_industrial",
        "-",
        "อุตสาหกรรมเฉพาะกิจ",
        "special-purpose industrial",
        "light purple",
        "#C39BD3",
        "#8E44AD",
        None,
        7,
    ),
    ("warehouse", "อ.3", "คลังสินค้า", "warehouse", "mauve", "#D8A1C4", "#9B5F84", None, 8),
    (
        "rural_agricultural_conservation",
        "ก.1-ก.3",
        "อนุรักษ์ชนบทและเกษตรกรรม",
        "rural and agricultural conservation",
        "white, green border, green diagonal hatch",
        "#FFFFFF",
        "#2E8B57",
        "#2E8B57",
        9,
    ),
    (
        "rural_agricultural",
        "ก.4",
        "ชนบทและเกษตรกรรม",
        "rural and agricultural",
        "green",
        "#7BC043",
        "#4A7F22",
        None,
        10,
    ),
    (
        "thai_art_culture_conservation",
        "ศ.1-ศ.2",
        "อนุรักษ์เพื่อส่งเสริมเอกลักษณ์ศิลปวัฒนธรรมไทย",
        "Thai art and culture conservation",
        "light brown",
        "#C8A27A",
        "#8C6A45",
        None,
        11,
    ),
    (
        "government",
        "ส.",
        "สถาบันราชการ สาธารณูปโภคและสาธารณูปการ",
        "government, utilities and public facilities",
        "blue",
        "#1F77D0",
        "#124E8A",
        None,
        12,
    ),
    (
        "education",
        "-",
        "สถาบันการศึกษา",
        "educational institutions",
        "olive",
        "#808000",
        "#555500",
        None,
        13,
    ),
    (
        "religious",
        "-",
        "สถาบันศาสนา",
        "religious institutions",
        "grey",
        "#A6A6A6",
        "#6E6E6E",
        None,
        14,
    ),
    (
        "open_space",
        "-",
        "ที่โล่งเพื่อนันทนาการและการรักษาคุณภาพสิ่งแวดล้อม",
        "open space, recreation, environment",
        "light green",
        "#B5E7A0",
        "#6FAF55",
        None,
        15,
    ),
)
CATEGORY_COLUMNS = (
    "key",
    "codes",
    "name_th",
    "name_en",
    "colour_name",
    "fill",
    "stroke",
    "hatch",
    "sort_order",
)


def _code_comment(what: str, prefix: str, width: int) -> str:
    return (
        f"{what} code, unique: the key imports and exports match records by; "
        f"rows older than migration 0004 got '{prefix}-' + id zero-padded to {width} digits"
    )


def _history_off() -> None:
    # a backfill is not an edit: no feature_history row per updated record (0003's trigger)
    op.execute("SET LOCAL gis_registry.history = 'off'")


def upgrade() -> None:
    _history_off()
    for table, (what, prefix, width) in CODED.items():
        op.add_column(
            table,
            sa.Column("code", sa.Text(), nullable=True, comment=_code_comment(what, prefix, width)),
        )
        # lpad alone would truncate ids longer than the width; greatest() only ever pads
        op.execute(
            f"UPDATE {table} SET code = '{prefix}-' "
            f"|| lpad(id::text, greatest({width}, length(id::text)), '0')"
        )
        op.create_unique_constraint(op.f(f"uq_{table}_code"), table, ["code"])

    op.add_column(
        "roads",
        sa.Column(
            "segment",
            sa.SmallInteger(),
            nullable=True,
            comment="segment number within the road code (1, 2, ...); (code, segment) is "
            "unique; migration 0004 numbered older rows of each code in id order",
        ),
    )
    op.execute(
        """
        UPDATE roads r SET segment = n.segment
        FROM (
            SELECT id, row_number() OVER (PARTITION BY code ORDER BY id) AS segment
            FROM roads WHERE code IS NOT NULL
        ) n
        WHERE r.id = n.id
        """
    )
    op.create_check_constraint(op.f("ck_roads_segment_positive"), "roads", "segment > 0")
    op.create_unique_constraint("uq_roads_code_segment", "roads", ["code", "segment"])
    # the unique index leads with code: the plain index on code is only a cost to every write
    op.drop_index(op.f("ix_roads_code"), table_name="roads")

    op.add_column(
        "local_bodies",
        sa.Column(
            "tambon_code",
            sa.Text(),
            nullable=True,
            comment="DOPA code of the tambon this LGO is seated in; not unique: an SAO and a "
            "municipality can share a tambon",
        ),
    )
    op.create_check_constraint(
        op.f("ck_local_bodies_tambon_code_format"), "local_bodies", "tambon_code ~ '^[0-9]{6}$'"
    )
    op.create_check_constraint(
        op.f("ck_local_bodies_tambon_in_district"),
        "local_bodies",
        "tambon_code LIKE district_code || '__'",
    )
    op.create_index(
        op.f("ix_local_bodies_tambon_code"), "local_bodies", ["tambon_code"], unique=False
    )

    op.create_table(
        "data_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False, comment="demo, import (a file) or osm"),
        sa.Column("layer", sa.Text(), nullable=False, comment="the layer loaded"),
        sa.Column(
            "path",
            sa.Text(),
            nullable=True,
            comment="what was read: a file path or URL; for the demo its seed and scale",
        ),
        sa.Column(
            "mode",
            sa.Text(),
            nullable=True,
            comment="append, upsert or replace (the demo replaces)",
        ),
        sa.Column("inserted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("updated", sa.Integer(), server_default="0", nullable=False),
        sa.Column("deleted", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "loaded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("loaded_by", sa.Text(), server_default=sa.text("session_user"), nullable=False),
        sa.CheckConstraint(
            "source IN ('demo', 'import', 'osm')", name=op.f("ck_data_loads_source_known")
        ),
        sa.CheckConstraint("inserted >= 0", name=op.f("ck_data_loads_inserted_non_negative")),
        sa.CheckConstraint("updated >= 0", name=op.f("ck_data_loads_updated_non_negative")),
        sa.CheckConstraint("deleted >= 0", name=op.f("ck_data_loads_deleted_non_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_loads")),
        comment="Every bulk load into the registry (demo, file import, OSM): where the rows "
        "came from.",
    )

    categories = sa.table("zoning_categories", *(sa.column(c) for c in CATEGORY_COLUMNS))
    op.execute(
        postgresql.insert(categories)
        .values([dict(zip(CATEGORY_COLUMNS, row, strict=True)) for row in ZONING_CATEGORIES])
        .on_conflict_do_nothing(index_elements=["key"])
    )


def downgrade() -> None:
    _history_off()
    # A reference category that zones use is data by now: it stays (its FK is RESTRICT).
    keys = ", ".join("'" + row[0] + "'" for row in ZONING_CATEGORIES)
    op.execute(
        f"DELETE FROM zoning_categories c WHERE c.key IN ({keys}) "
        "AND NOT EXISTS (SELECT 1 FROM zoning_zones z WHERE z.category = c.key)"
    )
    op.drop_table("data_loads")
    op.drop_index(op.f("ix_local_bodies_tambon_code"), table_name="local_bodies")
    op.drop_constraint(op.f("ck_local_bodies_tambon_in_district"), "local_bodies", type_="check")
    op.drop_constraint(op.f("ck_local_bodies_tambon_code_format"), "local_bodies", type_="check")
    op.drop_column("local_bodies", "tambon_code")
    op.create_index(op.f("ix_roads_code"), "roads", ["code"], unique=False)
    op.drop_constraint("uq_roads_code_segment", "roads", type_="unique")
    op.drop_constraint(op.f("ck_roads_segment_positive"), "roads", type_="check")
    op.drop_column("roads", "segment")
    for table in reversed(CODED):
        op.drop_constraint(op.f(f"uq_{table}_code"), table, type_="unique")
        op.drop_column(table, "code")
