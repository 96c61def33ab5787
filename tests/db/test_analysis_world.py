"""A small hand-built province for the analysis tests, where every answer is known.

Near Lampang city, at 18.30 N one thousandth of a degree is about 105.7 m east-west and
110.7 m north-south. Two districts, the PAO and two SAOs (west and east of 99.50 E):

* villages A (99.450, 18.300; 100 households, 300 people) and B (99.460, 18.300; 50, 200) in
  SAO West (district 5201); village C (99.550, 18.300; 80, 250) in SAO East (district 5202);
* well W1 (groundwater_well) at 99.452, 18.300: 211 m from A, 846 m from B;
  well W2 (shallow_well) at 99.556, 18.300: 634 m from C;
* road R1 (asphalt, local, PAO) winds from A north 553 m, east 1,057 m, south 553 m to B
  (2,164 m in all); road R2 (laterite, SAO East) runs 300 m south of C, east-west.
"""

from __future__ import annotations

from datetime import date

from shapely.geometry import LineString, Point, box

from gis_registry.queries.features import insert_features

PROVINCE = box(99.40, 18.20, 99.60, 18.40)
WEST = box(99.40, 18.20, 99.50, 18.40)
EAST = box(99.50, 18.20, 99.60, 18.40)

A = Point(99.450, 18.300)
B = Point(99.460, 18.300)
C = Point(99.550, 18.300)


def build_world(conn) -> dict[str, int]:
    """Insert the world; return ids by name."""
    ids: dict[str, int] = {}
    insert_features(
        conn,
        "districts",
        [
            {
                "code": "5201",
                "name_th": "เมืองลำปาง",
                "name_en": "Mueang Lampang",
                "office": Point(99.45, 18.35),
                "boundary": WEST,
            },
            {
                "code": "5202",
                "name_th": "แม่เมาะ",
                "name_en": "Mae Mo",
                "office": Point(99.55, 18.35),
                "boundary": EAST,
            },
        ],
    )
    ids["pao"], ids["west"], ids["east"] = insert_features(
        conn,
        "local_bodies",
        [
            {
                "code": "52",
                "seq": 1,
                "name_th": "องค์การบริหารส่วนจังหวัดลำปาง",
                "name_en": "Lampang PAO",
                "kind": "pao",
                "boundary": PROVINCE,
                "office": Point(99.5445, 18.2577),
            },
            {
                "code": "520101",
                "seq": 2,
                "name_th": "อบต.ตะวันตก",
                "name_en": "West SAO",
                "kind": "sao",
                "district_code": "5201",
                "boundary": WEST,
                "office": Point(99.45, 18.31),
            },
            {
                "code": "520201",
                "seq": 3,
                "name_th": "อบต.ตะวันออก",
                "name_en": "East SAO",
                "kind": "sao",
                "district_code": "5202",
                "boundary": EAST,
                "office": Point(99.55, 18.31),
            },
        ],
    )
    ids["A"], ids["B"], ids["C"] = insert_features(
        conn,
        "settlements",
        [
            _village("52010101", 1, "บ้านเอ", "Ban A", ids["west"], 300, 100, A),
            _village("52010102", 2, "บ้านบี", "Ban B", ids["west"], 200, 50, B),
            _village("52020101", 1, "บ้านซี", "Ban C", ids["east"], 250, 80, C),
        ],
    )
    ids["W1"], ids["W2"] = insert_features(
        conn,
        "water_points",
        [
            {
                "name_th": "บ่อบาดาล 1",
                "name_en": "Well 1",
                "kind": "groundwater_well",
                "owner_local_body_id": ids["west"],
                "year_built": 2015,
                "geom": Point(99.452, 18.300),
            },
            {
                "name_th": "บ่อตื้น 2",
                "name_en": "Well 2",
                "kind": "shallow_well",
                "owner_local_body_id": ids["east"],
                "year_built": 2018,
                "geom": Point(99.556, 18.300),
            },
        ],
    )
    ids["R1"], ids["R2"] = insert_features(
        conn,
        "roads",
        [
            {
                "code": "ลป.ถ. 1-0001",
                "name_th": "ถนนเอบี",
                "name_en": "A-B road",
                "road_class": "local",
                "owner_local_body_id": ids["pao"],
                "surface": "asphalt",
                "width_m": 6,
                "year_built": 2000,
                "geom": LineString([(99.450, 18.300), (99.450, 18.305)]),
            },
            {
                "code": "ลป.ถ. 3-0001",
                "name_th": "ถนนลูกรัง",
                "name_en": "Laterite road",
                "road_class": "local",
                "owner_local_body_id": ids["east"],
                "surface": "laterite",
                "width_m": 4,
                "year_built": 2012,
                "geom": LineString([(99.540, 18.2973), (99.560, 18.2973)]),
            },
        ],
    )
    ids["R1b"], ids["R1c"] = insert_features(
        conn,
        "roads",
        [
            {
                "code": "ลป.ถ. 1-0001",
                "name_th": "ถนนเอบี",
                "name_en": "A-B road",
                "road_class": "local",
                "owner_local_body_id": ids["pao"],
                "surface": "asphalt",
                "width_m": 6,
                "year_built": 2000,
                "geom": LineString([(99.450, 18.305), (99.460, 18.305)]),
            },
            {
                "code": "ลป.ถ. 1-0001",
                "name_th": "ถนนเอบี",
                "name_en": "A-B road",
                "road_class": "local",
                "owner_local_body_id": ids["pao"],
                "surface": "asphalt",
                "width_m": 6,
                "year_built": 2000,
                "geom": LineString([(99.460, 18.305), (99.460, 18.300)]),
            },
        ],
    )
    return ids


def _village(code, moo, th, en, lgo, population, households, geom) -> dict:
    return {
        "village_code": code,
        "moo": moo,
        "name_th": th,
        "name_en": en,
        "local_body_id": lgo,
        "population": population,
        "households": households,
        "geom": geom,
    }


def test_world_builds(conn):
    ids = build_world(conn)
    assert len(ids) == 12
    assert date(2026, 1, 1)  # the world is undated; tests pass explicit dates


# -- zoning: a new plan (2020-, no expiry) and an old one (2015-2020) over West ---------------
RESIDENTIAL = box(99.44, 18.29, 99.47, 18.32)  # new plan, ย.2
RURAL = box(99.47, 18.29, 99.50, 18.32)  # new plan, ก.4
OLD_INDUSTRIAL = box(99.44, 18.29, 99.50, 18.32)  # old plan, อ.1


def build_zoning(conn) -> dict[str, int]:
    ids: dict[str, int] = {}
    # the world brings its own palette (migrate seeds the DPT categories)
    conn.exec_driver_sql("DELETE FROM zoning_categories")
    insert_features(
        conn,
        "zoning_categories",
        [
            {
                "key": "res_low",
                "codes": "ย.1-ย.4",
                "name_th": "ที่อยู่อาศัยหนาแน่นน้อย",
                "name_en": "Low-density residential",
                "colour_name": "yellow",
                "fill": "#ffff00",
                "stroke": "#999900",
                "sort_order": 1,
            },
            {
                "key": "rural_agri",
                "codes": "ก.4",
                "name_th": "ชนบทและเกษตรกรรม",
                "name_en": "Rural and agricultural",
                "colour_name": "green",
                "fill": "#00ff00",
                "stroke": "#009900",
                "sort_order": 2,
            },
            {
                "key": "industrial",
                "codes": "อ.1-อ.2",
                "name_th": "อุตสาหกรรม",
                "name_en": "Industrial",
                "colour_name": "purple",
                "fill": "#800080",
                "stroke": "#400040",
                "sort_order": 3,
            },
        ],
    )
    ids["new"], ids["old"] = insert_features(
        conn,
        "zoning_plans",
        [
            {
                "name_th": "ผังเมืองรวมใหม่",
                "name_en": "New plan",
                "effective_date": date(2020, 1, 1),
            },
            {
                "name_th": "ผังเมืองรวมเก่า",
                "name_en": "Old plan",
                "effective_date": date(2015, 1, 1),
                "expiry_date": date(2020, 1, 1),
            },
        ],
    )
    ids["residential"], ids["rural"], ids["industrial"] = insert_features(
        conn,
        "zoning_zones",
        [
            _zone(ids["new"], "ย.2", "res_low", RESIDENTIAL),
            _zone(ids["new"], "ก.4", "rural_agri", RURAL),
            _zone(ids["old"], "อ.1", "industrial", OLD_INDUSTRIAL),
        ],
    )
    return ids


def _zone(plan, code, category, geom) -> dict:
    from shapely.geometry import MultiPolygon

    return {
        "plan_id": plan,
        "land_use_code": code,
        "category": category,
        "geom": MultiPolygon([geom]),
    }


def test_zoning_builds(conn):
    build_world(conn)
    assert len(build_zoning(conn)) == 5


# -- hazards: two overlapping high flood areas around A, a medium one around C, a landslide at B
def build_hazards(conn, ids: dict[str, int]) -> dict[str, int]:
    from shapely.geometry import MultiPolygon

    def area(name, kind, severity, geom):
        return {
            "name_th": name,
            "name_en": name,
            "hazard_type": kind,
            "severity": severity,
            "geom": MultiPolygon([geom]),
        }

    out = dict(
        zip(
            ["flood_a", "flood_a2", "flood_c", "slide_b"],
            insert_features(
                conn,
                "hazard_areas",
                [
                    area("flood A", "flood", "high", box(99.445, 18.295, 99.455, 18.303)),
                    area("flood A2", "flood", "high", box(99.445, 18.295, 99.455, 18.302)),
                    area("flood C", "flood", "medium", box(99.545, 18.295, 99.555, 18.305)),
                    area("slide B", "landslide", "low", box(99.459, 18.299, 99.461, 18.301)),
                ],
            ),
            strict=True,
        )
    )
    (out["bridge"],) = insert_features(
        conn,
        "bridges",
        [
            {
                "road_id": ids["R2"],
                "name_th": "สะพานซี",
                "name_en": "C bridge",
                "structure_type": "box_culvert",
                "material": "reinforced_concrete",
                "length_m": 12,
                "year_built": 1995,
                "geom": Point(99.550, 18.2973),
            }
        ],
    )
    return out


# -- maintenance: inspections and works --------------------------------------------------------
def build_maintenance(conn, ids: dict[str, int]) -> dict[str, int]:
    """Needs build_hazards (the culvert on R2). Latest conditions on 1 March 2026:
    R1 very poor (IRI 6.0; it was 2.0 in Jan 2024), R1b fair (3 of 5), R1c good (5 of 5),
    R2 poor (2 of 5), the culvert poor (NBI 4). W1 last inspected Jan 2024; W2 never."""

    def insp(asset, key, day, score, scale, method="visual"):
        return {
            asset: ids[key],
            "inspected_on": day,
            "condition_score": score,
            "condition_scale": scale,
            "method": method,
        }

    march = date(2026, 3, 1)
    insert_features(
        conn,
        "inspections",
        [
            insp("road_id", "R1", date(2024, 1, 1), 2.0, "iri_m_per_km", "iri_survey"),
            insp("road_id", "R1", march, 6.0, "iri_m_per_km", "iri_survey"),
            insp("road_id", "R1b", march, 3, "score_1_5"),
            insp("road_id", "R1c", march, 5, "score_1_5"),
            insp("road_id", "R2", march, 2, "score_1_5"),
            insp("bridge_id", "bridge", march, 4, "nbi_0_9", "detailed"),
            insp("water_source_id", "W1", date(2024, 1, 1), 4, "score_1_5"),
        ],
    )

    def work(asset, key, treatment, start, cost, body, status="completed", lgo=None):
        from gis_registry.fiscal import fiscal_year

        return {
            asset: ids[key],
            "treatment": treatment,
            "planned_start": start,
            "actual_start": start if status == "completed" else None,
            "actual_end": start if status == "completed" else None,
            "cost_thb": cost,
            "fiscal_year": fiscal_year(start),
            "funding_body": body,
            "funding_local_body_id": lgo,
            "status": status,
        }

    out = dict(
        zip(
            ["w_r1", "w_bridge", "w_r2"],
            insert_features(
                conn,
                "maintenance_works",
                [
                    # FY 2568 (1 Oct 2024 - 30 Sep 2025): 600,000 THB; FY 2569: 200,000 THB
                    work("road_id", "R1", "periodic", date(2024, 11, 1), 500_000, "pao"),
                    work(
                        "bridge_id",
                        "bridge",
                        "routine",
                        date(2025, 9, 30),
                        100_000,
                        "lgo",
                        lgo=ids["east"],
                    ),
                    work(
                        "road_id",
                        "R2",
                        "periodic",
                        date(2025, 10, 1),
                        200_000,
                        "lgo",
                        lgo=ids["east"],
                    ),
                ],
            ),
            strict=True,
        )
    )
    return out
