"""The deterministic Lampang demo province: ``plan_demo`` builds it, ``load_demo`` loads it.

The demo is built on real facts (``demo/data``: the real province, district and tambon
boundaries, the district offices, the 103 LGOs, the Wang and its tributaries, the national
highways' corridors, the Kiew Lom and Kiew Kho Ma dams, the DPT zoning palette) and fills in the
rest plausibly: LGO areas drawn from the tambons, villages, a noded road network with bridges
at every river crossing, water sources, the Lampang city plan, hazard areas, and five fiscal
years of inspections and works. Three weak links are planted on
purpose: bridges that are the only road to some villages (and, in one case, an LGO office).
"""

from gis_registry.demo.load import check_replaceable, load_demo, load_plan, registry_is_empty
from gis_registry.demo.model import DemoPlan, DemoReport, WeakLink
from gis_registry.demo.plan import plan_demo

__all__ = [
    "DemoPlan",
    "DemoReport",
    "WeakLink",
    "check_replaceable",
    "load_demo",
    "load_plan",
    "plan_demo",
    "registry_is_empty",
]
