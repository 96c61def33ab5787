"""History from the first row (issue 17, problem 6): a demo load records its inserts (and a
reload its deletes), so ``items?at=`` before a feature existed does not show it, and a layer
read at any moment between loads and edits is the layer as it was then."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sqlalchemy import text

from tests.api.conftest import make_client

pytestmark = pytest.mark.db

LAYERS = ("roads", "bridges", "local_bodies", "districts")


def _now() -> str:
    """This moment as RFC 3339, a little after anything already committed."""
    time.sleep(0.01)
    moment = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.01)
    return moment


@pytest.fixture(scope="module")
def story(settings):
    """A registry that lived: empty at ``t0``, demo loaded (``t1``), one road renamed (``t2``),
    the demo loaded again (``t3``). Yields (client, moments, counts, the renamed road's id)."""
    from gis_registry.db import make_engine
    from gis_registry.db.migrate import upgrade
    from gis_registry.db.testing import create_test_database, drop_test_database
    from gis_registry.demo import load_demo
    from gis_registry.history import set_actor

    url = create_test_database(settings, suffix="_history_ins_test")
    engine = make_engine(settings, url=url)
    upgrade(engine)
    moments = {"t0": _now()}
    counts = load_demo(engine, seed=52, scale=0.2).counts
    moments["t1"] = _now()
    with engine.begin() as conn:
        set_actor(conn, "tester")
        road = conn.execute(
            text(
                "UPDATE roads SET name_en = 'Renamed after the load' "
                "WHERE id = (SELECT min(id) FROM roads) RETURNING id"
            )
        ).scalar_one()
    moments["t2"] = _now()
    load_demo(engine, seed=52, scale=0.2)
    moments["t3"] = _now()
    engine.dispose()
    try:
        with make_client(url) as client:
            yield client, moments, counts, road
    finally:
        drop_test_database(url)


def _as_of(client, layer: str, at: str) -> dict:
    r = client.get(f"/collections/{layer}/items", params={"at": at, "limit": 10_000})
    assert r.status_code == 200, r.text
    return r.json()


def test_nothing_before_the_first_load(story):
    client, moments, _, _ = story
    for layer in LAYERS:
        assert _as_of(client, layer, moments["t0"])["numberReturned"] == 0, layer


def test_each_moment_shows_the_layer_as_it_was(story):
    client, moments, counts, road = story
    for moment in ("t1", "t2", "t3"):
        for layer in LAYERS:
            got = _as_of(client, layer, moments[moment])["numberReturned"]
            assert got == counts[layer], (moment, layer)
        roads = _as_of(client, "roads", moments[moment])["features"]
        (renamed,) = [f for f in roads if f["id"] == road]
        # renamed between t1 and t2; the reload before t3 brought the demo's name back
        renamed_then = renamed["properties"]["name_en"] == "Renamed after the load"
        assert renamed_then == (moment == "t2"), moment


def test_a_demo_feature_history_starts_with_its_insert(story):
    client, _, _, road = story
    changes = client.get(f"/collections/roads/items/{road}/history").json()["changes"]
    assert [c["operation"] for c in changes] == ["insert", "update", "delete", "insert"]
    # the load says when, not what: until the update, the record was the row (whose copy the
    # update's before keeps)
    assert changes[0]["before"] is None and changes[0]["after"] is None
    assert changes[1]["before"]["id"] == road and changes[1]["before"]["name_en"]
    assert changes[2]["before"]["name_en"] == "Renamed after the load"


def test_a_load_with_no_insert_recorded_is_not_shown_before_it(demo_conn):
    """A registry loaded by an older version (no insert rows) and edited since: the edit's
    ``before`` is not shown at a moment before the row was created."""
    from gis_registry.history import layer_as_of

    demo_conn.execute(text("DELETE FROM feature_history WHERE layer = 'roads'"))
    road = demo_conn.execute(
        text(
            "UPDATE roads SET name_en = 'Edited' "
            "WHERE id = (SELECT min(id) FROM roads) RETURNING id"
        )
    ).scalar_one()
    created = demo_conn.execute(text("SELECT created_at FROM roads WHERE id = :id"), {"id": road})
    moment = created.scalar_one()
    assert layer_as_of(demo_conn, "roads", moment - dt.timedelta(seconds=1)) == []
    (then,) = [r for r in layer_as_of(demo_conn, "roads", moment) if r["id"] == road]
    assert then["name_en"] != "Edited"
