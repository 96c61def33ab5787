"""The API tests' registry: the hand-built world plus enough features to page through, and
users of every role with their API keys."""

from __future__ import annotations

import datetime as dt

from shapely.geometry import LineString, Point, box

from gis_registry.auth import add_user, create_key
from gis_registry.queries.features import insert_features
from tests.fixtures.world import build_world

SURFACES = ("asphalt", "concrete", "laterite", "crushed_rock", "earth")
EXTRA_ROADS = 60


def build_api_world(conn) -> dict:
    ids = build_world(conn)
    roads = []
    for i in range(EXTRA_ROADS):
        y = 18.21 + i * 0.003
        owner = ids["pao"] if i % 2 == 0 else ids["sao"]
        roads.append(
            {
                "code": f"ลป.ถ. {1 if owner == ids['pao'] else 99}-{i + 100:04d}",
                "name_th": f"ถนนสาย {i}",
                "name_en": f"Road {i}",
                "road_class": "local",
                "owner_local_body_id": owner,
                "surface": SURFACES[i % len(SURFACES)],
                "width_m": 4 + i % 4,
                "lanes": 2,
                "year_built": 1990 + i % 30,
                "geom": LineString([(99.41, y), (99.43 + (i % 7) * 0.01, y + 0.001)]),
            }
        )
    ids["roads"] = [ids["road"], *insert_features(conn, "roads", roads)]
    # the world brings its own palette (migrate seeds the DPT categories)
    conn.exec_driver_sql("DELETE FROM zoning_categories")
    insert_features(
        conn,
        "zoning_categories",
        [
            {
                "key": "residential_low",
                "codes": "ย.1-ย.4",
                "name_th": "ที่อยู่อาศัยหนาแน่นน้อย",
                "name_en": "Low-density residential",
                "colour_name": "yellow",
                "fill": "#FFFF00",
                "stroke": "#000000",
            }
        ],
    )
    (ids["plan"],) = insert_features(
        conn,
        "zoning_plans",
        [
            {
                "name_th": "ผังเมืองรวมเมืองลำปาง",
                "name_en": "Lampang city comprehensive plan",
                "effective_date": dt.date(2020, 1, 1),
                "expiry_date": dt.date(2027, 1, 1),
            }
        ],
    )
    (ids["zone"],) = insert_features(
        conn,
        "zoning_zones",
        [
            {
                "plan_id": ids["plan"],
                "land_use_code": "ย.2",
                "category": "residential_low",
                "geom": box(99.44, 18.28, 99.47, 18.31),
            }
        ],
    )
    (ids["hazard"],) = insert_features(
        conn,
        "hazard_areas",
        [
            {
                "name_th": "พื้นที่น้ำท่วม",
                "name_en": "Wang flood plain",
                "hazard_type": "flood",
                "severity": "high",
                "geom": box(99.475, 18.25, 99.49, 18.35),
            }
        ],
    )
    ids["inspections"] = insert_features(
        conn,
        "inspections",
        [
            {
                "road_id": ids["road"],
                "inspected_on": dt.date(2024, 6, 1),
                "condition_score": 3,
                "condition_scale": "score_1_5",
            },
            {
                "bridge_id": ids["bridge"],
                "inspected_on": dt.date(2025, 3, 15),
                "condition_score": 6,
                "condition_scale": "nbi_0_9",
            },
        ],
    )
    (ids["work"],) = insert_features(
        conn,
        "maintenance_works",
        [
            {
                "road_id": ids["road"],
                "treatment": "periodic",
                "planned_start": dt.date(2025, 11, 1),
                "planned_end": dt.date(2026, 2, 1),
                "cost_thb": 1_250_000,
                "fiscal_year": 2569,
                "funding_body": "pao",
                "funding_local_body_id": ids["pao"],
            }
        ],
    )
    insert_features(
        conn,
        "settlements",
        [
            {
                "village_code": "52019902",
                "moo": 2,
                "name_th": "บ้านสอง",
                "name_en": "Ban Song",
                "local_body_id": ids["pao"],
                "population": 300,
                "households": 90,
                "geom": Point(99.55, 18.33),
            }
        ],
    )
    keys = {}
    for username, role, body in (
        ("admin", "admin", None),
        ("viewer", "viewer", None),
        ("editor_sao", "editor", ids["sao"]),
        ("editor_pao", "editor", ids["pao"]),
    ):
        add_user(conn, username, role=role, local_body_id=body)
        keys[role if role != "editor" else username] = create_key(conn, username).token
    ids["keys"] = keys
    return ids
