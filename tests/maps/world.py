"""A small province where every map answer is known (near Lampang city, 99.4-99.6 E, 18.2-18.4 N).

Two districts, the PAO and two LGOs (West SAO, East municipality), a river with two bridges on
two parallel roads (the route West -> East crosses bridge 1; closing it detours over bridge 2),
a spur road to a village over a third bridge (closing it cuts the village off), villages, water
sources, inspections, planned works, a flood area, and a zoning plan whose zones sit at known
places (``ZONES``) in known colours (``CATEGORIES``).
"""

from __future__ import annotations

from datetime import date

from shapely.geometry import LineString, Point, Polygon, box

from gis_registry.queries.features import insert_features

WEST = box(99.40, 18.20, 99.50, 18.40)
EAST = box(99.50, 18.20, 99.60, 18.40)
PROVINCE = box(99.40, 18.20, 99.60, 18.40)

# key, codes, Thai, English, colour name, fill, stroke, hatch
CATEGORIES = [
    (
        "res_low",
        "ย.1-ย.4",
        "ที่อยู่อาศัยหนาแน่นน้อย",
        "low-density residential",
        "yellow",
        "#ffff00",
        "#b3a000",
        None,
    ),
    (
        "res_med",
        "ย.5-ย.7",
        "ที่อยู่อาศัยหนาแน่นปานกลาง",
        "medium-density residential",
        "orange",
        "#ff9900",
        "#b36b00",
        None,
    ),
    (
        "res_high",
        "ย.8-ย.10",
        "ที่อยู่อาศัยหนาแน่นมาก",
        "high-density residential",
        "brown",
        "#996633",
        "#5c3d1f",
        None,
    ),
    (
        "res_cons",
        "-",
        "อนุรักษ์เพื่อการอยู่อาศัย",
        "residential conservation",
        "yellow, white hatch",
        "#ffff00",
        "#b3a000",
        "#ffffff",
    ),
    ("commercial", "พ.1-พ.5", "พาณิชยกรรม", "commercial", "red", "#ff0000", "#990000", None),
    ("industrial", "อ.1-อ.2", "อุตสาหกรรม", "industrial", "purple", "#800080", "#4d004d", None),
    (
        "rural_cons",
        "ก.1-ก.3",
        "อนุรักษ์ชนบทและเกษตรกรรม",
        "rural and agricultural conservation",
        "white, green hatch",
        "#ffffff",
        "#009900",
        "#009900",
    ),
    (
        "rural_agri",
        "ก.4",
        "ชนบทและเกษตรกรรม",
        "rural and agricultural",
        "green",
        "#00cc00",
        "#008000",
        None,
    ),
    (
        "government",
        "ส.",
        "สถาบันราชการ สาธารณูปโภคและสาธารณูปการ",
        "government, utilities and public facilities",
        "blue",
        "#0000ff",
        "#000099",
        None,
    ),
]
FILL = {c[0]: c[5] for c in CATEGORIES}
HATCHED = {c[0] for c in CATEGORIES if c[7]}

# zone land-use code, category, (minx, miny, maxx, maxy)
ZONES = [
    ("ย.2", "res_low", (99.41, 18.31, 99.44, 18.34)),
    ("พ.2", "commercial", (99.44, 18.31, 99.47, 18.34)),
    ("อ.1", "industrial", (99.51, 18.31, 99.54, 18.34)),
    ("ก.2", "rural_cons", (99.54, 18.31, 99.57, 18.34)),
    ("ก.4", "rural_agri", (99.41, 18.24, 99.44, 18.27)),
    ("ส.1", "government", (99.51, 18.24, 99.54, 18.27)),
    ("ย.อ.", "res_cons", (99.44, 18.24, 99.47, 18.27)),
]

NODES = {
    "n1": (99.42, 18.30),
    "n2": (99.46, 18.30),
    "n3": (99.50, 18.30),
    "n4": (99.56, 18.30),
    "n5": (99.46, 18.36),
    "n6": (99.50, 18.36),
    "n7": (99.56, 18.22),
}


def _line(*names: str) -> LineString:
    return LineString([NODES[n] for n in names])


def build_world(conn) -> dict[str, int]:
    ids: dict[str, int] = {}
    insert_features(
        conn,
        "districts",
        [
            {
                "code": "5201",
                "name_th": "เมืองลำปาง",
                "name_en": "Mueang Lampang",
                "office": Point(99.5043, 18.2919),
                "boundary": WEST,
            },
            {
                "code": "5210",
                "name_th": "แม่ทะ",
                "name_en": "Mae Tha",
                "office": Point(99.5131, 18.2342),
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
                "office": Point(99.502, 18.302),  # by node n3, east of the river
            },
            {
                "code": "520199",
                "seq": 99,
                "name_th": "องค์การบริหารส่วนตำบลตะวันตก",
                "name_en": "West SAO",
                "kind": "sao",
                "district_code": "5201",
                "boundary": WEST,
                "office": Point(*NODES["n1"]),
            },
            {
                "code": "521099",
                "seq": 98,
                "name_th": "เทศบาลตำบลตะวันออก",
                "name_en": "East Subdistrict Municipality",
                "kind": "subdistrict_municipality",
                "district_code": "5210",
                "boundary": EAST,
                "office": Point(*NODES["n4"]),
            },
        ],
    )
    villages = [
        ("52019901", 1, "บ้านตะวันตก", "Ban Tawan Tok", "west", 420, 140, (99.43, 18.29)),
        ("52019902", 2, "บ้านเหนือ", "Ban Nuea", "west", 300, 100, (99.49, 18.37)),
        ("52109801", 1, "บ้านตะวันออก", "Ban Tawan Ok", "east", 650, 210, (99.57, 18.29)),
        ("52109802", 2, "บ้านใต้", "Ban Tai", "east", 250, 80, NODES["n7"]),
    ]
    v_ids = insert_features(
        conn,
        "settlements",
        [
            {
                "village_code": code,
                "moo": moo,
                "name_th": th,
                "name_en": en,
                "local_body_id": ids[lgo],
                "population": pop,
                "households": hh,
                "geom": Point(*xy),
            }
            for code, moo, th, en, lgo, pop, hh, xy in villages
        ],
    )
    ids.update(dict(zip(["v_west", "v_north", "v_east", "v_south"], v_ids, strict=True)))
    ids["river"], ids["stream"] = insert_features(
        conn,
        "rivers",
        [
            {
                "name_th": "แม่น้ำวัง",
                "name_en": "Wang River",
                "geom": LineString([(99.48, 18.20), (99.48, 18.40)]),
            },
            {
                "name_th": "ห้วยแม่ตุ๋ย",
                "name_en": "Mae Tui stream",
                "geom": LineString([(99.52, 18.26), (99.60, 18.26)]),
            },
        ],
    )
    roads = [
        ("1035", "national", None, "DOH", "asphalt", 9.0, ("n1", "n2")),
        ("1035", "national", None, "DOH", "asphalt", 9.0, ("n2", "n3")),
        ("1035", "national", None, "DOH", "asphalt", 9.0, ("n3", "n4")),
        ("ลป.4007", "rural", None, "DRR", "asphalt", 6.0, ("n2", "n5")),
        ("ลป.4007", "rural", None, "DRR", "asphalt", 6.0, ("n5", "n6")),
        ("ลป.4007", "rural", None, "DRR", "asphalt", 6.0, ("n6", "n3")),
        ("ลป.ถ. 98-0001", "local", "east", None, "laterite", 4.0, ("n4", "n7")),
    ]
    road_ids = insert_features(
        conn,
        "roads",
        [
            {
                "code": code,
                "name_th": f"ถนน {code}",
                "name_en": f"Road {code}",
                "road_class": cls,
                "owner_local_body_id": ids[owner] if owner else None,
                "owner_agency": agency,
                "surface": surface,
                "width_m": width,
                "lanes": 2,
                "year_built": 2005,
                "geom": _line(*nodes),
            }
            for code, cls, owner, agency, surface, width, nodes in roads
        ],
    )
    ids.update({f"road{i + 1}": rid for i, rid in enumerate(road_ids)})
    bridges = [
        ("road2", "สะพานวัง 1", "Wang bridge 1", "river", (99.48, 18.30)),
        ("road5", "สะพานวัง 2", "Wang bridge 2", "river", (99.48, 18.36)),
        ("road7", "สะพานแม่ตุ๋ย", "Mae Tui bridge", "stream", (99.56, 18.26)),
    ]
    b_ids = insert_features(
        conn,
        "bridges",
        [
            {
                "road_id": ids[road],
                "name_th": th,
                "name_en": en,
                "structure_type": "girder",
                "material": "reinforced_concrete",
                "length_m": 40,
                "spans": 2,
                "load_limit_t": 18,
                "river_id": ids[river],
                "year_built": 1995,
                "geom": Point(*xy),
            }
            for road, th, en, river, xy in bridges
        ],
    )
    ids.update({f"bridge{i + 1}": bid for i, bid in enumerate(b_ids)})
    # water sources are stored by geometry type (points, areas); maps read them all together
    (ids["well"],) = insert_features(
        conn,
        "water_points",
        [
            {
                "name_th": "บ่อบาดาลหมู่ 1",
                "name_en": "Moo 1 groundwater well",
                "kind": "groundwater_well",
                "households_served": 80,
                "owner_local_body_id": ids["west"],
                "geom": Point(99.432, 18.292),
            },
        ],
    )
    (ids["pond"],) = insert_features(
        conn,
        "water_areas",
        [
            {
                "name_th": "หนองน้ำ",
                "name_en": "Nong pond",
                "kind": "pond",
                "capacity_m3": 20000,
                "owner_local_body_id": ids["west"],
                "geom": box(99.485, 18.372, 99.492, 18.378),
            },
        ],
    )
    insert_features(
        conn,
        "inspections",
        [
            {
                "road_id": ids["road1"],
                "inspected_on": date(2025, 3, 1),
                "condition_score": 2.1,
                "condition_scale": "iri_m_per_km",
                "method": "iri_survey",
            },
            {
                "road_id": ids["road2"],
                "inspected_on": date(2025, 3, 1),
                "condition_score": 6.5,
                "condition_scale": "iri_m_per_km",
                "method": "iri_survey",
            },
            {
                "road_id": ids["road7"],
                "inspected_on": date(2024, 11, 5),
                "condition_score": 2,
                "condition_scale": "score_1_5",
            },
            {
                "road_id": ids["road7"],
                "inspected_on": date(2023, 11, 5),
                "condition_score": 4,
                "condition_scale": "score_1_5",
            },
            {
                "bridge_id": ids["bridge1"],
                "inspected_on": date(2025, 1, 10),
                "condition_score": 3,
                "condition_scale": "nbi_0_9",
                "method": "detailed",
            },
            {
                "bridge_id": ids["bridge2"],
                "inspected_on": date(2025, 1, 10),
                "condition_score": 8,
                "condition_scale": "nbi_0_9",
            },
        ],
    )
    insert_features(
        conn,
        "maintenance_works",
        [
            {
                "road_id": ids["road2"],
                "treatment": "rehabilitation",
                "description": "ซ่อมสร้างผิวทาง",
                "planned_start": date(2025, 11, 1),
                "cost_thb": 4_500_000,
                "fiscal_year": 2569,
                "funding_body": "doh",
                "status": "planned",
            },
            {
                "bridge_id": ids["bridge1"],
                "treatment": "periodic",
                "description": "ซ่อมแซมคานสะพาน",
                "planned_start": date(2026, 2, 1),
                "cost_thb": 1_200_000,
                "fiscal_year": 2569,
                "funding_body": "pao",
                "funding_local_body_id": ids["pao"],
                "status": "approved",
            },
        ],
    )
    (ids["flood"],) = insert_features(
        conn,
        "hazard_areas",
        [
            {
                "name_th": "พื้นที่น้ำท่วมริมแม่น้ำวัง",
                "name_en": "Wang riverside flood area",
                "hazard_type": "flood",
                "severity": "high",
                "source": "test",
                "geom": Polygon([(99.47, 18.20), (99.49, 18.20), (99.49, 18.40), (99.47, 18.40)]),
            },
        ],
    )
    # the world brings its own palette (migrate seeds the DPT categories)
    conn.exec_driver_sql("DELETE FROM zoning_categories")
    insert_features(
        conn,
        "zoning_categories",
        [
            {
                "key": k,
                "codes": codes,
                "name_th": th,
                "name_en": en,
                "colour_name": colour,
                "fill": fill,
                "stroke": stroke,
                "hatch": hatch,
                "sort_order": i,
            }
            for i, (k, codes, th, en, colour, fill, stroke, hatch) in enumerate(CATEGORIES)
        ],
    )
    (ids["plan"],) = insert_features(
        conn,
        "zoning_plans",
        [
            {
                "name_th": "ผังเมืองรวมเมืองทดสอบ พ.ศ. 2568",
                "name_en": "Test town plan 2025",
                "effective_date": date(2025, 6, 1),
                "expiry_date": date(2030, 6, 1),
            },
        ],
    )
    zone_ids = insert_features(
        conn,
        "zoning_zones",
        [
            {"plan_id": ids["plan"], "land_use_code": code, "category": cat, "geom": box(*b)}
            for code, cat, b in ZONES
        ],
    )
    ids.update({f"zone{i + 1}": zid for i, zid in enumerate(zone_ids)})
    return ids
