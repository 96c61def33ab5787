"""The registry's tables (SQLAlchemy Core + GeoAlchemy2).

Geometries are stored in EPSG:4326 with GiST indexes; lengths and areas are generated columns
measured on the geography type (geodesic: right in any province and UTM zone). Every rule the
database can enforce is a named constraint; ``RULES`` maps each name to the sentence a user
sees when a write breaks it.
Schema changes go through Alembic (``gis_registry/db/migrations``), never ``create_all``.
"""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)

from gis_registry import domain

SRID = 4326  # planar metres: gis_registry.geodesy.metric_srid (the province's UTM zone)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# constraint name -> (field, rule), as shown to users ("roads record 12: field 'surface': ...")
RULES: dict[str, tuple[str, str]] = {}
_SUFFIXES = (
    "_known",
    "_positive",
    "_non_negative",
    "_valid",
    "_not_empty",
    "_range",
    "_format",
    "_hex",
    "_matches",
    "_on_scale",
    "_sane",
    "_ordered",
    "_has_end",
)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"{column} IN ({quoted})"


def check(table: str, name: str, sql: str, rule: str, field: str | None = None) -> CheckConstraint:
    """A named CHECK constraint whose violation is explained by ``rule`` about ``field``
    (by default the constraint name without its suffix: ``surface_known`` -> ``surface``)."""
    if field is None:
        field = next((name[: -len(s)] for s in _SUFFIXES if name.endswith(s)), name)
    RULES[f"ck_{table}_{name}"] = (field, rule)
    return CheckConstraint(sql, name=name)


def geometry_checks(table: str, column: str = "geom") -> list[CheckConstraint]:
    """CHECKs that ``column`` of ``table`` holds a valid, non-empty geometry (ST_IsValid)."""
    return [
        check(
            table,
            f"{column}_valid",
            f"ST_IsValid({column})",
            f"{column} must be a valid geometry (no self-intersections, closed rings)",
        ),
        check(
            table, f"{column}_not_empty", f"NOT ST_IsEmpty({column})", f"{column} must not be empty"
        ),
    ]


def timestamps() -> list[Column]:
    """New ``created_at`` / ``updated_at`` columns (a Column belongs to one table only).

    A trigger created by the migrations sets ``updated_at`` on every update.
    """
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


def names() -> list[Column]:
    """The Thai and English name columns (``name_th``, ``name_en``), both required."""
    return [Column("name_th", Text, nullable=False), Column("name_en", Text, nullable=False)]


def year_built(table: str) -> tuple[Column, CheckConstraint]:
    """The ``year_built`` column (Common Era) and its 1850-2100 range check."""
    return (
        Column("year_built", SmallInteger),
        check(
            table,
            "year_built_range",
            "year_built BETWEEN 1850 AND 2100",
            "year_built is a Common Era year between 1850 and 2100",
        ),
    )


def non_negative(table: str, column: str) -> CheckConstraint:
    """A CHECK that ``column`` is 0 or more (named ``<column>_non_negative``)."""
    return check(
        table, f"{column}_non_negative", f"{column} >= 0", f"{column} must not be negative"
    )


def positive(table: str, column: str) -> CheckConstraint:
    """A CHECK that ``column`` is greater than 0 (named ``<column>_positive``)."""
    return check(table, f"{column}_positive", f"{column} > 0", f"{column} must be greater than 0")


def code_column(what: str, prefix: str, width: int) -> Column:
    """The unique ``code`` column: the natural key by which files name a record (0004).

    ``prefix`` and ``width`` say how migration 0004 filled the code of rows it found
    (``prefix-`` + the id zero-padded to ``width`` digits), so that every row has a key.
    """
    return Column(
        "code",
        Text,
        unique=True,
        comment=f"{what} code, unique: the key imports and exports match records by; "
        f"rows older than migration 0004 got '{prefix}-' + id zero-padded to {width} digits",
    )


def osm_id_column(what: str, example: str) -> Column:
    """The unique ``osm_id`` column: the OpenStreetMap object a record came from (0006).

    ``gis-registry import-osm`` matches records by it; NULL for records made in the registry,
    which an OSM import never touches.
    """
    return Column(
        "osm_id",
        Text,
        unique=True,
        comment=f"OpenStreetMap {what} it came from ({example}); unique; NULL when made here",
    )


def owner_columns(table: str) -> tuple[Column, Column, CheckConstraint, CheckConstraint]:
    """Owner is a local body or a national agency, never both."""
    return (
        Column(
            "owner_local_body_id",
            Integer,
            ForeignKey("local_bodies.id", ondelete="RESTRICT"),
            index=True,
        ),
        Column("owner_agency", Text),
        check(
            table,
            "owner_agency_known",
            _in("owner_agency", domain.AGENCIES),
            f"owner_agency must be one of {', '.join(domain.AGENCIES)}",
        ),
        check(
            table,
            "one_owner",
            "num_nonnulls(owner_local_body_id, owner_agency) <= 1",
            "owner is either a local body or an agency, not both",
            field="owner_agency",
        ),
    )


districts = Table(
    "districts",
    metadata,
    Column("code", Text, primary_key=True),
    *names(),
    Column("office", Geometry("POINT", srid=SRID), nullable=False),
    Column("boundary", Geometry("MULTIPOLYGON", srid=SRID)),
    Column(
        "area_km2",
        Float,
        Computed("ST_Area(boundary::geography) / 1e6", persisted=True),
    ),
    *timestamps(),
    check(
        "districts",
        "code_format",
        "code ~ '^[0-9]{4}$'",
        "district code is the 4-digit DOPA code of the district (e.g. 5201)",
    ),
    *geometry_checks("districts", "boundary"),
    comment="Districts (อำเภอ) of the province.",
)

local_bodies = Table(
    "local_bodies",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", Text, nullable=False, unique=True),
    Column(
        "seq",
        SmallInteger,
        unique=True,
        comment="LGO number in the province, used in local highway codes (ลป.ถ. seq-route)",
    ),
    *names(),
    Column("kind", Text, nullable=False),
    Column("district_code", Text, ForeignKey("districts.code", ondelete="RESTRICT"), index=True),
    Column(
        "tambon_code",
        Text,
        index=True,
        comment="DOPA code of the tambon this LGO is seated in; not unique: an SAO and a "
        "municipality can share a tambon",
    ),
    Column("boundary", Geometry("MULTIPOLYGON", srid=SRID), nullable=False),
    Column("office", Geometry("POINT", srid=SRID), nullable=False),
    Column(
        "area_km2",
        Float,
        Computed("ST_Area(boundary::geography) / 1e6", persisted=True),
    ),
    *timestamps(),
    check(
        "local_bodies",
        "kind_known",
        _in("kind", domain.LOCAL_BODY_KINDS),
        f"kind must be one of {', '.join(domain.LOCAL_BODY_KINDS)}",
    ),
    check(
        "local_bodies",
        "district_unless_pao",
        "kind = 'pao' OR district_code IS NOT NULL",
        "every local body but the PAO belongs to a district",
        field="district_code",
    ),
    check("local_bodies", "seq_positive", "seq > 0", "seq must be greater than 0"),
    check(
        "local_bodies",
        "tambon_code_format",
        "tambon_code ~ '^[0-9]{6}$'",
        "tambon_code is the 6-digit DOPA code of a tambon (district code + 2 digits)",
    ),
    check(
        "local_bodies",
        "tambon_in_district",
        "tambon_code LIKE district_code || '__'",
        "tambon_code must be a tambon of the LGO's district (start with its district_code)",
        field="tambon_code",
    ),
    *geometry_checks("local_bodies", "boundary"),
    comment="Local government organisations (องค์กรปกครองส่วนท้องถิ่น); the PAO covers the province.",
)

settlements = Table(
    "settlements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("village_code", Text, unique=True, comment="DOPA village code: tambon code + moo"),
    Column("moo", SmallInteger),
    *names(),
    Column(
        "local_body_id",
        Integer,
        ForeignKey("local_bodies.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("population", Integer, nullable=False),
    Column("households", Integer, nullable=False),
    Column("geom", Geometry("POINT", srid=SRID), nullable=False),
    *timestamps(),
    non_negative("settlements", "population"),
    non_negative("settlements", "households"),
    check(
        "settlements",
        "households_le_population",
        "households <= population OR population = 0",
        "households cannot exceed population",
        field="households",
    ),
    check("settlements", "moo_range", "moo > 0", "moo (village number) must be greater than 0"),
    comment="Villages (หมู่บ้าน) with population and households.",
)

rivers = Table(
    "rivers",
    metadata,
    Column("id", Integer, primary_key=True),
    code_column("river", "R", 2),
    *names(),
    Column("geom", Geometry("LINESTRING", srid=SRID), nullable=False),
    Column("length_m", Float, Computed("ST_Length(geom::geography)", persisted=True)),
    *timestamps(),
    *geometry_checks("rivers"),
    comment="Rivers and streams that roads cross on bridges.",
)

_road_owner = owner_columns("roads")
_road_year = year_built("roads")
roads = Table(
    "roads",
    metadata,
    Column("id", Integer, primary_key=True),
    # no index of its own: uq_roads_code_segment leads with code and serves lookups by code
    Column("code", Text, comment="road code: 1035, ลป.4007, ลป.ถ. 1-0023"),
    osm_id_column("way and piece", "w4242:1"),
    Column(
        "segment",
        SmallInteger,
        comment="segment number within the road code (1, 2, ...); (code, segment) is unique; "
        "migration 0004 numbered older rows of each code in id order",
    ),
    *names(),
    Column("road_class", Text, nullable=False),
    *_road_owner[:2],
    Column("surface", Text, nullable=False),
    Column("width_m", Float),
    Column("lanes", SmallInteger, nullable=False, server_default="2"),
    Column("oneway", Boolean, nullable=False, server_default="false"),
    Column(
        "layer",
        SmallInteger,
        nullable=False,
        server_default="0",
        comment="vertical layer as in OSM: a bridge over another road does not meet it",
    ),
    _road_year[0],
    Column(
        "chainage_start_m",
        Float,
        comment="chainage (กม.) of the segment's first vertex along its road code, metres from "
        "the road's origin: 688210 is กม. 688+210",
    ),
    Column(
        "chainage_end_m",
        Float,
        comment="chainage (กม.) of the segment's last vertex along its road code, metres from "
        "the road's origin",
    ),
    Column("geom", Geometry("LINESTRING", srid=SRID), nullable=False),
    Column("length_m", Float, Computed("ST_Length(geom::geography)", persisted=True)),
    *timestamps(),
    *_road_owner[2:],
    _road_year[1],
    check(
        "roads",
        "class_known",
        _in("road_class", domain.ROAD_CLASSES),
        f"road_class must be one of {', '.join(domain.ROAD_CLASSES)}",
    ),
    check(
        "roads",
        "surface_known",
        _in("surface", domain.SURFACES),
        f"surface must be one of {', '.join(domain.SURFACES)}",
    ),
    positive("roads", "width_m"),
    positive("roads", "segment"),
    non_negative("roads", "chainage_start_m"),
    non_negative("roads", "chainage_end_m"),
    UniqueConstraint("code", "segment", name="uq_roads_code_segment"),
    check("roads", "lanes_range", "lanes BETWEEN 1 AND 12", "lanes must be between 1 and 12"),
    *[
        check(
            "roads",
            f"code_{cls}",
            f"road_class <> '{cls}' OR code ~ '{pattern}'",
            f"a {cls} road's code must match {pattern}",
            field="code",
        )
        for cls, pattern in domain.ROAD_CODE_PATTERNS.items()
    ],
    *geometry_checks("roads"),
    comment="Road segments.",
)

_bridge_year = year_built("bridges")
bridges = Table(
    "bridges",
    metadata,
    Column("id", Integer, primary_key=True),
    code_column("bridge", "B", 4),
    osm_id_column("bridge way", "w4242"),
    Column(
        "road_id", Integer, ForeignKey("roads.id", ondelete="RESTRICT"), nullable=False, index=True
    ),
    *names(),
    Column("structure_type", Text, nullable=False),
    Column("material", Text, nullable=False),
    Column("length_m", Float, nullable=False),
    Column("spans", SmallInteger, nullable=False, server_default="1"),
    Column("load_limit_t", Float),
    Column("river_id", Integer, ForeignKey("rivers.id", ondelete="SET NULL"), index=True),
    Column(
        "chainage_m",
        Float,
        comment="chainage (กม.) of the bridge along its road's code, metres from the road's "
        "origin: 688210 is กม. 688+210",
    ),
    _bridge_year[0],
    Column("geom", Geometry("POINT", srid=SRID), nullable=False),
    *timestamps(),
    _bridge_year[1],
    check(
        "bridges",
        "structure_known",
        _in("structure_type", domain.BRIDGE_STRUCTURES),
        f"structure_type must be one of {', '.join(domain.BRIDGE_STRUCTURES)}",
    ),
    check(
        "bridges",
        "material_known",
        _in("material", domain.BRIDGE_MATERIALS),
        f"material must be one of {', '.join(domain.BRIDGE_MATERIALS)}",
    ),
    positive("bridges", "length_m"),
    check("bridges", "spans_range", "spans >= 1", "spans must be at least 1"),
    positive("bridges", "load_limit_t"),
    non_negative("bridges", "chainage_m"),
    comment="Bridges and culverts; each lies on a road (enforced by trigger within 10 m).",
)

# Water sources are three tables, one geometry type each (0008): QGIS and OGC API clients type
# a layer by one geometry, and geometry_columns reports the column's type. They share one id
# sequence, so a water source id names one record across the three, as inspections and
# maintenance works refer to it (water_source_id, checked and cascaded by triggers).
WATER_SOURCE_IDS = "water_source_ids"
WATER_GEOMETRIES = domain.WATER_GEOMETRIES  # the vocabulary lives in domain (validation reads it)


def water_table(name: str) -> Table:
    """One of the water source tables: the columns of every water source, ``geom`` typed."""
    geometry_type, _, holds = WATER_GEOMETRIES[name]
    owner = owner_columns(name)
    year = year_built(name)
    return Table(
        name,
        metadata,
        Column(
            "id",
            Integer,
            primary_key=True,
            server_default=text(f"nextval('{WATER_SOURCE_IDS}'::regclass)"),
            comment=f"shared by water_points, water_areas and water_lines ({WATER_SOURCE_IDS})",
        ),
        code_column("water source", "W", 6),
        osm_id_column("node, way or relation", "n42, w7, r7"),
        *names(),
        Column("kind", Text, nullable=False),
        Column("capacity_m3", Float),
        Column("households_served", Integer),
        *owner[:2],
        year[0],
        Column("geom", Geometry(geometry_type, srid=SRID), nullable=False),
        *timestamps(),
        *owner[2:],
        year[1],
        check(
            name,
            "kind_known",
            _in("kind", domain.WATER_SOURCE_KINDS),
            f"kind must be one of {', '.join(domain.WATER_SOURCE_KINDS)}",
        ),
        non_negative(name, "capacity_m3"),
        non_negative(name, "households_served"),
        *geometry_checks(name),
        comment=f"Water sources for farming and daily life drawn as {holds}; "
        "code and id unique across water_points, water_areas and water_lines.",
    )


water_points = water_table("water_points")
water_areas = water_table("water_areas")
water_lines = water_table("water_lines")
WATER_TABLES = (water_points, water_areas, water_lines)

# Every water source as one relation: a read-only VIEW (UNION ALL of the three tables, geom
# generic) that analyses, maps and reports read. Not a layer (not in LAYERS, not served as a
# collection) and on its own MetaData: migrations compare tables, and a view is none.
views = MetaData()
water_sources = Table(
    "water_sources",
    views,
    *[
        Column(
            c.name,
            c.type if c.name != "geom" else Geometry("GEOMETRY", srid=SRID),
            primary_key=c.primary_key,  # unique across the three tables (their sequence)
        )
        for c in water_points.columns
    ],
    comment="Every water source (view of water_points, water_areas and water_lines).",
)

zoning_categories = Table(
    "zoning_categories",
    metadata,
    Column("key", Text, primary_key=True),
    Column("codes", Text, nullable=False, comment="DPT code range, e.g. ย.1-ย.4"),
    *names(),
    Column("colour_name", Text, nullable=False),
    Column("fill", Text, nullable=False),
    Column("stroke", Text, nullable=False),
    Column("hatch", Text, comment="hatch colour when the category is drawn hatched"),
    Column("sort_order", SmallInteger, nullable=False, server_default="0"),
    *timestamps(),
    check(
        "zoning_categories", "fill_hex", "fill ~ '^#[0-9a-fA-F]{6}$'", "fill is a #rrggbb colour"
    ),
    check(
        "zoning_categories",
        "stroke_hex",
        "stroke ~ '^#[0-9a-fA-F]{6}$'",
        "stroke is a #rrggbb colour",
    ),
    comment="DPT land-use categories of comprehensive plans, with the map palette.",
)

zoning_plans = Table(
    "zoning_plans",
    metadata,
    Column("id", Integer, primary_key=True),
    code_column("comprehensive plan", "ZP", 3),
    *names(),
    Column("effective_date", Date, nullable=False),
    Column("expiry_date", Date),
    *timestamps(),
    check(
        "zoning_plans",
        "dates_ordered",
        "expiry_date IS NULL OR expiry_date > effective_date",
        "expiry_date must be after effective_date",
        field="expiry_date",
    ),
    comment="Comprehensive plans (ผังเมืองรวม).",
)

zoning_zones = Table(
    "zoning_zones",
    metadata,
    Column("id", Integer, primary_key=True),
    code_column("zone", "ZZ", 6),
    Column(
        "plan_id",
        Integer,
        ForeignKey("zoning_plans.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("land_use_code", Text, nullable=False, comment="DPT code within the plan, e.g. ย.3"),
    Column(
        "category",
        Text,
        ForeignKey("zoning_categories.key", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("geom", Geometry("MULTIPOLYGON", srid=SRID), nullable=False),
    Column("area_m2", Float, Computed("ST_Area(geom::geography)", persisted=True)),
    *timestamps(),
    *geometry_checks("zoning_zones"),
    comment="Zones of comprehensive plans.",
)

hazard_areas = Table(
    "hazard_areas",
    metadata,
    Column("id", Integer, primary_key=True),
    code_column("hazard area", "HZ", 6),
    *names(),
    Column("hazard_type", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("source", Text),
    Column("geom", Geometry("MULTIPOLYGON", srid=SRID), nullable=False),
    Column("area_m2", Float, Computed("ST_Area(geom::geography)", persisted=True)),
    *timestamps(),
    check(
        "hazard_areas",
        "type_known",
        _in("hazard_type", domain.HAZARD_TYPES),
        f"hazard_type must be one of {', '.join(domain.HAZARD_TYPES)}",
    ),
    check(
        "hazard_areas",
        "severity_known",
        _in("severity", domain.SEVERITIES),
        f"severity must be one of {', '.join(domain.SEVERITIES)}",
    ),
    *geometry_checks("hazard_areas"),
    comment="Flood-prone and landslide areas.",
)


def asset_columns(table: str) -> list:
    """Exactly one of road, bridge or water source (foreign keys; the water source's checked by
    triggers, as it may be in any of the three water tables)."""
    return [
        Column("road_id", Integer, ForeignKey("roads.id", ondelete="CASCADE"), index=True),
        Column("bridge_id", Integer, ForeignKey("bridges.id", ondelete="CASCADE"), index=True),
        Column(
            "water_source_id",
            Integer,
            index=True,
            comment="id of a water_points, water_areas or water_lines record (a trigger checks "
            "it and deletes the row with its water source: see TRIGGER_REFERENCES)",
        ),
        check(
            table,
            "one_asset",
            "num_nonnulls(road_id, bridge_id, water_source_id) = 1",
            "exactly one of road_id, bridge_id, water_source_id must be given",
            field="road_id",
        ),
    ]


def _scale_check() -> str:
    parts = [
        f"(condition_scale = '{key}' AND condition_score BETWEEN {lo} AND {hi})"
        for key, (lo, hi, _better) in domain.CONDITION_SCALES.items()
    ]
    return " OR ".join(parts)


inspections = Table(
    "inspections",
    metadata,
    Column("id", Integer, primary_key=True),
    code_column("inspection", "I", 6),
    *asset_columns("inspections"),
    Column("inspected_on", Date, nullable=False),
    Column("condition_score", Numeric(6, 2), nullable=False),
    Column("condition_scale", Text, nullable=False),
    Column("method", Text, nullable=False, server_default="visual"),
    Column("inspector", Text),
    Column("notes", Text),
    *timestamps(),
    check(
        "inspections",
        "score_on_scale",
        _scale_check(),
        field="condition_score",
        rule="condition_score must lie on its condition_scale: "
        + ", ".join(f"{k} {lo}-{hi}" for k, (lo, hi, _) in domain.CONDITION_SCALES.items()),
    ),
    check(
        "inspections",
        "method_known",
        _in("method", domain.INSPECTION_METHODS),
        f"method must be one of {', '.join(domain.INSPECTION_METHODS)}",
    ),
    check(
        "inspections",
        "inspected_on_sane",
        "inspected_on >= DATE '1950-01-01'",
        "inspected_on must be a Common Era date after 1950 (not a Buddhist Era year)",
    ),
    Index("ix_inspections_inspected_on", "inspected_on"),
    comment="Condition inspections of roads, bridges and water sources.",
)

maintenance_works = Table(
    "maintenance_works",
    metadata,
    Column("id", Integer, primary_key=True),
    code_column("maintenance work", "MW", 6),
    *asset_columns("maintenance_works"),
    Column("treatment", Text, nullable=False),
    Column("description", Text),
    Column("planned_start", Date, nullable=False),
    Column("planned_end", Date),
    Column("actual_start", Date),
    Column("actual_end", Date),
    Column("cost_thb", Numeric(14, 2), nullable=False),
    Column(
        "fiscal_year",
        SmallInteger,
        nullable=False,
        comment="Thai fiscal year in Buddhist Era (1 Oct - 30 Sep), e.g. 2569",
    ),
    Column("funding_body", Text, nullable=False),
    Column(
        "funding_local_body_id",
        Integer,
        ForeignKey("local_bodies.id", ondelete="RESTRICT"),
        index=True,
    ),
    Column("status", Text, nullable=False, server_default="planned"),
    *timestamps(),
    check(
        "maintenance_works",
        "treatment_known",
        _in("treatment", domain.TREATMENTS),
        f"treatment must be one of {', '.join(domain.TREATMENTS)}",
    ),
    check(
        "maintenance_works",
        "funding_known",
        _in("funding_body", domain.FUNDING_BODIES),
        f"funding_body must be one of {', '.join(domain.FUNDING_BODIES)}",
    ),
    check(
        "maintenance_works",
        "status_known",
        _in("status", domain.WORK_STATUSES),
        f"status must be one of {', '.join(domain.WORK_STATUSES)}",
    ),
    non_negative("maintenance_works", "cost_thb"),
    check(
        "maintenance_works",
        "fiscal_year_matches",
        "fiscal_year = EXTRACT(YEAR FROM planned_start + INTERVAL '3 months')::int + 543",
        "fiscal_year is the Thai fiscal year (BE) of planned_start: 1 Oct - 30 Sep, named "
        "after the year it ends in, plus 543",
    ),
    check(
        "maintenance_works",
        "planned_ordered",
        "planned_end IS NULL OR planned_end >= planned_start",
        "planned_end must not be before planned_start",
        field="planned_end",
    ),
    check(
        "maintenance_works",
        "actual_ordered",
        "actual_end IS NULL OR actual_start IS NULL OR actual_end >= actual_start",
        "actual_end must not be before actual_start",
        field="actual_end",
    ),
    check(
        "maintenance_works",
        "completed_has_end",
        "status <> 'completed' OR actual_end IS NOT NULL",
        "a completed work needs its actual_end date",
        field="actual_end",
    ),
    Index("ix_maintenance_works_fiscal_year", "fiscal_year"),
    comment="Maintenance and construction works with cost and Thai fiscal year.",
)

# Layers in load order (parents first); the OGC API and the demo loader use this order.
LAYERS: dict[str, Table] = {
    t.name: t
    for t in (
        districts,
        local_bodies,
        settlements,
        rivers,
        roads,
        bridges,
        water_points,
        water_areas,
        water_lines,
        zoning_categories,
        zoning_plans,
        zoning_zones,
        hazard_areas,
        inspections,
        maintenance_works,
    )
}

# What reads may name: the layers and the view of every water source (0008).
RELATIONS: dict[str, Table] = {**LAYERS, water_sources.name: water_sources}

# Rules enforced by triggers (see the initial migration) rather than CHECK constraints.
RULES["bridge_on_road"] = ("geom", "a bridge must lie on its road (within 10 m)")
# Geometry rules of the statement trigger on the geometry layers (0009): the database holds
# what validation checks, for writes that do not pass through it (QGIS, psql).
RULES["geom_in_lonlat_range"] = (
    "geom",
    "coordinates must be longitude (-180 to 180) and latitude (-90 to 90) in WGS 84: latitude"
    " and longitude swapped, or projected coordinates?",
)
RULES["geom_inside_province"] = (
    "geom",
    "the geometry must lie inside the registry's province (the PAO boundary's box widened by"
    " 2 km): latitude and longitude swapped, or a place in another province?",
)
RULES["geom_vertices"] = (
    "geom",
    "a geometry may have at most 10,000 vertices (250,000 for a polygon)",
)
RULES["water_source_unique"] = (
    "code",
    "a water source's code and id are unique across water_points, water_areas and water_lines",
)
for _child in ("inspections", "maintenance_works"):
    RULES[f"fk_{_child}_water_source_id"] = (
        "water_source_id",
        "water_source_id must be the id of a record of water_points, water_areas or water_lines",
    )
# References a foreign key cannot hold (one column, three parent tables): child, column ->
# parents; triggers (0008) check them and cascade deletes, and clearing layers follows them.
TRIGGER_REFERENCES: dict[tuple[str, str], tuple[str, ...]] = {
    (child, "water_source_id"): tuple(t.name for t in WATER_TABLES)
    for child in ("inspections", "maintenance_works")
}

LOAD_SOURCES = ("demo", "import", "osm")

# Provenance, not a layer: no history trigger, never cleared or replaced by a load (0004).
data_loads = Table(
    "data_loads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", Text, nullable=False, comment="demo, import (a file) or osm"),
    Column("layer", Text, nullable=False, comment="the layer loaded"),
    Column(
        "path",
        Text,
        comment="what was read: a file path or URL; for the demo its seed and scale",
    ),
    Column("mode", Text, comment="append, upsert or replace (the demo replaces)"),
    Column("inserted", Integer, nullable=False, server_default="0"),
    Column("updated", Integer, nullable=False, server_default="0"),
    Column("deleted", Integer, nullable=False, server_default="0"),
    Column("loaded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("loaded_by", Text, nullable=False, server_default=text("session_user")),
    check(
        "data_loads",
        "source_known",
        _in("source", LOAD_SOURCES),
        f"source must be one of {', '.join(LOAD_SOURCES)}",
    ),
    non_negative("data_loads", "inserted"),
    non_negative("data_loads", "updated"),
    non_negative("data_loads", "deleted"),
    comment="Every bulk load into the registry (demo, file import, OSM): where the rows came from.",
)

# Users, API keys and feature history (migration 0003) live on the same metadata.
from gis_registry.db import tables_auth  # noqa: E402, F401
